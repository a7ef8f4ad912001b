/**
 * An append's checks for races on a replicated stream, where nats-server checks a subject's expected last sequence
 * before replicating, not atomically, so two appends with one expectation can both be stored (codec.ts,
 * decodeNextCommit): whether ours is the commit readers take, and what a duplicate reply's original was. Apart from
 * store.ts because only an append that may have raced needs them.
 */
import type { GotMessage } from './publisher.js';
import { AppendConflictError, type LedgerflowError, RunArchivedError, StoreError } from '../../errors/index.js';
import type { AppendResult } from '../port.js';
import {
  ERR_WRONG_LAST_SEQUENCE,
  apiErrorCode,
  commitHeaderFields,
  decodeCommit,
  decodeNextCommit,
  isArchiveMarker,
  parseRunSubject,
} from './codec.js';
import type { Conn, JetStreamLink } from './connection.js';
import type { ResolvedOptions } from './options.js';
import { getMessage, runMessages } from './run-messages.js';
import type { RunPositions } from './run-positions.js';

/** What the checks read and write: the store's link, options and run positions. */
export interface RaceContext {
  readonly link: JetStreamLink;
  readonly o: ResolvedOptions;
  readonly positions: RunPositions;
}

/**
 * On a replicated stream, whether the commit just stored at `seq` with the expectation `after` (the subject's last
 * message then; the run's history ended at event seq `expectedSeq`) is one readers take: nats-server checks the
 * expectation before replicating, not atomically (codec.ts, decodeNextCommit), so two engines acting on one run across
 * a leader change can both be stored. Readers take the first commit in stream order that continues the history; one
 * between `after` and ours that does means ours lost, and the caller gets the conflict it would have had on a single
 * server. Ours stays in the log (2.9's file store loses a subject's last sequence when its last message is deleted), so
 * a copy of the history's last commit is put after it, which readers skip too: the subject's last message again ends
 * where the history does, for the next append's expectation and lookup. Usually no request at all (ours follows `after`
 * directly) or one (the next message after `after` is ours).
 */
export async function checkWon(
  { link, o, positions }: RaceContext,
  c: Conn,
  runId: string,
  subject: string,
  after: number,
  seq: number,
  expectedSeq: number,
  deadline: number,
): Promise<void> {
  let chain = expectedSeq;
  let winner: GotMessage | undefined;
  for (let next = after + 1; next < seq; ) {
    const m = await getMessage(link, o, c, { next_by_subj: subject, seq: next }, deadline);
    if (!m || m.seq >= seq) break;
    next = m.seq + 1;
    if (isArchiveMarker(m.data)) {
      // The run was moved to the archive first (compare-purge.ts rolls its marker up over ours): nothing of it is live.
      positions.forget(runId);
      throw new AppendConflictError(runId, expectedSeq, 0);
    }
    const commit = decodeNextCommit(m.data, runId, { stream: o.stream, seq: m.seq, subject }, chain);
    if (!commit) continue; // itself a loser (or a copy), skipped by readers
    chain = commit.events[commit.events.length - 1]!.seq;
    winner = m;
  }
  if (!winner) return;
  positions.forget(runId);
  const w = decodeCommit(winner.data, runId, { stream: o.stream, seq: winner.seq, subject }, null);
  const hdrs = commitHeaderFields(runId, w.events[0]!.seq, w.events[w.events.length - 1]!.seq);
  try {
    // Only while ours is still the subject's last message: a later append has done the same already.
    await link.call(
      "copy the history's end after a commit that lost a race",
      deadline,
      (timeoutMs) =>
        c.pub.publish(subject, winner.data, {
          msgID: `${runId}/copy-of-${winner.seq}-after-${seq}`,
          headers: hdrs,
          lastSubjectSequence: seq,
          timeoutMs,
        }),
      undefined,
      { honoursTimeout: true },
    );
  } catch (err) {
    if (apiErrorCode(err) !== ERR_WRONG_LAST_SEQUENCE) throw err;
  }
  throw new AppendConflictError(runId, expectedSeq, chain);
}

/**
 * The error for an append that expected the run at `expectedSeq` and found it at `actual`: a run with nothing live that
 * the archive holds was moved there while the commit was decided (RunArchivedError: retrying it cannot succeed), any
 * other a conflict to reload on. The archive is asked only then (a failed look leaves it a conflict).
 */
export async function lostTo(
  archive: { find(runId: string): Promise<unknown> },
  runId: string,
  expectedSeq: number,
  actual: number,
): Promise<LedgerflowError> {
  if (actual === 0 && expectedSeq > 0 && (await archive.find(runId).catch(() => null)))
    return new RunArchivedError(runId, expectedSeq);
  return new AppendConflictError(runId, expectedSeq, actual);
}

/** Whether readers take the commit at stream sequence `seq` as the run's history (a retry's original may have lost a race: checkWon). */
async function taken(
  { link, o }: RaceContext,
  c: Conn,
  runId: string,
  subject: string,
  seq: number,
  deadline: number,
): Promise<boolean> {
  let prev: number | null = null;
  for await (const m of runMessages(link, o, c, runId, subject, 1, deadline)) {
    const commit = decodeNextCommit(m.data, runId, { stream: o.stream, seq: m.seq, subject }, prev);
    if (m.seq >= seq) return m.seq === seq && commit !== null;
    if (commit) prev = commit.events[commit.events.length - 1]!.seq;
  }
  return false;
}

/** The result of the append a duplicate reply points at, checked to be this run's commit with this dedup id. */
export async function original(
  race: RaceContext,
  c: Conn,
  runId: string,
  dedupId: string,
  seq: number,
  deadline: number,
  lostReply: boolean,
): Promise<AppendResult> {
  const { link, o } = race;
  const m = await getMessage(link, o, c, { seq }, deadline);
  if (!m)
    throw new StoreError(`append to run ${runId}: duplicate of message ${seq}, which no longer exists`, { runId, seq });
  const commit = decodeCommit(m.data, runId, { stream: o.stream, seq, subject: m.subject }, null);
  if (commit.dedupId !== dedupId || parseRunSubject(o.subjectPrefix, m.subject)?.runId !== runId) {
    throw new StoreError(
      `append to run ${runId}: the server calls dedup id ${dedupId} a duplicate of message ${seq}, which holds another commit`,
      { runId, dedupId, seq },
    );
  }
  const firstSeq = commit.events[0]!.seq;
  if (c.replicated && !(await taken(race, c, runId, m.subject, seq, deadline)))
    throw new AppendConflictError(runId, firstSeq - 1, firstSeq);
  // After an attempt whose reply was lost, the duplicate is that attempt's own write: this call did write.
  return { firstSeq, lastSeq: firstSeq + commit.events.length - 1, duplicate: !lostReply, position: seq };
}
