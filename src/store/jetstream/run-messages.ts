/**
 * Looking a run's messages up in the stream: one message by direct get, and a run's messages in order (by direct
 * requests, then one consumer for a long run). Apart from store.ts because reading, appending and the race checks
 * (append-races.ts) all read messages this way.
 */
import { DeliverPolicy, apiPrefix } from './nats-lib.js';
import { permissionDenied } from '../../errors/index.js';
import { ERR_NO_MESSAGE_FOUND, apiErrorCode, isArchiveMarker } from './codec.js';
import type { Conn, JetStreamLink } from './connection.js';
import type { ResolvedOptions } from './options.js';
import type { GotMessage } from './publisher.js';
import { scanMessages } from './scan.js';

/** Commits a read fetches one request each before it makes a consumer for the rest (see runMessages). */
const WALK_LIMIT = 16;

/** The message `query` names; null when there is none. */
export async function getMessage(
  link: JetStreamLink,
  o: ResolvedOptions,
  c: Conn,
  query: { seq: number } | { last_by_subj: string } | { next_by_subj: string; seq: number },
  deadline: number,
): Promise<GotMessage | null> {
  try {
    // On the publisher's reply subscription (publisher.ts): it times out by itself, and fails with ReplyLostError on a reconnection.
    return await link.call(
      'get message',
      deadline,
      (timeoutMs) => c.pub.get(apiPrefix(c.nc), o.stream, query, timeoutMs),
      undefined,
      { honoursTimeout: true },
    );
  } catch (err) {
    if (apiErrorCode(err) === ERR_NO_MESSAGE_FOUND) return null;
    throw err;
  }
}

/**
 * A run's messages from stream sequence `fromStreamSeq` on, in order, each once. The first WALK_LIMIT by direct
 * requests to the stream's leader (`next_by_subj`), which need no consumer: most runs end within them. A consumer per
 * read was the only way before, and on a cluster that lost a node nats-server 2.9 places about one in three of those
 * (R1) on the dead node, where the create waits out its timeout. Longer runs go on with one consumer from where the
 * walk stopped (a request per commit would be slower); its deliveries are checked to move forward by stream sequence,
 * so a message delivered again (a consumer reset) is skipped, never read as a second commit. An archive's marker
 * (compare-purge.ts) ends them: the run's messages before it are gone to the archive, and none after it is the run's.
 * A user that may make no consumer (a person's: connection.ts, getsOnly) walks by requests to the end.
 */
export async function* runMessages(
  link: JetStreamLink,
  o: ResolvedOptions,
  c: Conn,
  runId: string,
  subject: string,
  fromStreamSeq: number,
  deadline: number,
  /** Told when the walk stops at an archive's marker (compare-purge.ts): the run is moving to the archive. */
  onMarker?: () => void,
): AsyncIterable<{ seq: number; subject: string; data: Uint8Array }> {
  let next = fromStreamSeq;
  for (let i = 0; i < WALK_LIMIT; i++) {
    const m = await getMessage(link, o, c, { next_by_subj: subject, seq: next }, deadline);
    if (!m) return;
    if (isArchiveMarker(m.data)) return onMarker?.();
    subject = m.subject; // a wildcard (run not in the cache) narrows to the run's subject once found
    next = m.seq + 1;
    yield m;
  }
  if (!link.getsOnly) {
    try {
      for await (const m of scanMessages(link, o, c, `read run ${runId}`, {
        filter_subject: subject,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: next,
      })) {
        if (m.seq < next) continue; // delivered again
        if (isArchiveMarker(m.data)) return onMarker?.();
        next = m.seq + 1;
        yield m;
      }
      return;
    } catch (err) {
      if (permissionDenied(err) === null) throw err;
      link.getsOnly = true; // a person's user (connection.ts): the walk goes on from where it got to
    }
  }
  for (;;) {
    // Each request its own deadline: a long run is many of them, no one operation.
    const m = await getMessage(link, o, c, { next_by_subj: subject, seq: next }, link.deadline());
    if (!m) return;
    if (isArchiveMarker(m.data)) return onMarker?.();
    next = m.seq + 1;
    yield m;
  }
}
