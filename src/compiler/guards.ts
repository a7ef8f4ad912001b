/**
 * Guard implementations for a compiled definition: whether a transition may be taken. Every one is a pure function of
 * (context, event, params): no clock, no randomness, no I/O.
 */
import { iteratorMap, loopOwners, mayDecide, maySignal, type Definition, type MapTask } from '../definition/index.js';
import { FINAL_TASK_STATUSES, type RunContext } from './context.js';
import { decide } from './decision.js';
import {
  taskLookup,
  taskState as state,
  type ImplementationArgs as Args,
  type TaskParams as P,
} from './implementation-args.js';
import { loopOutcome } from './loops.js';
import { allItemsSettled, bodyDef, eventItem, mapFailedNow } from './map.js';
import { buildTaskGraph, eligibility, failureSteps } from './readiness.js';
import { countWithStatus } from './task-table.js';
import { waitUntil } from './wait.js';
import { runTimeoutDue } from './run-timeout.js';

const FATAL = ['FAILED', 'TIMED_OUT'] as const;
const SETTLED = FINAL_TASK_STATUSES;
const FINAL: ReadonlySet<string> = new Set(SETTLED);

export function guardsFor(def: Definition) {
  const graph = buildTaskGraph(def);
  const task = taskLookup(def);
  const iterators = iteratorMap(def.tasks);
  const mapOfIterator = (id: string) => iterators.get(id)?.id;
  /**
   * The event is about the task's current instance: the loop iteration it is in (none outside loops), and not an item
   * (MAP items have guards of their own). A late result of an earlier iteration is stale.
   */
  const sameInstance = (ctx: RunContext, event: Args['event'], id: string) =>
    event.iteration === state(ctx, id).iteration && event.item === undefined;
  const isAttempt = ({ context, event }: Args, p: P) =>
    event.attempt === state(context, p.task).attempts && sameInstance(context, event, p.task);
  const retriesLeft = (ctx: RunContext, id: string) => state(ctx, id).attempts < task(id).retry.maxAttempts;
  // failure_workflow steps (inline form) never fail the run themselves: they are not required.
  const steps = failureSteps(def);
  const loops = loopOwners(def);
  // Body tasks are judged by their loop (which fails when a required one fails), not by the run.
  const required = def.tasks.filter((t) => !t.optional && !steps.has(t.id) && !loops.has(t.id)).map((t) => t.id);
  const normal = def.tasks.filter((t) => !steps.has(t.id)).map((t) => t.id);
  const loopOf = (ctx: RunContext, id: string) => state(ctx, loops.get(id)!);
  // Evaluated after every microstep: a plain loop, no array or closure built per call.
  const fatal = (ctx: RunContext) => {
    // Counted as tasks change (task-table.ts): no task has failed, the common case, is known at once.
    if (countWithStatus(ctx.tasks, FATAL) === 0) return false;
    for (const id of required) {
      const status = ctx.tasks[id]!.status;
      if (status === 'FAILED' || status === 'TIMED_OUT') return true;
    }
    return false;
  };

  // TERMINATE tasks that ran, by the status they end the run with.
  const terminates = def.tasks.filter((t) => t.type === 'TERMINATE');
  const terminated = (ctx: RunContext, status: 'COMPLETED' | 'FAILED') =>
    terminates.some((t) => t.status === status && ctx.tasks[t.id]!.status === 'COMPLETED');

  // A pending task's region asks mustSkip, then mayRun, of the same context: one evaluation answers both. Contexts are
  // never mutated, so the same object means the same answer.
  let memoContext: RunContext | null = null;
  let memoTask = '';
  let memo: ReturnType<typeof eligibility> = 'wait';
  /** With failure steps: a step runs once a required task failed (after the steps it depends on), and is skipped when the run ends without failing; other tasks still pending then are skipped. */
  const stepEligibility = (context: RunContext, id: string): ReturnType<typeof eligibility> => {
    const failing = fatal(context);
    if (!steps.has(id)) return failing ? 'skip' : eligibility(graph, context, id);
    if (failing) {
      for (const d of graph.deps.get(id) ?? [])
        if (steps.has(d) && !SETTLED.includes(state(context, d).status)) return 'wait';
      return 'run';
    }
    for (const n of normal) if (!SETTLED.includes(state(context, n).status)) return 'wait';
    return 'skip';
  };
  const eligible = (context: RunContext, id: string) => {
    if (context !== memoContext || id !== memoTask) {
      memo = steps.size > 0 ? stepEligibility(context, id) : eligibility(graph, context, id);
      memoContext = context;
      memoTask = id;
    }
    return memo;
  };

  // MAP items: judged against the item the event names (map.ts). p.task is the MAP.
  const asMap = (id: string) => task(id) as MapTask;
  const itemOf = ({ context, event }: Args, p: P) => eventItem(state(context, p.task), event);
  const isItemAttempt = (args: Args, p: P) => {
    const it = itemOf(args, p);
    return it?.status === 'IN_PROGRESS' && args.event.attempt === it.attempts;
  };
  const itemRetriesLeft = (args: Args, p: P) =>
    itemOf(args, p)!.attempts < bodyDef(task, asMap(p.task)).retry.maxAttempts;
  const mapSettled = (ctx: RunContext, id: string) => allItemsSettled(state(ctx, id).items ?? []);

  return {
    isItemNextAttempt: (args: Args, p: P) => {
      const it = itemOf(args, p);
      return it?.status === 'SCHEDULED' && args.event.attempt === it.attempts + 1;
    },
    isItemAttempt,
    isItemBackoff: (args: Args, p: P) => {
      const it = itemOf(args, p);
      return it?.status === 'RETRYING' && args.event.attempt === it.attempts;
    },
    isItemNextRestart: (args: Args, p: P) =>
      isItemAttempt(args, p) && args.event.restart === (itemOf(args, p)!.restarts ?? 0) + 1,
    isItemCurrentRun: (args: Args, p: P) => {
      const it = itemOf(args, p);
      return isItemAttempt(args, p) && args.event.restart === (it!.restarts ?? 0) && it!.released !== true;
    },
    mayRetryItemFailure: (args: Args, p: P) =>
      isItemAttempt(args, p) && args.event.error?.retryable !== false && itemRetriesLeft(args, p),
    mayRetryItemTimeout: (args: Args, p: P) => isItemAttempt(args, p) && itemRetriesLeft(args, p),
    /** Every item settled (none in flight) and the MAP failed: items not a list, or more failures than tolerated. */
    mapFails: ({ context }: Args, p: P) =>
      mapSettled(context, p.task) && mapFailedNow(asMap(p.task), state(context, p.task)),
    mapDone: ({ context }: Args, p: P) => mapSettled(context, p.task),
    /** An iterator's MAP has settled as p.status says: COMPLETED mirrors as done, anything else final as skipped. */
    mapSettledAs: ({ context }: Args, p: P) => {
      const map = mapOfIterator(p.task);
      const status = map ? context.tasks[map]!.status : 'PENDING';
      return p.status === 'COMPLETED' ? status === 'COMPLETED' : status !== 'COMPLETED' && FINAL.has(status);
    },
    mayRun: ({ context }: Args, p: P) => eligible(context, p.task) === 'run',
    mustSkip: ({ context }: Args, p: P) => eligible(context, p.task) === 'skip',
    isAttempt,
    isNextAttempt: ({ context, event }: Args, p: P) =>
      event.attempt === state(context, p.task).attempts + 1 && sameInstance(context, event, p.task),
    /** A restart of the current attempt, numbered after the ones recorded: a second copy of the same restart is stale. */
    isNextRestart: (args: Args, p: P) =>
      isAttempt(args, p) && args.event.restart === (state(args.context, p.task).restarts ?? 0) + 1,
    /** The run of the current attempt going on now, not given back yet: a second copy of the same release is stale. */
    isCurrentRun: (args: Args, p: P) => {
      const t = state(args.context, p.task);
      return isAttempt(args, p) && args.event.restart === (t.restarts ?? 0) && t.released !== true;
    },
    mayRetryFailure: (args: Args, p: P) =>
      isAttempt(args, p) && args.event.error?.retryable !== false && retriesLeft(args.context, p.task),
    mayRetryTimeout: (args: Args, p: P) => isAttempt(args, p) && retriesLeft(args.context, p.task),
    /** A retry's reused output (the step's task.completed with `reused`) for a task the run reuses: completes a HUMAN or WAIT without its approval, signal or time. */
    isReused: ({ context, event }: Args, p: P) =>
      event.reused !== undefined &&
      context.reuse !== undefined &&
      Object.hasOwn(context.reuse.outputs, p.task) &&
      sameInstance(context, event, p.task),
    isApprover: ({ event }: Args, p: P) => {
      const t = task(p.task);
      return t.type !== 'HUMAN' || mayDecide(t, event.by ?? '');
    },
    decisionFails: ({ context }: Args, p: P) => {
      const t = task(p.task);
      return t.type === 'DECISION' && eligible(context, p.task) === 'run' && decide(def, t, context).error !== null;
    },
    /** A required task failed; with failure steps, once those have run and the tasks running then have finished. */
    anyFatalFailure: ({ context }: Args) =>
      fatal(context) &&
      (steps.size === 0 ||
        def.tasks.every((t) => {
          const status = state(context, t.id).status;
          return SETTLED.includes(status) || (!steps.has(t.id) && status === 'PENDING');
        })),
    /** A WAIT's `until` that may run now but resolves to no time: it fails on entering instead of waiting. */
    waitUntilInvalid: ({ context }: Args, p: P) => {
      const t = task(p.task);
      return t.type === 'WAIT' && eligible(context, p.task) === 'run' && waitUntil(t, context).error !== null;
    },
    /** A signal came while the WAIT was pending: it completes the wait on entering. */
    signalKept: ({ context }: Args, p: P) => state(context, p.task).signal !== undefined,
    /**
     * The WAIT keeps no signal yet, and this one's sender may send it (`from:`; and, where the signal names the WAITs
     * that may take it, this is one of them): the first such to come is the one it takes.
     */
    noSignalKept: ({ context, event }: Args, p: P) => {
      const t = task(p.task);
      const e = event as { by?: string; waits?: readonly string[] };
      return (
        state(context, p.task).signal === undefined &&
        (t.type !== 'WAIT' || (maySignal(t, e.by) && (e.waits === undefined || e.waits.includes(p.task))))
      );
    },
    /** The run timer (run-timeout.ts) is armed and due at the event's time: a forged or early firing takes no transition. */
    runTimeoutDue: ({ context, event }: Args) => runTimeoutDue(context, event),
    // A queued run (run.queued) is let go by run.admitted only, never by a person's run.resumed.
    isPaused: ({ context, event }: Args) =>
      context.paused === true && (context.queued !== true || (event as { admitted?: boolean }).admitted === true),
    notPaused: ({ context }: Args) => context.paused !== true,
    terminatedCompleted: ({ context }: Args) => terminates.length > 0 && terminated(context, 'COMPLETED'),
    terminatedFailed: ({ context }: Args) => terminates.length > 0 && terminated(context, 'FAILED'),
    // DO_WHILE (loops.ts): the first of these that holds once the iteration's body tasks have all settled.
    loopFails: ({ context }: Args, p: P) => loopOutcome(def, context, p.task)?.kind === 'fail',
    loopRepeats: ({ context }: Args, p: P) => loopOutcome(def, context, p.task)?.kind === 'repeat',
    loopEnds: ({ context }: Args, p: P) => loopOutcome(def, context, p.task)?.kind === 'end',
    /** A body task settled in an earlier iteration than its loop is in now. */
    nextIteration: ({ context }: Args, p: P) => {
      const l = loopOf(context, p.task);
      return l.status === 'IN_PROGRESS' && (l.iteration ?? 1) > (state(context, p.task).iteration ?? 1);
    },
    /** The body task's loop has settled: nothing more of the body runs. */
    loopSettled: ({ context }: Args, p: P) => FINAL_TASK_STATUSES.includes(loopOf(context, p.task).status),
  };
}

