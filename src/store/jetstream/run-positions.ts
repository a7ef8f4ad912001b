/**
 * Where each run's subject ended when the store last saw it: the per-run cache that maps the port's event seqs onto
 * stream seqs (store.ts). A hint only, bounded (least recently remembered evicted first) and refreshed from the server
 * whenever it disagrees. Its own file because the store, its follow() and its race checks (append-races.ts) all consult
 * it.
 */
import { trimOldest } from '../../bounded.js';

/** Where a run's subject ended when last seen. A hint only: refreshed from the server whenever it disagrees. */
export interface RunPos {
  subject: string;
  lastStreamSeq: number;
  lastEventSeq: number;
  /** Seq of the first event of the run's last commit: 1 when the run is one commit (e.g. just started). */
  lastFirstSeq: number;
}

export class RunPositions {
  private readonly runs = new Map<string, RunPos>();

  constructor(private readonly cacheSize: number) {}

  get(runId: string): RunPos | undefined {
    return this.runs.get(runId);
  }

  /** Drops what is known of the run: the next look asks the server. */
  forget(runId: string): void {
    this.runs.delete(runId);
  }

  /** Updates the cache: `force` for what was just read from the server, else only forward (never back to an older position). */
  remember(runId: string, pos: RunPos, force: boolean): void {
    const cur = this.runs.get(runId);
    if (!force && cur && cur.subject === pos.subject && cur.lastStreamSeq >= pos.lastStreamSeq) return;
    // Re-inserted, so that Map order makes the least recently remembered entry the first to evict; while
    // the cache is at most half full an update keeps its place instead (a delete and an insert into a
    // growing table per append were ~2% of an in-process engine's CPU). Nothing is evicted before the
    // cache is full, and every update past half full moves to the end, so eviction order is still
    // least recently remembered first but among entries last remembered before the cache was half full.
    if (!cur || this.runs.size > this.cacheSize / 2) this.runs.delete(runId);
    this.runs.set(runId, pos);
    trimOldest(this.runs, this.cacheSize);
  }
}

/**
 * Where a read of a run from event `from` starts on the stream: at the position given (a snapshot's: the commit holding
 * `from`, or an earlier one of the run), or, reading on from the event after the last this instance saw of the run (the
 * run page asking again: server/viewed-runs.ts), at the commit that held that one; undefined: at the run's first. Not on
 * a replicated stream: there only the walk from the first tells a commit that lost a race apart.
 */
export function readStart(
  from: number,
  known: RunPos | undefined,
  fromPosition: number | undefined,
  replicated: boolean,
): number | undefined {
  if (fromPosition && fromPosition > 0) return fromPosition;
  return from > 1 && !replicated && known?.lastEventSeq === from - 1 ? known.lastStreamSeq : undefined;
}
