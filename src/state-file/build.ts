/**
 * The state file's text from a store's logs: the runs not settled and the newest `keep` settled ones, each folded from
 * its log. The live writer and `ledgerflow state-file` both call this, so what the writer leaves after a commit is byte
 * for byte what a rebuild writes for the same logs.
 *
 * Folding every run at every write would cost the engine a step's worth per run; a run's entry is kept by its last
 * sequence and folded again only when its log has grown (RunEntries).
 */
import { latestWorkflow, foldEvents, foldedStatesOf, type RunSnapshot } from '../runtime/index.js';
import { SETTLED_STATUSES } from '../events/index.js';
import { summarize } from '../store/common.js';
import type { EventStore, RunSummary } from '../store/index.js';
import type { EventEnvelope } from '../events/index.js';
import { entryText, shownEntries, stateEntry, type StateEntry } from './layout.js';
import { fileText, worksetYaml } from './text.js';
import { worksetData } from './workset.js';
import { keptProgress } from '../progress/index.js';
import { withLiveProgress, type LiveReader } from './live-progress.js';

/** How many settled runs the file keeps unless told (`--state-file-keep`). */
export const DEFAULT_KEEP = 50;

/** A run the file shows: its entry and its workset (workset.ts: worksetData), made from its log up to `seq`. */
export interface ShownRun {
  id: string;
  seq: number;
  entry: StateEntry;
  workset: Record<string, unknown>;
}

type Made = { seq: number; entry: StateEntry; workset: Record<string, unknown>; text?: string; worksetText?: string };

/** Entries folded before, by run id and the sequence they were folded at, with the run's workset (workset.ts). */
export class RunEntries {
  private readonly known = new Map<string, Made>();
  /**
   * The events of runs this process committed, whole from their run.started (observe): a run's entry is folded from
   * them, not read back from the store (its reads beside the store's own synced appends were most of what the file cost
   * the engine). A run whose commits were not all seen here is read as before.
   */
  private readonly seen = new Map<string, { events: EventEnvelope[]; state?: RunSnapshot }>();

  /** A commit this process made; `state`: what the engine's fold reached at its end (runtime's foldedStatesOf), so no fold of ours is needed. */
  observe(events: readonly EventEnvelope[]): void {
    const first = events[0];
    if (!first) return;
    const had = this.seen.get(first.runId);
    const state = foldedStatesOf(events)?.at(-1);
    if (first.seq === 1) this.seen.set(first.runId, { events: [...events], ...(state ? { state } : {}) });
    else if (had && had.events.at(-1)!.seq === first.seq - 1) {
      had.events.push(...events);
      had.state = state;
    } else this.seen.delete(first.runId);
  }

  /** The run's block of the state file (layout's entryText), encoded once per sequence its entry was folded at. */
  textOf(e: StateEntry): string {
    const made = this.known.get(String(e.id));
    if (!made || made.entry !== e) return entryText(e);
    return (made.text ??= entryText(e));
  }

  /** The run's workset file (text.ts: worksetYaml), encoded once per sequence it was folded at. */
  worksetTextOf(r: ShownRun): string {
    const made = this.known.get(r.id);
    if (!made || made.workset !== r.workset) return worksetYaml(r.workset);
    return (made.worksetText ??= worksetYaml(r.workset));
  }

  async entry(store: EventStore, runId: string, lastSeq: number): Promise<StateEntry | null> {
    return (await this.both(store, runId, lastSeq))?.entry ?? null;
  }

  /** The run's state-file entry and workset text, folded again only when its log has grown. */
  async both(store: EventStore, runId: string, lastSeq: number): Promise<Made | null> {
    const had = this.known.get(runId);
    if (had && had.seq === lastSeq) return had;
    const seen = this.seen.get(runId);
    const whole = seen && seen.events.at(-1)!.seq === lastSeq ? seen : undefined;
    const events = whole?.events ?? (await store.read(runId));
    if (events.length === 0) return null;
    const run = whole?.state
      ? { compiled: latestWorkflow(events), snapshot: whole.state, seq: lastSeq }
      : foldEvents(events);
    const made: Made = {
      seq: run.seq,
      entry: stateEntry(run, keptProgress(events)),
      workset: worksetData(run, events),
    };
    this.known.set(runId, made);
    return made;
  }

  /**
   * A settled run fell out of the newest the file shows: its events and entry go now, not at the next write (a second's
   * worth of settled runs held until then outlived the young generation: the engine paid in old-space collections).
   */
  forget(runId: string): void {
    this.known.delete(runId);
    this.seen.delete(runId);
  }

  /** Forgets runs no longer shown (the file keeps a bounded set); the events of runs still going are kept. */
  keepOnly(runIds: Set<string>): void {
    for (const id of this.known.keys()) if (!runIds.has(id)) this.known.delete(id);
    for (const [id, { events }] of this.seen)
      if (!runIds.has(id) && SETTLED_STATUSES.includes(events.at(-1)!.state.status)) this.seen.delete(id);
  }
}

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
        for (const id of ids) if (!this.known.has(id)) toRead.push(id);
        // Fewer of the known runs listed than are known: some were deleted (rare), found by a whole comparison.
        if (ids.length - toRead.length < this.known.size) {
          const present = new Set(ids);
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
    return [...[...this.going].map((id) => this.known.get(id)!), ...this.newest];
  }

  /** A run the file no longer shows: its log is gone. */
  private forget(runId: string): void {
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

/** The state file and the worksets of the runs it shows (run id → the workset's text). */
export interface Projection {
  text: string;
  worksets: Map<string, string>;
}

/**
 * The file's text for the store as its logs are now, and the worksets of the runs it shows. A run whose log cannot be
 * read is left out (`onCorrupt` says which): the file is a view, and one bad log must not stop it for the others.
 */
export async function buildProjection(
  store: EventStore,
  keep: number,
  entries = new RunEntries(),
  onCorrupt?: (runId: string, reason: string) => void,
  summaries = new RunSummaries(),
  live?: LiveReader,
): Promise<Projection> {
  const shown = await planProjection(store, keep, entries, onCorrupt, summaries, live);
  return {
    text: fileText(shown.map((r) => entries.textOf(r.entry))),
    worksets: new Map(shown.map((r) => [r.id, entries.worksetTextOf(r)])),
  };
}

/**
 * The runs the file shows, in its order (every run not settled, the newest `keep` settled: layout's shownEntries), each
 * with its entry and workset: what a write renders to the same text, here (buildProjection) or in the writer's thread.
 */
export async function planProjection(
  store: EventStore,
  keep: number,
  entries: RunEntries,
  onCorrupt: ((runId: string, reason: string) => void) | undefined,
  summaries: RunSummaries,
  live?: LiveReader,
): Promise<ShownRun[]> {
  const runs = await summaries.shown(store, keep, onCorrupt);
  const made = new Map<StateEntry, ShownRun>();
  for (const r of runs) {
    const e = await entries.both(store, r.runId, r.lastSeq);
    if (!e) continue;
    // A run not settled shows its attempts' live progress (live-progress.ts), which the log does not hold.
    const entry = live && !SETTLED_STATUSES.includes(r.status) ? await withLiveProgress(e.entry, live) : e.entry;
    made.set(entry, { id: r.runId, seq: e.seq, entry, workset: e.workset });
  }
  entries.keepOnly(new Set(runs.map((r) => r.runId)));
  return shownEntries(made.keys(), keep).map((e) => made.get(e)!);
}
