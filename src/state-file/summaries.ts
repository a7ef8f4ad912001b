/**
 * The runs the state file shows, kept between writes (RunSummaries): every run not settled and the newest `keep`
 * settled, from the store's run summaries, read again only where they may have changed.
 */
import { SETTLED_STATUSES } from '../events/index.js';
import { summarize } from '../store/common.js';
import type { EventEnvelope } from '../events/index.js';
import type { EventStore, RunSummary } from '../store/index.js';

/** How many settled runs the file keeps unless told (`--state-file-keep`). */
export const DEFAULT_KEEP = 50;

/** Run summaries a write reads at once (see RunSummaries.current). */
const READ_AT_ONCE = 4;

/** A store that can list its run ids and read one run's summary (the file store): the live writer then reads only what may have changed. */
interface ListingStore {
  runIds(): Promise<string[]>;
  summary(runId: string): Promise<RunSummary | null>;
  /** The span of this process's holds of the store's writer lock (group-commit.ts: soleSpan), -1 when it holds none: within one, no other process writes. */
  soleWriterSpan?(): number;
}

function listing(store: EventStore): ListingStore | null {
  const s = store as Partial<ListingStore>;
  return typeof s.runIds === 'function' && typeof s.summary === 'function' ? (s as ListingStore) : null;
}

/**
 * The runs the file shows, kept between writes: a settled run never changes, so after the first listing a write reads
 * the summaries of new runs and of runs not settled only (not a stat of every run of a store that has thousands), and
 * the newest settled are kept in order as they come (not every settled run sorted at every write). A write costs what
 * changed since the last, whatever the size of the store. Stores without a cheap listing are listed whole each time.
 */
export class RunSummaries {
  private readonly known = new Map<string, RunSummary>();
  /** Settled runs known by id only (seed): not among the newest, so not read; a ranking that needs them lists all. */
  private readonly unread = new Set<string>();
  /** Runs not settled (their summaries change): shown whatever their age. */
  private readonly going = new Set<string>();
  /** The newest settled runs, newest first, `keep` at most. */
  private newest: RunSummary[] = [];
  private keep = DEFAULT_KEEP;
  private listed = false;
  /** Runs whose run.started this process appended: their summary follows their commits (observe), no file read. */
  private readonly firsts = new Map<string, EventEnvelope>();
  /** The last event of runs going on, committed since the last write: summarized when a write asks (shown), not per commit. */
  private readonly lasts = new Map<string, EventEnvelope>();

  /** The span of the store writer's holds in which the runs were last listed (see `shown`); -1: none. */
  private listedSpan = -1;

  /** `dropped`: told of a settled run that is no longer among the newest shown (what was kept for it can go). */
  constructor(private readonly dropped?: (runId: string) => void) {}

  /**
   * Starts from what a whole write of the file showed (`shown`: its runs not settled and newest settled, keeping `keep`)
   * when the store is known unchanged since (state-file/mark.ts), with `ids` every run of the store listed after that
   * was known: the others are settled and older than the newest, so no run's log is read to know them.
   */
  seed(ids: readonly string[], shown: readonly RunSummary[], keep: number): void {
    this.known.clear();
    this.going.clear();
    this.unread.clear();
    this.newest = [];
    this.keep = keep;
    for (const id of ids) this.unread.add(id);
    for (const r of shown) if (this.unread.delete(r.runId)) this.set(r);
    this.listed = true;
    this.listedSpan = -1;
  }

  /** The runs the last write showed (what `shown` returned), for a record of it (seed). */
  lastShown(): RunSummary[] {
    return [...[...this.going].map((id) => this.known.get(id)!), ...this.newest];
  }

  /** A commit this process made: the run's summary from its first and last events (a store's summarize). */
  observe(events: readonly EventEnvelope[]): void {
    const last = events.at(-1);
    if (!last) return;
    if (events[0]!.type === 'run.started') this.firsts.set(last.runId, events[0]!);
    const first = this.firsts.get(last.runId);
    if (!first) return;
    if (!SETTLED_STATUSES.includes(last.state.status)) {
      this.lasts.set(last.runId, last);
      return;
    }
    // Settled: ranked among the newest now (a run that settles between two writes may never be shown).
    this.firsts.delete(last.runId);
    this.lasts.delete(last.runId);
    this.set(summarize(first, last));
  }

  /** The summaries of the runs going on that committed since the last write. */
  private summarizeLasts(): void {
    for (const [runId, last] of this.lasts) {
      const first = this.firsts.get(runId);
      if (first) this.set(summarize(first, last));
    }
    this.lasts.clear();
  }

