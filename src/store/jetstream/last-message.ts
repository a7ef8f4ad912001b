/**
 * A run's last message on its subject, fetched by direct get: its position (the store's append and lastSeq look
 * it up when the cache is stale or empty) and, when it is the run's first commit, the whole run (a read's fast
 * path). The lookups of store.ts that go around its per-run cache (run-positions.ts).
 */
import type { EventEnvelope } from '../../events/index.js';
import { trimOldest } from '../../bounded.js';
import type { RaceContext } from './append-races.js';
import { anyRunSubject, decodeCommit, isArchiveMarker } from './codec.js';
import type { Conn } from './connection.js';
import { getMessage } from './run-messages.js';
import type { RunPos } from './run-positions.js';

/** First commits kept for a runs index (FirstCommits.keep): it is delivered them within a pull pause of their read. */
const FIRST_COMMITS_KEPT = 1024;

/**
 * Runs' first commits read here, by stream sequence, for a runs index that takes them (the store's firstCommits):
 * kept only while `keeping()` (the index's projection pulls; one standing by would leave them all untaken).
 */
export class FirstCommits {
  private readonly kept = new Map<number, { runId: string; events: EventEnvelope[] }>();
  private keeping: () => boolean = () => false;

  keep(keeping: () => boolean): void {
    this.keeping = keeping;
  }

  /** Kept now (the read's), or null; emptied when keeping stopped. */
  now(): FirstCommits | null {
    if (this.keeping()) return this;
    this.kept.clear();
    return null;
  }

  put(position: number, runId: string, events: EventEnvelope[]): void {
    this.kept.set(position, { runId, events });
    trimOldest(this.kept, FIRST_COMMITS_KEPT);
  }

  /** The events of run `runId`'s first commit, when it was read here at stream sequence `position` (once). */
  take(position: number, runId: string): EventEnvelope[] | undefined {
    const kept = this.kept.get(position);
    if (!kept) return undefined;
    this.kept.delete(position);
    return kept.runId === runId ? kept.events : undefined;
  }
}

/** The run's position from its subject's last message (not the cache); undefined when it has none. */
export async function lastPosition(
  ctx: RaceContext,
  c: Conn,
  runId: string,
  deadline: number,
): Promise<RunPos | undefined> {
  const m = await getMessage(
    ctx.link,
    ctx.o,
    c,
    { last_by_subj: ctx.positions.get(runId)?.subject ?? anyRunSubject(ctx.o.subjectPrefix, runId) },
    deadline,
  );
  // A marker: the run is being moved to the archive (compare-purge.ts), nothing of it is live.
  if (!m || isArchiveMarker(m.data)) {
    ctx.positions.forget(runId);
    return undefined;
  }
  const commit = decodeCommit(m.data, runId, { stream: ctx.o.stream, seq: m.seq, subject: m.subject }, null);
  const pos = {
    subject: m.subject,
    lastStreamSeq: m.seq,
    lastEventSeq: commit.events[commit.events.length - 1]!.seq,
    lastFirstSeq: commit.events[0]!.seq,
  };
  ctx.positions.remember(runId, pos, true);
  return pos;
}

/**
 * The run's events when its subject's last message, fetched now, is its
 * first commit (so its only one); undefined when the run has grown since.
 */
export async function readSingleCommit(
  ctx: RaceContext,
  firstCommits: FirstCommits | null,
  c: Conn,
  runId: string,
  subject: string,
  from: number,
  to: number,
  deadline: number,
): Promise<EventEnvelope[] | undefined> {
  const m = await getMessage(ctx.link, ctx.o, c, { last_by_subj: subject }, deadline);
  if (!m || isArchiveMarker(m.data)) {
    ctx.positions.forget(runId);
    return []; // removed meanwhile (or moving to the archive): what a consumer would find too
  }
  const commit = decodeCommit(m.data, runId, { stream: ctx.o.stream, seq: m.seq, subject: m.subject }, null);
  const first = commit.events[0]!.seq;
  const lastEventSeq = commit.events[commit.events.length - 1]!.seq;
  ctx.positions.remember(runId, { subject: m.subject, lastStreamSeq: m.seq, lastEventSeq, lastFirstSeq: first }, true);
  if (first !== 1) return undefined;
  firstCommits?.put(m.seq, runId, commit.events);
  return commit.events.filter((e) => e.seq >= from && e.seq <= to);
}
