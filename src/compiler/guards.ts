/**
 * Guard implementations for a compiled definition: whether a transition may
 * be taken. Every one is a pure function of (context, event, params): no
 * clock, no randomness, no I/O.
 */
import { iteratorMap, mayDecide, type Definition } from '../definition/index.js';
import type { RunContext } from './context.js';
import { decide } from './decision.js';
import { taskLookup, taskState as state, type ImplementationArgs as Args, type TaskParams as P } from './implementation-args.js';
import { buildTaskGraph, eligibility } from './readiness.js';
import { countWithStatus } from './task-table.js';
import { allItemsSettled, bodyDef, eventItem, mapFailedNow } from './map.js';
import type { MapTask } from '../definition/index.js';

const FATAL = ['FAILED', 'TIMED_OUT'] as const;
const FINAL: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'CANCELLED']);

export function guardsFor(def: Definition) {
  const graph = buildTaskGraph(def);
  const task = taskLookup(def);
  const iterators = iteratorMap(def.tasks);
  const mapOfIterator = (id: string) => iterators.get(id)?.id;
  /**
   * The event is about the task's current instance: the loop iteration it is in (none outside loops), and
   * not an item (MAP items have guards of their own). A late result of an earlier iteration is stale.
   */
  const sameInstance = (ctx: RunContext, event: Args['event'], id: string) => event.iteration === state(ctx, id).iteration && event.item === undefined;
  const isAttempt = ({ context, event }: Args, p: P) => event.attempt === state(context, p.task).attempts && sameInstance(context, event, p.task);
  const retriesLeft = (ctx: RunContext, id: string) => state(ctx, id).attempts < task(id).retry.maxAttempts;
  const required = def.tasks.filter((t) => !t.optional).map((t) => t.id);
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

  // A pending task's region asks mustSkip, then mayRun, of the same context: one evaluation
  // answers both. Contexts are never mutated, so the same object means the same answer.
  let memoContext: RunContext | null = null;
  let memoTask = '';
  let memo: ReturnType<typeof eligibility> = 'wait';
  const eligible = (context: RunContext, id: string) => {
    if (context !== memoContext || id !== memoTask) {
      memo = eligibility(graph, context, id);
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
  const itemRetriesLeft = (args: Args, p: P) => itemOf(args, p)!.attempts < bodyDef(task, asMap(p.task)).retry.maxAttempts;
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
    isItemNextRestart: (args: Args, p: P) => isItemAttempt(args, p) && args.event.restart === (itemOf(args, p)!.restarts ?? 0) + 1,
    mayRetryItemFailure: (args: Args, p: P) => isItemAttempt(args, p) && args.event.error?.retryable !== false && itemRetriesLeft(args, p),
    mayRetryItemTimeout: (args: Args, p: P) => isItemAttempt(args, p) && itemRetriesLeft(args, p),
    /** Every item settled (none in flight) and the MAP failed: items not a list, or more failures than tolerated. */
    mapFails: ({ context }: Args, p: P) => mapSettled(context, p.task) && mapFailedNow(asMap(p.task), state(context, p.task)),
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
    isNextAttempt: ({ context, event }: Args, p: P) => event.attempt === state(context, p.task).attempts + 1 && sameInstance(context, event, p.task),
    /** A restart of the current attempt, numbered after the ones recorded: a second copy of the same restart is stale. */
    isNextRestart: (args: Args, p: P) => isAttempt(args, p) && args.event.restart === (state(args.context, p.task).restarts ?? 0) + 1,
    mayRetryFailure: (args: Args, p: P) =>
      isAttempt(args, p) && args.event.error?.retryable !== false && retriesLeft(args.context, p.task),
    mayRetryTimeout: (args: Args, p: P) => isAttempt(args, p) && retriesLeft(args.context, p.task),
    isApprover: ({ event }: Args, p: P) => {
      const t = task(p.task);
      return t.type !== 'HUMAN' || mayDecide(t, event.by ?? '');
    },
    decisionFails: ({ context }: Args, p: P) => {
      const t = task(p.task);
      return t.type === 'DECISION' && eligible(context, p.task) === 'run' && decide(def, t, context).error !== null;
    },
    anyFatalFailure: ({ context }: Args) => fatal(context),
  };
}

/**
 * What mayRun and mustSkip read: the statuses (and decisions) of the task's
 * dependencies and of the decisions routing to it (readiness.ts), nothing of
 * the event. So a pending task is checked again only when one of those
 * changed, not after every event (which made a long chain quadratic).
 * decisionFails also evaluates the decision's conditions: it says nothing.
 */
export function guardReadsFor(def: Definition) {
  const graph = buildTaskGraph(def);
  const reads = ({ task }: P): readonly string[] => [...(graph.deps.get(task) ?? []), ...(graph.gates.get(task) ?? [])];
  const own = ({ task }: P): readonly string[] => [task];
  const iterators = iteratorMap(def.tasks);
  const theMap = ({ task }: P): readonly string[] => [iterators.get(task)?.id ?? task];
  return { mayRun: reads, mustSkip: reads, mapFails: own, mapDone: own, mapSettledAs: theMap };
}
