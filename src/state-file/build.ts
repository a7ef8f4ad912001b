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
import type { EventStore } from '../store/index.js';
import { foldLoaded } from '../executor/index.js';
import type { EventEnvelope } from '../events/index.js';
import { entryText, shownEntries, type StateEntry } from './layout.js';
import { fileText, worksetYaml } from './text.js';
import { worksetData } from './workset.js';
import { entryOf } from './keyless.js';
import { keptProgress } from '../progress/index.js';
import { withLiveProgress, type LiveReader } from './live-progress.js';
import { RunSummaries } from './summaries.js';

export { DEFAULT_KEEP, RunSummaries, shownRuns } from './summaries.js';

/** A run the file shows: its entry and its workset (workset.ts: worksetData), made from its log up to `seq`. */
export interface ShownRun {
  id: string;
  seq: number;
  entry: StateEntry;
  workset: Record<string, unknown>;
  /**
   * The live progress its entry shows (live-progress.ts), as text; absent when it shows none. The entry changes with it
   * while `seq` does not, so whoever keeps a run's text by its sequence (the writer's thread) keys it by both.
   */
  live?: string;
}

type Made = { seq: number; entry: StateEntry; workset: Record<string, unknown>; text?: string; worksetText?: string };

/** What an entry shows of its tasks' progress, as text: it differs whenever a live value does. */
function liveStamp(entry: StateEntry): string {
  const tasks = (entry.tasks ?? {}) as Record<string, { progress?: unknown }>;
  return JSON.stringify(Object.entries(tasks).map(([id, t]) => [id, t.progress ?? null]));
}

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
      : await foldLoaded(store.blobs?.(), () => foldEvents(events));
    const made: Made = {
      seq: run.seq,
      // Read without the data key, a run whose course turned on sealed values is shown as its records say (keyless.ts).
      entry: entryOf(store, events, run, keptProgress(events)),
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
    const shown: ShownRun = { id: r.runId, seq: e.seq, entry, workset: e.workset };
    if (entry !== e.entry) shown.live = liveStamp(entry);
    made.set(entry, shown);
  }
  entries.keepOnly(new Set(runs.map((r) => r.runId)));
  return shownEntries(made.keys(), keep).map((e) => made.get(e)!);
}