  /** The runs to show: every one not settled, and the newest `keep` settled (what shownRuns picks from them all). */
  async shown(
    store: EventStore,
    keep: number,
    onCorrupt?: (runId: string, reason: string) => void,
  ): Promise<RunSummary[]> {
    this.summarizeLasts();
    if (keep !== this.keep) {
      this.keep = keep;
      this.rankAll();
    }
    const files = listing(store);
    if (!files || !this.listed) {
      this.listedSpan = files?.soleWriterSpan?.() ?? -1;
      const all = await store.listRuns({ onCorrupt: (c) => onCorrupt?.(c.runId, c.reason) });
      this.known.clear();
      this.unread.clear();
      this.going.clear();
      this.newest = [];
      for (const r of all) this.set(r);
      this.listed = files !== null;
    } else {
      const toRead: string[] = [];
      // Listing a store's runs costs its size (20 ms a write at 18,000 runs, growing), and finds only what other
      // processes did (this one's runs are observed). While this process's writer has held the store's lock since the
      // last listing, no other process has written to it: nothing to find, and no listing.
      const span = files.soleWriterSpan?.() ?? -1;
      if (span === -1 || span !== this.listedSpan) {
        const ids = await files.runIds();
        // New runs (another process's) and runs not settled; settled ones (read once, or seen settling here) never change.
        for (const id of ids) if (!this.known.has(id) && !this.unread.has(id)) toRead.push(id);
        // Fewer of the known runs listed than are known: some were deleted (rare), found by a whole comparison.
        if (ids.length - toRead.length < this.known.size + this.unread.size) {
          const present = new Set(ids);
          for (const id of [...this.unread]) if (!present.has(id)) this.unread.delete(id);
          for (const id of [...this.known.keys()]) if (!present.has(id)) this.forget(id);
        }
        this.listedSpan = span;
      }
      toRead.push(...this.going);
      // A few at a time: thousands of reads queued at once (runs another process made since the last write) held the
      // thread pool from the store's own appends for as long as they took, and every run waited on them.
      for (let i = 0; i < toRead.length; i += READ_AT_ONCE) {
        await Promise.all(
          toRead.slice(i, i + READ_AT_ONCE).map(async (id) => {
            try {
              const r = await files.summary(id);
              if (r) this.set(r);
              else this.forget(id);
            } catch (err) {
              onCorrupt?.(id, (err as Error).message);
            }
          }),
        );
      }
    }
    // A ranking that needed the runs known by id only (one of the newest deleted): listed whole after all.
    if (files && !this.listed) return this.shown(store, keep, onCorrupt);
    return this.lastShown();
  }

  /** A run the file no longer shows: its log is gone. */
  private forget(runId: string): void {
    this.unread.delete(runId);
    this.known.delete(runId);
    this.going.delete(runId);
    if (this.newest.some((r) => r.runId === runId)) this.rankAll();
  }

  private set(r: RunSummary): void {
    this.known.set(r.runId, r);
    if (!SETTLED_STATUSES.includes(r.status)) {
      this.going.add(r.runId);
      return;
    }
    this.going.delete(r.runId);
    if (!r.completedAt || this.keep <= 0) return;
    const at = this.newest.findIndex((x) => x.runId === r.runId);
    if (at >= 0) this.newest.splice(at, 1);
    const last = this.newest.at(-1);
    if (this.newest.length >= this.keep && last && newerFirst(r, last) > 0) return;
    let lo = 0;
    let hi = this.newest.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newerFirst(this.newest[mid]!, r) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.newest.splice(lo, 0, r);
    if (this.newest.length > this.keep) {
      const out = this.newest.pop()!;
      this.dropped?.(out.runId);
    }
  }

  /** The newest settled, ranked again from every run known (the cap changed, or one of them was deleted). */
  private rankAll(): void {
    if (this.unread.size > 0) {
      this.listed = false; // their summaries are needed: the next look lists the store whole
      return;
    }
    this.newest = shownRuns(
      [...this.known.values()].filter((r) => SETTLED_STATUSES.includes(r.status)),
      this.keep,
    );
  }
}

/** Newest settled first; of two settled at once, the smaller run id first. */
function newerFirst(a: RunSummary, b: RunSummary): number {
  return a.completedAt! < b.completedAt!
    ? 1
    : a.completedAt! > b.completedAt!
      ? -1
      : a.runId < b.runId
        ? -1
        : a.runId > b.runId
          ? 1
          : 0;
}

/** The runs the file shows: every one not settled, and the newest `keep` settled. */
export function shownRuns(runs: readonly RunSummary[], keep: number): RunSummary[] {
  const settled = runs
    .filter((r) => SETTLED_STATUSES.includes(r.status) && r.completedAt)
    .sort(newerFirst)
    .slice(0, Math.max(0, keep));
  return [...runs.filter((r) => !SETTLED_STATUSES.includes(r.status)), ...settled];
}
