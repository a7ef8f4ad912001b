/**
 * Every run's events for a reader whose user may make no consumer on the log (a person's: connection.ts, getsOnly).
 * The runs are the stream's subjects, which its info lists (`subjects_filter`, paged by the client: one request per
 * 100,000 or so), each then read as `read` reads one run, by message gets. Slower than read-all.ts's two passes on a
 * large log, and the same answer; it asks the server for nothing a person's nats.conf lines do not grant.
 */
import type { EventEnvelope } from '../../events/index.js';
import type { CorruptRunHandler, RunEvents } from '../port.js';
import { reportCorrupt } from '../common.js';
import { parseRunSubject } from './codec.js';
import type { Conn, JetStreamLink } from './connection.js';
import type { ResolvedOptions } from './options.js';

/** Runs read at once: as the run index reads the runs its bucket lacks (query/jetstream-index.ts). */
const READ_BATCH = 16;

/** The run ids whose subjects match `filter_subject` (`<prefix>.<workflow or *>.*`), from the stream's info. */
export async function runIdsOnStream(
  link: JetStreamLink,
  o: ResolvedOptions,
  c: Conn,
  filter_subject: string,
): Promise<string[]> {
  const info = await link.call('list the runs', link.deadline(), () =>
    c.jsm.streams.info(o.stream, { subjects_filter: filter_subject }),
  );
  const ids: string[] = [];
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const parsed = parseRunSubject(o.subjectPrefix, subject);
    if (parsed) ids.push(parsed.runId);
  }
  return ids.sort();
}

/** Each run of `ids` read with `read`, READ_BATCH at a time; a run found empty (archived meanwhile) is left out. */
export async function* readEachRun(
  ids: readonly string[],
  read: (runId: string) => Promise<EventEnvelope[]>,
  filter: CorruptRunHandler,
): AsyncIterable<RunEvents> {
  for (let i = 0; i < ids.length; i += READ_BATCH) {
    const batch = await Promise.all(
      ids.slice(i, i + READ_BATCH).map(async (runId) => {
        try {
          return { runId, events: await read(runId) };
        } catch (err) {
          if (!reportCorrupt(err, filter)) throw err;
          return null; // reported; the other runs are still read
        }
      }),
    );
    for (const run of batch) if (run && run.events.length > 0) yield run;
  }
}
