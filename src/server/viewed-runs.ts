/**
 * The run page's fold of the runs it showed lately (GET /api/runs/:id, run-detail.ts). The page asks for a live run's
 * view again after each burst of its commits, and each ask read the whole log, folded it, tracked its record and folded
 * it again for the attempts' inputs: for a MAP of 2,000 items (4,005 events) 150 ms of the server's CPU an ask, more
 * as the run grows. Each run shown is now kept with its log as read, its fold, its record and its inputs, and an ask
 * reads on from where the last read ended (the store's readOn; from the last seq where a store has none) and folds only
 * the events appended since.
 *
 * The log is the truth: what is kept is checked against it at each ask. Events that do not follow the last kept (a log
 * cut short, written again, archived and restored) drop what was kept, and the run is read and folded whole, as before.
 * Kept for at most MAX_RUNS runs and MAX_EVENTS events in all, the least lately shown dropped first; a run longer than
 * that is folded whole at each ask, as before.
 */
import type { EventEnvelope } from '../events/index.js';
import { evaluateLoaded, foldLoaded, type LoadedRunLog } from '../executor/index.js';
import { advance, RecordGapError, track, type RunRecord, type TrackedRun } from '../query/index.js';
import { foldEvents, foldOntoRun } from '../runtime/index.js';
import type { EventStore, ReadMark } from '../store/index.js';
import { AttemptInputs, type AttemptInput } from './attempt-inputs.js';
import { ApiError } from './errors.js';

/** Runs kept at most. */
export const MAX_RUNS = 32;
/**
 * Events kept at most, all runs together: a five-step run has about a dozen, a MAP of 2,000 items 4,005 (1.5 MB of heap
 * with their folds, measured 2026-12-02), of 20,000 items 40,005. A run longer than this is folded whole at each ask.
 */
export const MAX_EVENTS = 50_000;

/** A run as the run page shows it: its log, its fold (as reader.load gives it), its record and its attempts' inputs. */
export interface ViewedRun {
  loaded: LoadedRunLog;
  record: RunRecord;
  inputs: Readonly<Record<string, AttemptInput>>;
}

interface Kept {
  view: ViewedRun;
  tracked: TrackedRun;
  inputs: AttemptInputs;
  /** Where the store's read ended (readOn), or null where the store has none (read on from the last seq). */
  mark: ReadMark | null;
}

export class ViewedRuns {
  private readonly kept = new Map<string, Kept>();
  /** One ask a run at a time: a second waits for the first and reads on from what it kept. */
  private readonly asking = new Map<string, Promise<ViewedRun>>();
  private events = 0;
  /** Events folded by asks, all runs together (a test's measure that an ask folds only what is new). */
  folded = 0;

  constructor(private readonly store: EventStore) {}

  /** The run as the page shows it now (ApiError 404 when the store has no such run). */
  view(runId: string): Promise<ViewedRun> {
    const before = this.asking.get(runId) ?? Promise.resolve(null);
    const now = before.catch(() => null).then(() => this.ask(runId));
    this.asking.set(runId, now);
    void now
      .finally(() => {
        if (this.asking.get(runId) === now) this.asking.delete(runId);
      })
      .catch(() => {}); // the caller has the error
    return now;
  }

  private async ask(runId: string): Promise<ViewedRun> {
    const had = this.kept.get(runId);
    if (had) {
      this.drop(runId);
      const on = await this.readOn(runId, had);
      if (on) {
        const next = on.events.length === 0 ? had : await this.continued(had, on.events, on.mark).catch(gapIsNull);
        if (next) return this.keep(runId, next);
      }
    }
    const whole = this.store.readOn ? await this.store.readOn(runId, null) : null;
    const events = whole?.events ?? (await this.store.read(runId));
    return this.keep(runId, await this.foldWhole(startedBy(runId, events), events, whole?.mark ?? null));
  }

  /** What the log appended after what was kept, or null when it must be read whole. */
  private async readOn(runId: string, had: Kept): Promise<{ events: EventEnvelope[]; mark: ReadMark | null } | null> {
    const last = had.view.loaded.seq;
    if (had.mark && this.store.readOn) return this.store.readOn(runId, had.mark);
    const events = await this.store.read(runId, { fromSeq: last + 1 });
    return { events, mark: null };
  }

  private async foldWhole(first: RunStarted, events: EventEnvelope[], mark: ReadMark | null): Promise<Kept> {
    const blobs = this.store.blobs?.();
    const fold = await evaluateLoaded(blobs, () => foldEvents(events));
    const tracked = await foldLoaded(blobs, () => track(events, fold));
    const inputs = await foldLoaded(blobs, () => AttemptInputs.from(first).after(events.slice(1)));
    this.folded += events.length;
    const { source } = first.data;
    return made({ ...fold, events, ...(source ? { source } : {}) }, tracked, inputs, mark);
  }

  /** What was kept, continued with the events that follow it; RecordGapError when they do not. */
  private async continued(had: Kept, more: EventEnvelope[], mark: ReadMark | null): Promise<Kept> {
    const { loaded } = had.view;
    if (more[0]!.seq !== loaded.seq + 1)
      throw new RecordGapError(loaded.snapshot.context.runId, loaded.seq, more[0]!.seq);
    const blobs = this.store.blobs?.();
    const fold = await evaluateLoaded(blobs, () => foldOntoRun(loaded.compiled, loaded.snapshot, more));
    const tracked = await foldLoaded(blobs, () => advance(had.tracked, more, fold));
    const inputs = await foldLoaded(blobs, () => had.inputs.after(more));
    this.folded += more.length;
    const events = loaded.events.concat(more);
    const next: LoadedRunLog = { ...loaded, ...fold, seq: more.at(-1)!.seq, events };
    return made(next, tracked, inputs, mark);
  }

  /** Kept (the most lately shown last), the least lately shown dropped past the bounds; the view either way. */
  private keep(runId: string, k: Kept): ViewedRun {
    const n = k.view.loaded.events.length;
    if (n > MAX_EVENTS) return k.view;
    this.kept.set(runId, k);
    this.events += n;
    for (const [id] of this.kept) {
      if (this.kept.size <= MAX_RUNS && this.events <= MAX_EVENTS) break;
      this.drop(id);
    }
    return k.view;
  }

  private drop(runId: string): void {
    const k = this.kept.get(runId);
    if (!k) return;
    this.kept.delete(runId);
    this.events -= k.view.loaded.events.length;
  }
}

function made(loaded: LoadedRunLog, tracked: TrackedRun, inputs: AttemptInputs, mark: ReadMark | null): Kept {
  return { view: { loaded, record: tracked.record, inputs: inputs.inputs }, tracked, inputs, mark };
}

type RunStarted = Extract<EventEnvelope, { type: 'run.started' }>;

/** The run's run.started, from its events (404 when it has none). */
export function startedBy(id: string, events: readonly EventEnvelope[]): RunStarted {
  const first = events[0];
  if (!first) throw new ApiError(404, 'LF_RUN_NOT_FOUND', `run ${id} does not exist in this store`);
  if (first.type !== 'run.started')
    throw new ApiError(409, 'LF_CORRUPT_RUN', `run ${id} does not begin with run.started`);
  return first;
}

const gapIsNull = (err: unknown): null => {
  if (err instanceof RecordGapError) return null;
  throw err;
};
