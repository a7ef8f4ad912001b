/**
 * What every action is built from (actions.ts, loop-actions.ts, map-actions.ts, wait-actions.ts): the time of the event
 * being folded, the wrapper that stamps it as `updatedAt`, and the copy-on-write writers of a context's tasks and
 * timers. Kept in one place so that the action groups write the context the same way, and none imports another.
 */
import { loopOwners, type Definition, type TaskDef } from '../definition/index.js';
import type { TaskError, TimerKind } from '../events/index.js';
import type { RunContext, TaskState, TaskStatus, TimerState } from './context.js';
import { taskLookup, type ImplementationArgs as Args, type ImplementationEvent } from './implementation-args.js';
import { instanceKey } from './instances.js';
import { iso, isoMs } from './iso-cache.js';
import { dictionaryRecord } from './dictionary-record.js';
import { TABLE_FROM_TASKS, withTaskState, type TableMaker } from './task-table.js';

/**
 * The time of the event being folded. Internal events (a parallel state's done event) carry none: then it is the time
 * of the last event that did.
 */
export const nowOf = (ctx: RunContext, e: ImplementationEvent): string => {
  const t = e.time ?? e.input?.time;
  return t === undefined ? ctx.updatedAt : iso(t);
};

/** An action that also records the event time as `updatedAt`. */
export function stamped<Params>(fn: (args: Args, params: Params) => Partial<RunContext>) {
  return (args: Args, params: Params): Partial<RunContext> => {
    // Every fn returns a fresh object: adding the key to it beats copying it.
    const patch = fn(args, params);
    patch.updatedAt = nowOf(args.context, args.event);
    return patch;
  };
}

/**
 * The state without what belongs to its attempt's runs, for a new attempt (or iteration): the `restarts` count and the
 * releases (task.released), which count only the runs of the attempt they were recorded for.
 */
export function withoutRuns<T extends { restarts?: number; released?: true; releases?: number }>(
  t: T,
): Omit<T, 'restarts' | 'released' | 'releases'> {
  const { restarts: _restarts, released: _released, releases: _releases, ...rest } = t;
  return rest;
}

/** Whether the state holds anything of its attempt's runs (withoutRuns then has something to drop). */
export function hasRuns(t: { restarts?: number; releases?: number }): boolean {
  return Object.hasOwn(t, 'restarts') || Object.hasOwn(t, 'releases');
}

/** The state without its `released` mark: the restart that took the run up was recorded. */
export function withoutReleased<T extends { released?: true }>(t: T): Omit<T, 'released'> {
  const { released: _released, ...rest } = t;
  return rest;
}

/** A task that settles as it starts: one attempt, started and completed `now`, then `rest`. */
export function settledNow(status: TaskStatus, now: string, rest: Partial<TaskState>): Partial<TaskState> {
  return { status, attempts: 1, startedAt: now, completedAt: now, ...rest };
}

/** A failed attempt's error: the event's, or (no error: its timeout fired) a TIMED_OUT one. */
export function attemptError(e: ImplementationEvent, attempt: number, retryable: boolean, ms?: number): TaskError {
  return e.error ?? { code: 'TIMED_OUT', retryable, message: `attempt ${attempt} timed out after ${ms} ms` };
}

/** One definition's task lookup and task writers, shared by its action groups. */
export interface ActionKit {
  readonly def: Definition;
  readonly task: (id: string) => TaskDef;
  /** Body task → its DO_WHILE (loopOwners). */
  readonly loops: ReadonlyMap<string, string>;
  /**
   * The tasks with task `id`'s state replaced. A body task leaving pending in its loop's first iteration takes that
   * iteration (iterationReset gives it the later ones), so its attempts are named `task#1`.
   */
  readonly putTask: (ctx: RunContext, id: string, state: TaskState) => Record<string, TaskState>;
  /** The tasks with task `id`'s state patched. */
  readonly withTask: (ctx: RunContext, id: string, patch: Partial<TaskState>) => Record<string, TaskState>;
  /** A body task's iteration, also as it leaves pending in its loop's first (putTask gives it the loop's then). */
  readonly iterationOf: (ctx: RunContext, id: string) => { iteration?: number };
  /**
   * `timers` (the context's) with a `kind` timer of task `id`'s attempt (a MAP's: of its `item`) armed `ms` after
   * `now`, in the task's iteration; the same timers when `ms` is undefined (a task with no timeout).
   */
  readonly armTimer: (
    ctx: RunContext,
    kind: TimerKind,
    id: string,
    attempt: number,
    now: string,
    ms: number | undefined,
    item?: number,
    timers?: Record<string, TimerState>,
  ) => Record<string, TimerState>;
}

