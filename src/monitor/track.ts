/**
 * A watched run: its fold kept up to date event by event, the view derived from it and the last events (the frame's
 * tail). Pure: no store, no clock.
 */
import type { TaskProgress } from '../runtime/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import type { GlobalLimits, TaskDef } from '../definition/index.js';
import { delayPart, recordedDefinitionOf, type EventEnvelope } from '../events/index.js';
import {
  applyEvent,
  compiledForRun,
  derivedHidden,
  partedView,
  partingAt,
  recordedState,
  startedOf,
  workflowAfter,
  foldStartOf,
  runView,
  startFold,
  type RunSnapshot,
  type RunView,
  type SealedFrom,
} from '../runtime/index.js';

/** Events kept per run for the tail: more than any frame shows. */
const KEPT_EVENTS = 200;

export interface WatchedRun {
  readonly runId: string;
  /** The definition recorded in run.started (who approves, what a WAIT waits for, max attempts). */
  readonly tasks: ReadonlyMap<string, TaskDef>;
  readonly view: RunView;
  /** The last events folded, oldest first (at most KEPT_EVENTS). */
  readonly tail: readonly EventEnvelope[];
  /** A log cut after it was written (query/damage.ts): what is lost, for people; its status is shown DAMAGED and it is not followed. */
  readonly damaged?: string;
  /** The embedded store: no process drives the run (what would, for people); shown under its header until one does. */
  readonly undriven?: string;
  /** Each instance's progress (docs/handlers.md#progress), live or kept, as last read (progress-poll.ts). */
  readonly progress?: ReadonlyMap<string, TaskProgress>;
  /**
   * Internals for advanceRun (`limits`: the limits file's, for what a waiting task waits for; `delayedBy`: per task,
   * the breakers its waiting attempt's task.delayed named until it starts: the open breakers of the run's history).
   */
  readonly fold: {
    compiled: CompiledWorkflow;
    snapshot: RunSnapshot;
    limits?: GlobalLimits;
    delayedBy?: ReadonlyMap<string, ReadonlySet<string>>;
    /**
     * Read without the data key (runtime/sealed-parting.ts): each event's recorded state is checked against the fold's,
     * and from the first the fold does not reach (`parted`: its view before it, where, the run's last run.failed) the
     * run is shown as its records say; the fold stops there.
     */
    keyless?: boolean;
    parted?: { before: RunView; from: SealedFrom; failed?: EventEnvelope };
  };
}

/** Whether the fold reached the state event `e` recorded (read without the key, it may not: sealed-parting.ts). */
const reached = (snapshot: RunSnapshot, e: EventEnvelope): boolean => {
  const now = recordedState(snapshot);
  return now.hash === e.state.hash && now.status === e.state.status;
};

/**
 * Folds a run's events from its run.started; `limits`: the store's limits file's (a queue's or handler's limit a task
 * waits for); `keyless`: the events were read without the data key (their sealed values `[encrypted]`).
 */
export function trackRun(
  events: readonly EventEnvelope[],
  limits?: GlobalLimits,
  opts: { keyless?: boolean } = {},
): WatchedRun {
  const first = startedOf(events[0]);
  const compiled = compiledForRun(first);
  const definition = recordedDefinitionOf(first.data);
  const snapshot = startFold(compiled, foldStartOf(first));
  // No breaker known open: a watched task held by one says so only once its run records task.delayed.
  const view = runView(snapshot, 1, definition, limits, new Set());
  const parted =
    opts.keyless === true && !reached(snapshot, first)
      ? { before: { ...view, tasks: {}, timers: [] }, from: partingAt([first], first.seq).from }
      : undefined;
  const run: WatchedRun = {
    runId: first.runId,
    tasks: new Map(definition.tasks.map((t) => [t.id, t])),
    view: opts.keyless === true ? shownKeyless(view, parted, first) : view,
    tail: [first],
    fold: {
      compiled,
      snapshot,
      ...(limits ? { limits } : {}),
      ...(opts.keyless === true ? { keyless: true, ...(parted ? { parted } : {}) } : {}),
    },
  };
  return advanceRun(run, events.slice(1));
}

/** What a reader without the key shows: the fold's view with derived values hidden, or once parted, the records'. */
function shownKeyless(view: RunView, parted: WatchedRun['fold']['parted'], last: EventEnvelope): RunView {
  return derivedHidden(parted ? partedView(parted.before, last, parted.failed, parted.from) : view);
}

/**
 * Folds the events after the run's last one; events already folded are ignored (a follower may hand a batch twice).
 * Throws when one is missing: the caller reads the gap from the store.
 */
export function advanceRun(run: WatchedRun, events: readonly EventEnvelope[]): WatchedRun {
  let { snapshot, compiled } = run.fold;
  let { tasks } = run;
  let seq = run.view.seq;
  let delayedBy = run.fold.delayedBy;
  const fresh: EventEnvelope[] = [];
  let parted = run.fold.parted;
  for (const e of events) {
    if (e.seq <= seq) continue;
    if (e.seq !== seq + 1) throw new EventGapError(run.runId, seq + 1, e.seq);
    if (parted) {
      // Past the parting the fold is not the run's: the records are (the run's status, its run.failed).
      if (e.type === 'run.failed') parted = { ...parted, failed: e };
      seq = e.seq;
      fresh.push(e);
      continue;
    }
    const before = snapshot;
    snapshot = applyEvent(compiled, snapshot, e).snapshot;
    if (run.fold.keyless === true && !reached(snapshot, e)) {
      parted = { before: runView(before, seq, compiled.definition), from: partingAt([e], e.seq).from };
      if (e.type === 'run.failed') parted.failed = e;
    }
    // Migrated (docs/runs.md#migrating-in-flight-runs): it goes on under the new version.
    if (e.type === 'run.migrated') {
      compiled = workflowAfter(compiled, e);
      tasks = new Map(compiled.definition.tasks.map((t) => [t.id, t]));
    }
    seq = e.seq;
    fresh.push(e);
    // A breaker holds the task from its task.delayed until an attempt of it starts (no store read: the log says it).
    if (e.type === 'task.delayed')
      delayedBy = new Map([
        ...(delayedBy ?? []),
        [e.data.task, new Set([...(delayedBy?.get(e.data.task) ?? []), delayPart(e.data)])],
      ]);
    else if (e.type === 'task.started' && delayedBy?.has(e.data.task))
      delayedBy = new Map([...delayedBy].filter(([t]) => t !== e.data.task));
  }
  if (fresh.length === 0) return run;
  const tail = [...run.tail, ...fresh];
  const open =
    delayedBy && delayedBy.size > 0 ? new Set([...delayedBy.values()].flatMap((s) => [...s])) : new Set<string>();
  const view = runView(snapshot, seq, compiled.definition, run.fold.limits, open);
  return {
    ...run,
    tasks,
    view: run.fold.keyless === true ? shownKeyless(view, parted, fresh.at(-1)!) : view,
    tail: tail.length > KEPT_EVENTS ? tail.slice(-KEPT_EVENTS) : tail,
    fold: { ...run.fold, compiled, snapshot, ...(delayedBy ? { delayedBy } : {}), ...(parted ? { parted } : {}) },
  };
}

/** Events handed to advanceRun skip some: read them from the store first. */
export class EventGapError extends Error {
  constructor(
    readonly runId: string,
    readonly expected: number,
    readonly got: number,
  ) {
    super(`run ${runId}: expected event ${expected}, got ${got}`);
  }
}