/**
 * What mayRun and mustSkip read: the statuses (and decisions) of the task's dependencies and of the decisions routing
 * to it (readiness.ts), nothing of the event. So a pending task is checked again only when one of those changed, not
 * after every event (which made a long chain quadratic). decisionFails evaluates the decision's conditions: it says
 * nothing.
 */
export function guardReadsFor(def: Definition) {
  const graph = buildTaskGraph(def);
  // With failure steps, whether a task runs depends on whether any required task failed: every task is read.
  const all = failureSteps(def).size > 0 ? def.tasks.map((t) => t.id) : null;
  // A body task also reads its loop (which iteration it is in, whether it runs) and its own iteration.
  const reads = ({ task }: P): readonly string[] => {
    if (all) return all;
    const loop = graph.loops.get(task);
    return [
      ...(graph.deps.get(task) ?? []),
      ...(graph.gates.get(task) ?? []),
      ...(loop !== undefined ? [loop, task] : []),
    ];
  };
  const own = ({ task }: P): readonly string[] => [task];
  const loopReads = ({ task }: P): readonly string[] => [graph.loops.get(task)!, task];
  // loopFails/loopRepeats/loopEnds evaluate loop_condition, which may read any task: they say nothing.
  const iterators = iteratorMap(def.tasks);
  const theMap = ({ task }: P): readonly string[] => [iterators.get(task)?.id ?? task];
  return {
    mayRun: reads,
    mustSkip: reads,
    signalKept: own,
    noSignalKept: own,
    nextIteration: loopReads,
    loopSettled: loopReads,
    mapFails: own,
    mapDone: own,
    mapSettledAs: theMap,
  };
}
