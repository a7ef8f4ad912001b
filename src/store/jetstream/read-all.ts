/** readAll() on JetStream: every run's events, whole, in one pass over the stream. */
import { DeliverPolicy } from './nats-lib.js';
import type { EventEnvelope } from '../../events/index.js';
import { StoreError, permissionDenied } from '../../errors/index.js';
import type { CorruptRunHandler, RunEvents } from '../port.js';
import { reportCorrupt } from '../common.js';
import { decodeNextCommit, isArchiveMarker, isSubjectToken, parseRunSubject, toStoreError } from './codec.js';
import type { Conn, JetStreamLink } from './connection.js';
import type { ResolvedOptions } from './options.js';
import { scanMessages } from './scan.js';
import { readEachRun, runIdsOnStream } from './gets-only.js';

/**
 * One pass over the stream instead of a consumer per run. First the last message of each run's subject (a
 * last-per-subject consumer, headers only): where each run ends as of now. Then every message in stream order, each
 * run's commits gathered until its last one passes, when the run is handed out and forgotten, so memory holds only runs
 * still being read. Messages appended after the first pass are left out (a run is read as it was then). A user that may
 * make no consumer (a person's: connection.ts, getsOnly) reads run by run instead (gets-only.ts).
 */
export async function* readAllRuns(
  link: JetStreamLink,
  o: ResolvedOptions,
  filter: { workflowId?: string } & CorruptRunHandler,
  /** One run read as the store reads it: what a user that may make no consumer reads each run with (gets-only.ts). */
  read: (runId: string) => Promise<EventEnvelope[]>,
): AsyncIterable<RunEvents> {
  const { workflowId } = filter;
  if (workflowId !== undefined && !isSubjectToken(workflowId)) return;
  const meta = { stream: o.stream };
  const filter_subject = `${o.subjectPrefix}.${workflowId ?? '*'}.*`;
  let c: Conn;
  const ends = new Map<string, number>();
  try {
    c = await link.ready();
  } catch (err) {
    throw toStoreError(err, 'read all runs', meta);
  }
  try {
    if (!link.getsOnly)
      for await (const m of scanMessages(link, o, c, 'read all runs', {
        filter_subject,
        deliver_policy: DeliverPolicy.LastPerSubject,
        headers_only: true,
      }))
        ends.set(m.subject, m.seq);
  } catch (err) {
    if (permissionDenied(err) === null) throw toStoreError(err, 'read all runs: find where each run ends', meta);
    link.getsOnly = true; // a person's user (connection.ts)
  }
  if (link.getsOnly) {
    let ids: string[];
    try {
      ids = await runIdsOnStream(link, o, c, filter_subject);
    } catch (err) {
      throw toStoreError(err, 'read all runs: list them', meta);
    }
    return yield* readEachRun(ids, read, filter);
  }
  if (ends.size === 0) return;
  // `archived`: an archive's marker was read (compare-purge.ts); the run's messages before it are gone, none after is its.
  const open = new Map<
    string,
    { runId: string; events: EventEnvelope[]; prev: number | null; corrupt?: true; archived?: true }
  >();
  try {
    for await (const m of scanMessages(link, o, c, 'read all runs', {
      filter_subject,
      deliver_policy: DeliverPolicy.All,
    })) {
      const end = ends.get(m.subject);
      if (end === undefined || m.seq > end) continue; // a run started, or a commit appended, after the first pass
      let run = open.get(m.subject);
      if (!run) {
        const ids = parseRunSubject(o.subjectPrefix, m.subject);
        if (!ids) continue;
        open.set(m.subject, (run = { runId: ids.runId, events: [], prev: null }));
      }
      if (!run.archived && isArchiveMarker(m.data)) {
        run.archived = true;
        run.events = [];
      }
      if (!run.corrupt && !run.archived) {
        try {
          const commit = decodeNextCommit(
            m.data,
            run.runId,
            { stream: o.stream, seq: m.seq, subject: m.subject },
            run.prev,
          );
          if (commit) {
            // else it lost a race to an earlier commit (codec.ts)
            run.prev = commit.events[commit.events.length - 1]!.seq;
            for (const e of commit.events) run.events.push(e);
          }
        } catch (err) {
          if (!reportCorrupt(err, filter)) throw err;
          // Reported; the rest of this run's messages are passed over, the other runs still read.
          run.corrupt = true;
          run.events = [];
        }
      }
      if (m.seq === end) {
        open.delete(m.subject);
        if (!run.corrupt && !run.archived) yield { runId: run.runId, events: run.events };
      }
    }
  } catch (err) {
    throw toStoreError(err, 'read all runs', meta);
  }
  for (const [subject, run] of open) {
    throw new StoreError(
      `read all runs: the last commit of run ${run.runId} (stream sequence ${ends.get(subject)}) was not delivered (removed meanwhile?); read again`,
      { ...meta, runId: run.runId },
    );
  }
}