export function actionKit(def: Definition): ActionKit {
  // One maker per definition: its runs' records have the same keys, so the table's shape is worked out once.
  const maker: TableMaker | null = def.tasks.length > TABLE_FROM_TASKS ? { shape: null } : null;
  const loops = loopOwners(def);
  const putTask = (ctx: RunContext, id: string, state: TaskState): Record<string, TaskState> => {
    const loop = loops.get(id);
    if (loop !== undefined && state.iteration === undefined) {
      const iteration = ctx.tasks[loop]!.iteration;
      if (iteration !== undefined) state = { ...state, iteration };
    }
    return withTaskState(ctx.tasks, id, state, maker);
  };
  const withTask = (ctx: RunContext, id: string, patch: Partial<TaskState>): Record<string, TaskState> => {
    // `{ ...state, ...patch }`: the patch's keys stored into the state's clone (a second spread in a literal is copied by the runtime).
    const state = { ...ctx.tasks[id]! };
    for (const k in patch) (state as Record<string, unknown>)[k] = (patch as Record<string, unknown>)[k];
    return putTask(ctx, id, state);
  };
  const iterationOf = (ctx: RunContext, id: string): { iteration?: number } => {
    const loop = loops.get(id);
    const iteration = ctx.tasks[id]!.iteration ?? (loop === undefined ? undefined : ctx.tasks[loop]!.iteration);
    return iteration === undefined ? {} : { iteration };
  };
  const armTimer: ActionKit['armTimer'] = (ctx, kind, id, attempt, now, ms, item, timers = ctx.timers) => {
    if (ms === undefined) return timers;
    const timer = { task: id, kind, attempt, dueAt: plusMs(now, ms), ...iterationOf(ctx, id) };
    return withTimer(timers, item === undefined ? timer : { ...timer, item });
  };
  return { def, task: taskLookup(def), loops, putTask, withTask, iterationOf, armTimer };
}

/** The timers record: keyed by ids unique to their attempt, so in dictionary mode (dictionary-record.ts). */
const timerRecord = (): Record<string, TimerState> => dictionaryRecord<TimerState>();

/** The timers without those `keep` refuses; the very same object when it refuses none (a context is never changed in place). */
function timersWhere(ctx: RunContext, keep: (t: TimerState) => boolean): Record<string, TimerState> {
  const timers = ctx.timers;
  let out: Record<string, TimerState> | null = null;
  let dropped = false;
  for (const k in timers) {
    const t = timers[k]!;
    if (!keep(t)) {
      dropped = true;
      continue;
    }
    (out ??= timerRecord())[k] = t;
  }
  // None left: an empty literal, cheaper to make than an empty dictionary (a timer is only ever added to a copy).
  return dropped ? (out ?? {}) : timers;
}

/** The timers without those of one MAP item. */
export function withoutItemTimers(ctx: RunContext, task: string, item: number): Record<string, TimerState> {
  return timersWhere(ctx, (t) => t.task !== task || t.item !== item);
}
export function withoutTimers(ctx: RunContext, task: string): Record<string, TimerState> {
  return timersWhere(ctx, (t) => t.task !== task);
}
/** Arms a timer under its id, `<instance>/<kind>/<attempt>` (instances.ts: the task id outside loops and maps). */
export function withTimer(
  timers: Record<string, TimerState>,
  timer: Omit<TimerState, 'id'>,
): Record<string, TimerState> {
  const id = `${instanceKey(timer)}/${timer.kind}/${timer.attempt}`;
  const out = timerRecord();
  for (const k in timers) out[k] = timers[k]!;
  // `{ id, ...timer }`, key by key in the order every caller passes them: a literal with a key before a spread is built
  // property by property by the runtime, the slowest part of arming a timer.
  const armed: TimerState = { id, task: timer.task, kind: timer.kind, attempt: timer.attempt, dueAt: timer.dueAt };
  if (timer.iteration !== undefined) armed.iteration = timer.iteration;
  if (timer.item !== undefined) armed.item = timer.item;
  out[id] = armed;
  return out;
}
export const plusMs = (time: string, ms: number) => iso(isoMs(time) + ms);

/**
 * A resolved template as the context may hold it (JSON: it is persisted and compared as text): a reference to nothing
 * becomes null, not a key with an undefined value that JSON would drop.
 */
export function definedOnly(v: unknown): unknown {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map(definedOnly);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = definedOnly(x);
    return out;
  }
  return v;
}
