/**
 * Action implementations for a compiled definition: what a transition does
 * to the context. Every one is a pure function of (context, event, params):
 * no clock, no randomness, no I/O. An action returns the part of the context
 * it changes (what an XState `assign` takes); machine.ts wraps each in
 * `assign`, the interpreter merges it itself. Neither ever mutates the
 * previous context (snapshots share objects with their predecessors).
 */
import { loopOwners, type Definition, type TaskDef } from '../definition/index.js';
import type { TaskError } from '../events/index.js';
import { resolveTemplate } from '../expressions/index.js';
import { retryDelayMs } from './backoff.js';
import { FINAL_TASK_STATUSES, type RunContext, type TaskState, type TimerState } from './context.js';
import { childRunId } from './children.js';
import { decide } from './decision.js';
import { failureSteps } from './readiness.js';
import { taskLookup, taskState as state, type ImplementationArgs as Args, type ImplementationEvent, type TaskParams as P } from './implementation-args.js';
import { instanceKey } from './instances.js';
import { iso } from './iso-cache.js';
import { loopOutcome, loopStartOutput } from './loops.js';
import { scopeOf } from './scope.js';
import { withTaskState } from './task-table.js';
import { waitUntil } from './wait.js';
import { bodyDef, mapFailure, mapResults, resolveItems, startItems, withItem } from './map.js';
import type { ItemState } from './context.js';
import type { MapTask } from '../definition/index.js';

/**
 * The time of the event being folded. Internal events (a parallel state's
 * done event) carry none: then it is the time of the last event that did.
 */
const nowOf = (ctx: RunContext, e: ImplementationEvent): string => {
  const t = e.time ?? e.input?.time;
  return t === undefined ? ctx.updatedAt : iso(t);
};

/** An action that also records the event time as `updatedAt`. */
function stamped<Params>(fn: (args: Args, params: Params) => Partial<RunContext>) {
  return (args: Args, params: Params): Partial<RunContext> => {
    // Every fn returns a fresh object: adding the key to it beats copying it.
    const patch = fn(args, params);
    patch.updatedAt = nowOf(args.context, args.event);
    return patch;
  };
}

/**
 * Runs with more tasks than this keep their tasks in a TaskTable (task-table.ts): one task
 * changes without copying the others. Below it, copying the plain record is cheaper.
 */
const TABLE_FROM_TASKS = 64;

function taskWriters(def: Definition) {
  const asTable = def.tasks.length > TABLE_FROM_TASKS;
  const loops = loopOwners(def);
  /**
   * The tasks with task `id`'s state replaced. A body task leaving pending in
   * its loop's first iteration takes that iteration (iterationReset gives it
   * the later ones), so its attempts are named `task#1`.
   */
  const putTask = (ctx: RunContext, id: string, state: TaskState): Record<string, TaskState> => {
    const loop = loops.get(id);
    if (loop !== undefined && state.iteration === undefined) {
      const iteration = ctx.tasks[loop]!.iteration;
      if (iteration !== undefined) state = { ...state, iteration };
    }
    return withTaskState(ctx.tasks, id, state, asTable);
  };
  /** The tasks with task `id`'s state patched. */
  const withTask = (ctx: RunContext, id: string, patch: Partial<TaskState>): Record<string, TaskState> => putTask(ctx, id, { ...ctx.tasks[id]!, ...patch });
  return { putTask, withTask };
}
/** The timers without those of one MAP item. */
function withoutItemTimers(ctx: RunContext, task: string, item: number): Record<string, TimerState> {
  const out: Record<string, TimerState> = {};
  for (const k in ctx.timers) {
    const t = ctx.timers[k]!;
    if (t.task !== task || t.item !== item) out[k] = t;
  }
  return out;
}
function withoutTimers(ctx: RunContext, task: string): Record<string, TimerState> {
  const out: Record<string, TimerState> = {};
  for (const k in ctx.timers) if (ctx.timers[k]!.task !== task) out[k] = ctx.timers[k]!;
  return out;
}
/** Arms a timer under its id, `<instance>/<kind>/<attempt>` (instances.ts: the task id outside loops and maps). */
function withTimer(timers: Record<string, TimerState>, timer: Omit<TimerState, 'id'>): Record<string, TimerState> {
  const id = `${instanceKey(timer)}/${timer.kind}/${timer.attempt}`;
  return { ...timers, [id]: { id, ...timer } };
}
const plusMs = (time: string, ms: number) => iso(Date.parse(time) + ms);

/** Workflow output: a map of templates, or for each listed name the value from the last completed task that produced it. */
function workflowOutput(def: Definition, ctx: RunContext): unknown {
  const out: Record<string, unknown> = {};
  for (const name of def.output.names) {
    for (const t of [...def.tasks].reverse()) {
      const o = ctx.tasks[t.id]?.output;
      if (ctx.tasks[t.id]?.status === 'COMPLETED' && o && typeof o === 'object' && Object.hasOwn(o, name)) {
        out[name] = (o as Record<string, unknown>)[name];
        break;
      }
    }
  }
  const scope = scopeOf(ctx);
  for (const [k, v] of Object.entries(def.output.values)) out[k] = resolveTemplate(v, scope);
  return out;
}

/**
 * A resolved template as the context may hold it (JSON: it is persisted and
 * compared as text): a reference to nothing becomes null, not a key with an
 * undefined value that JSON would drop.
 */
function definedOnly(v: unknown): unknown {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map(definedOnly);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = definedOnly(x);
    return out;
  }
  return v;
}

/** The TERMINATE task that ended the run, if one did (the first in definition order that ran). */
function terminatedBy(def: Definition, ctx: RunContext): Extract<TaskDef, { type: 'TERMINATE' }> | undefined {
  for (const t of def.tasks) if (t.type === 'TERMINATE' && ctx.tasks[t.id]?.status === 'COMPLETED') return t;
  return undefined;
}

/**
 * The end of a run a TERMINATE task ended: tasks that had not started are
 * SKIPPED (pending, or scheduled with no attempt begun), the others not settled CANCELLED (reconcile aborts their
 * attempts); the run error is LF_TERMINATED with the reason when it ends
 * FAILED; the workflow output is mapped either way.
 */
function terminatedRun(def: Definition, context: RunContext, event: ImplementationEvent, t: Extract<TaskDef, { type: 'TERMINATE' }>): Partial<RunContext> {
  const tasks: Record<string, TaskState> = {};
  for (const [id, st] of Object.entries(context.tasks)) {
    // Not started yet (pending, or scheduled in the same step as the TERMINATE ran, no attempt begun): skipped.
    const notStarted = st.status === 'PENDING' || (st.status === 'SCHEDULED' && st.attempts === 0);
    tasks[id] = FINAL_TASK_STATUSES.includes(st.status) ? st : { ...st, status: notStarted ? 'SKIPPED' : 'CANCELLED' };
  }
  const reason = (context.tasks[t.id]?.output as { reason?: unknown } | null)?.reason;
  const message = reason === null || reason === undefined || reason === '' ? `terminated by task ${t.id}` : typeof reason === 'string' ? reason : JSON.stringify(reason);
  return {
    tasks, timers: {}, completedAt: nowOf(context, event),
    error: t.status === 'FAILED' ? { code: 'LF_TERMINATED', retryable: false, message, task: t.id } : null,
    output: workflowOutput(def, context),
  };
}

export function actionsFor(def: Definition) {
  const task = taskLookup(def);
  const { putTask, withTask } = taskWriters(def);
  // failure_workflow steps: their own failure never becomes the run's error.
  const steps = failureSteps(def);
  const loops = loopOwners(def);
  /** A body task's iteration, also as it leaves pending in its loop's first (putTask gives it the loop's then). */
  const iterationOf = (ctx: RunContext, id: string): { iteration?: number } => {
    const loop = loops.get(id);
    const iteration = ctx.tasks[id]!.iteration ?? (loop === undefined ? undefined : ctx.tasks[loop]!.iteration);
    return iteration === undefined ? {} : { iteration };
  };
  /** The loop's outcome, which the guard that chose this transition has just worked out on the same context. */
  const outcomeNow = (ctx: RunContext, id: string) => {
    const o = loopOutcome(def, ctx, id);
    if (!o) throw new Error(`loop ${id} has not finished an iteration`);
    return o;
  };
  const asMap = (id: string) => task(id) as MapTask;
  /** The MAP's tasks with item `event.item` patched (and slots handed on: map.ts). */
  const withItemPatch = (ctx: RunContext, id: string, i: number, patch: Partial<ItemState>) => {
    const t = state(ctx, id);
    const items = withItem(asMap(id), t.items!, i, { ...t.items![i]!, ...patch });
    return putTask(ctx, id, { ...t, items });
  };
  const itemTimeout = (ctx: RunContext, id: string, i: number, attempt: number, now: string) => {
    const timeoutMs = bodyDef(task, asMap(id)).timeoutMs;
    return timeoutMs === undefined ? ctx.timers
      : withTimer(ctx.timers, { task: id, kind: 'timeout', attempt, dueAt: plusMs(now, timeoutMs), ...iterationOf(ctx, id), item: i });
  };
  const itemSettled = (status: 'FAILED' | 'TIMED_OUT') => stamped(({ context, event }: Args, p: P) => {
    const i = event.item!;
    const it = state(context, p.task).items![i]!;
    const ms = bodyDef(task, asMap(p.task)).timeoutMs;
    const error: TaskError = event.error ?? { code: 'TIMED_OUT', retryable: false, message: `attempt ${it.attempts} timed out after ${ms} ms` };
    return { tasks: withItemPatch(context, p.task, i, { status, error, completedAt: nowOf(context, event) }), timers: withoutItemTimers(context, p.task, i) };
  });
  return {
    /** DO_WHILE starts its first iteration: it runs no attempt of its own (attempts 0), its body tasks do. */
    startLoop: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, { status: p.status!, attempts: 0, iteration: 1, startedAt: nowOf(context, event), output: loopStartOutput() }),
    })),
    nextIteration: stamped(({ context }: Args, p: P) => {
      const { output } = outcomeNow(context, p.task);
      return { tasks: withTask(context, p.task, { iteration: output.iteration, output }) };
    }),
    loopDone: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, { status: p.status!, output: outcomeNow(context, p.task).output, completedAt: nowOf(context, event) }),
    })),
    loopFailed: stamped(({ context, event }: Args, p: P) => {
      const o = outcomeNow(context, p.task);
      return { tasks: withTask(context, p.task, { status: p.status!, output: o.output, error: o.kind === 'fail' ? o.error : null, completedAt: nowOf(context, event) }) };
    }),
    /** A body task starts its loop's next iteration: attempts counted afresh, its last output kept (`${body.output}` is the latest). */
    iterationReset: stamped(({ context }: Args, p: P) => {
      const { restarts: _r, decision: _d, decidedBy: _b, ...rest } = state(context, p.task);
      return {
        tasks: putTask(context, p.task, { ...rest, status: p.status!, attempts: 0, startedAt: null, completedAt: null, error: null, iteration: context.tasks[loops.get(p.task)!]!.iteration! }),
        timers: withoutTimers(context, p.task),
      };
    }),
    /** Entering `mapping`: the items resolved once, now; the first max_concurrency scheduled. Not a list: no items, and the error that fails the MAP. */
    mapStart: stamped(({ context, event }: Args, p: P) => {
      const map = asMap(p.task);
      const now = nowOf(context, event);
      const r = resolveItems(map, scopeOf(context));
      const before = state(context, p.task);
      return {
        tasks: putTask(context, p.task, {
          ...before, status: p.status!, attempts: 1, startedAt: now,
          items: 'values' in r ? startItems(map, r.values) : [], error: 'error' in r ? r.error : null,
        }),
      };
    }),
    itemStarted: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      const now = nowOf(context, event);
      const { restarts: _previous, ...before } = state(context, p.task).items![i]!;
      const items = state(context, p.task).items!.slice();
      items[i] = { ...before, status: 'IN_PROGRESS', attempts: event.attempt!, startedAt: before.startedAt ?? now };
      return { tasks: putTask(context, p.task, { ...state(context, p.task), items }), timers: itemTimeout(context, p.task, i, event.attempt!, now) };
    }),
    itemRestarted: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      return {
        tasks: withItemPatch(context, p.task, i, { restarts: event.restart! }),
        timers: itemTimeout(context, p.task, i, event.attempt!, nowOf(context, event)),
      };
    }),
    itemCompleted: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      return {
        tasks: withItemPatch(context, p.task, i, { status: 'COMPLETED', output: event.output ?? null, error: null, completedAt: nowOf(context, event) }),
        timers: withoutItemTimers(context, p.task, i),
      };
    }),
    itemRetrying: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      const body = bodyDef(task, asMap(p.task));
      const attempt = state(context, p.task).items![i]!.attempts;
      const error: TaskError = event.error ?? { code: 'TIMED_OUT', retryable: true, message: `attempt ${attempt} timed out after ${body.timeoutMs} ms` };
      const delay = retryDelayMs(body.retry, attempt, context.runId, `${p.task}[${i}]`);
      return {
        tasks: withItemPatch(context, p.task, i, { status: 'RETRYING', error }),
        timers: withTimer(withoutItemTimers(context, p.task, i), { task: p.task, kind: 'backoff', attempt, dueAt: plusMs(nowOf(context, event), delay), ...iterationOf(context, p.task), item: i }),
      };
    }),
    itemFailed: itemSettled('FAILED'),
    itemTimedOut: itemSettled('TIMED_OUT'),
    itemBackoffElapsed: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      return { tasks: withItemPatch(context, p.task, i, { status: 'SCHEDULED' }), timers: withoutItemTimers(context, p.task, i) };
    }),
    mapCompleted: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, { status: p.status!, output: mapResults(state(context, p.task).items ?? []), error: null, completedAt: nowOf(context, event) }),
    })),
    mapFailed: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, { status: p.status!, error: mapFailure(asMap(p.task), state(context, p.task)), completedAt: nowOf(context, event) }),
    })),
    /** An iterator settles with its MAP: done with the MAP's output when it completed, else skipped. */
    mirrorMap: stamped(({ context, event }: Args, p: P) => {
      const map = def.tasks.find((t) => t.type === 'MAP' && t.iterator === p.task)!;
      const m = state(context, map.id);
      const now = nowOf(context, event);
      return { tasks: withTask(context, p.task, { status: p.status!, output: p.status === 'COMPLETED' ? m.output : null, startedAt: m.startedAt ?? now, completedAt: now }) };
    }),
    skip: stamped(({ context }: Args, p: P) => ({ tasks: withTask(context, p.task, { status: p.status! }) })),
    schedule: stamped(({ context }: Args, p: P) => ({ tasks: withTask(context, p.task, { status: p.status! }) })),
    taskStarted: stamped(({ context, event }: Args, p: P) => {
      const now = nowOf(context, event);
      const attempt = event.attempt!;
      const timeoutMs = task(p.task).timeoutMs;
      // A new attempt has not been restarted: the count belongs to the attempt before.
      const { restarts: _previous, ...before } = state(context, p.task);
      return {
        tasks: putTask(context, p.task, {
          ...before, status: p.status!, attempts: attempt, startedAt: before.startedAt ?? now,
          // A reused SUB_WORKFLOW (retry from failed) starts no child run: its output is the retried run's.
          ...(task(p.task).type === 'SUB_WORKFLOW' && event.reused === undefined ? { child: childRunId(context.runId, { task: p.task, ...iterationOf(context, p.task) }, attempt) } : {}),
        }),
        timers: timeoutMs === undefined ? context.timers
          : withTimer(context.timers, { task: p.task, kind: 'timeout', attempt, dueAt: plusMs(now, timeoutMs), ...iterationOf(context, p.task) }),
      };
    }),
    /** The attempt runs again after it was lost: same attempt, its timeout counted from now (downtime is not attempt time). */
    taskRestarted: stamped(({ context, event }: Args, p: P) => {
      const now = nowOf(context, event);
      const attempt = event.attempt!;
      const timeoutMs = task(p.task).timeoutMs;
      return {
        tasks: withTask(context, p.task, { restarts: event.restart! }),
        timers: timeoutMs === undefined ? context.timers
          : withTimer(context.timers, { task: p.task, kind: 'timeout', attempt, dueAt: plusMs(now, timeoutMs), ...iterationOf(context, p.task) }),
      };
    }),
    taskCompleted: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, { status: p.status!, output: event.output ?? null, error: null, completedAt: nowOf(context, event) }),
      timers: withoutTimers(context, p.task),
    })),
    taskRetrying: stamped(({ context, event }: Args, p: P) => {
      const attempt = state(context, p.task).attempts;
      const error: TaskError = event.error
        ?? { code: 'TIMED_OUT', retryable: true, message: `attempt ${attempt} timed out after ${task(p.task).timeoutMs} ms` };
      const delay = retryDelayMs(task(p.task).retry, attempt, context.runId, p.task);
      return {
        tasks: withTask(context, p.task, { status: p.status!, error }),
        timers: withTimer(withoutTimers(context, p.task), { task: p.task, kind: 'backoff', attempt, dueAt: plusMs(nowOf(context, event), delay), ...iterationOf(context, p.task) }),
      };
    }),
    taskFailed: stamped(({ context, event }: Args, p: P) => {
      const attempts = state(context, p.task).attempts;
      const error: TaskError = event.error
        ?? { code: 'TIMED_OUT', retryable: false, message: `attempt ${attempts} timed out after ${task(p.task).timeoutMs} ms` };
      return {
        tasks: withTask(context, p.task, { status: p.status!, error, completedAt: nowOf(context, event) }),
        timers: withoutTimers(context, p.task),
      };
    }),
    backoffElapsed: stamped(({ context }: Args, p: P) => ({
      tasks: withTask(context, p.task, { status: p.status! }),
      timers: withoutTimers(context, p.task),
    })),
    decide: stamped(({ context, event }: Args, p: P) => {
      const r = decide(def, task(p.task) as Extract<TaskDef, { type: 'DECISION' }>, context);
      const now = nowOf(context, event);
      return {
        tasks: withTask(context, p.task, {
          status: p.status!, attempts: 1, startedAt: now, completedAt: now,
          output: { case: r.case, value: r.value ?? null, next: r.next },
          decision: { case: r.case, value: r.value ?? null, next: r.next },
        }),
      };
    }),
    decisionFailed: stamped(({ context, event }: Args, p: P) => {
      const r = decide(def, task(p.task) as Extract<TaskDef, { type: 'DECISION' }>, context);
      const now = nowOf(context, event);
      return {
        tasks: withTask(context, p.task, {
          status: p.status!, attempts: 1, startedAt: now, completedAt: now, error: r.error,
          decision: { case: r.case, value: r.value ?? null, next: r.next },
        }),
      };
    }),
    completeInstantly: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task);
      const now = nowOf(context, event);
      const output = t.type === 'JOIN'
        ? Object.fromEntries(t.joinOn.map((j) => [j, context.tasks[j]?.output ?? null]))
        : {};
      return { tasks: withTask(context, p.task, { status: p.status!, attempts: 1, startedAt: now, completedAt: now, output }) };
    }),
    unsupported: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, {
        status: p.status!, completedAt: nowOf(context, event),
        error: { code: 'LF_UNSUPPORTED_TASK_TYPE', retryable: false, message: `task ${p.task} has type ${task(p.task).type}, which does not run yet in this version of ledgerflow` },
      }),
    })),
    awaitApproval: stamped(({ context, event }: Args, p: P) => {
      const now = nowOf(context, event);
      const timeoutMs = task(p.task).timeoutMs;
      return {
        tasks: withTask(context, p.task, { status: p.status!, attempts: 1, startedAt: now }),
        timers: timeoutMs === undefined ? context.timers
          : withTimer(context.timers, { task: p.task, kind: 'approval_timeout', attempt: 1, dueAt: plusMs(now, timeoutMs), ...iterationOf(context, p.task) }),
      };
    }),
    approvalDecided: stamped(({ context, event }: Args, p: P) => {
      const approved = event.type.startsWith('approval.approved.');
      const decision = { decision: approved ? 'approved' : 'rejected', by: event.by, comment: event.comment ?? null };
      return {
        tasks: withTask(context, p.task, {
          status: p.status!, completedAt: nowOf(context, event), decidedBy: event.by, output: decision,
          error: approved ? null : { code: 'REJECTED', retryable: false, message: `rejected by ${event.by}${event.comment ? `: ${event.comment}` : ''}` },
        }),
        timers: withoutTimers(context, p.task),
      };
    }),
    approvalTimedOut: stamped(({ context, event }: Args, p: P) => {
      const status = p.status!;
      const ms = task(p.task).timeoutMs;
      const error: TaskError | null = status === 'TIMED_OUT' || status === 'FAILED'
        ? { code: status === 'FAILED' ? 'REJECTED' : 'TIMED_OUT', retryable: false, message: `no decision within ${ms} ms` }
        : null;
      return {
        tasks: withTask(context, p.task, {
          status, completedAt: nowOf(context, event), error, decidedBy: 'timeout',
          output: status === 'COMPLETED' ? { decision: 'approved', by: 'timeout', comment: null } : null,
        }),
        timers: withoutTimers(context, p.task),
      };
    }),
    ...waitActions(task, putTask, withTask, iterationOf),
    /** SET: the values, resolved now, merged into the run's variables; the task's output is the values set. */
    setValues: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task) as Extract<TaskDef, { type: 'SET' }>;
      const now = nowOf(context, event);
      const values = definedOnly(resolveTemplate(t.values, scopeOf(context)) ?? {}) as Record<string, unknown>;
      return {
        tasks: withTask(context, p.task, { status: p.status!, attempts: 1, startedAt: now, completedAt: now, output: values }),
        variables: { ...(context.variables ?? {}), ...values },
      };
    }),
    /** TERMINATE: records { status, reason }; the parallel state's always then ends the run (terminatedCompleted / terminatedFailed). */
    terminate: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task) as Extract<TaskDef, { type: 'TERMINATE' }>;
      const now = nowOf(context, event);
      const reason = t.reason === undefined ? null : definedOnly(resolveTemplate(t.reason, scopeOf(context)));
      return { tasks: withTask(context, p.task, { status: p.status!, attempts: 1, startedAt: now, completedAt: now, output: { status: t.status, reason: reason ?? null } }) };
    }),
    pauseRun: stamped(() => ({ paused: true })),
    resumeRun: stamped(() => ({ paused: false })),
    finish: stamped(({ context, event }: Args, p: { status: 'COMPLETED' | 'FAILED' | 'CANCELLED' }) => {
      const ended = terminatedBy(def, context);
      if (ended) return terminatedRun(def, context, event, ended);
      const tasks: Record<string, TaskState> = {};
      for (const [id, t] of Object.entries(context.tasks)) {
        // A MAP cut short cancels its items in flight or waiting too.
        const items = t.items && !FINAL_TASK_STATUSES.includes(t.status)
          ? { items: t.items.map((it) => (FINAL_TASK_STATUSES.includes(it.status) ? it : { ...it, status: 'CANCELLED' as const })) } : {};
        tasks[id] = FINAL_TASK_STATUSES.includes(t.status) ? t : { ...t, status: 'CANCELLED', ...items };
      }
      // Body tasks are judged by their loop, which carries the error; failure_workflow steps' own failure never becomes the run's error.
      const failedTask = def.tasks.find((t) => !t.optional && !steps.has(t.id) && !loops.has(t.id) && ['FAILED', 'TIMED_OUT'].includes(context.tasks[t.id]!.status));
      const error = p.status === 'FAILED' && failedTask
        ? { ...context.tasks[failedTask.id]!.error!, task: failedTask.id }
        : p.status === 'CANCELLED'
          ? { code: 'CANCELLED', retryable: false, message: `cancelled${event.by ? ` by ${event.by}` : ''}${event.reason ? `: ${event.reason}` : ''}` }
          : event.type === 'run.fail' && event.error ? { ...event.error } : null;
      return {
        tasks, timers: {}, completedAt: nowOf(context, event), error,
        output: p.status === 'COMPLETED' ? workflowOutput(def, context) : null,
      };
    }),
  };
}

type WaitTaskDef = Extract<TaskDef, { type: 'WAIT' }>;

/** The actions of a WAIT's region (regions.ts waitRegion). */
function waitActions(
  task: (id: string) => TaskDef,
  putTask: (ctx: RunContext, id: string, state: TaskState) => Record<string, TaskState>,
  withTask: (ctx: RunContext, id: string, patch: Partial<TaskState>) => Record<string, TaskState>,
  /** A loop-body WAIT's timers carry its iteration (so their firing is this iteration's). */
  iterationOf: (ctx: RunContext, id: string) => { iteration?: number },
) {
  return {
    /** Enters waiting: arms the `wait` timer (duration or until) or, on an event, the optional timeout. */
    startWaiting: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task) as WaitTaskDef;
      const now = nowOf(context, event);
      const dueAt = t.durationMs !== undefined ? plusMs(now, t.durationMs)
        : t.until !== undefined ? waitUntil(t, context).at : null;
      const timers = dueAt !== null
        ? withTimer(context.timers, { task: p.task, kind: 'wait', attempt: 1, dueAt, ...iterationOf(context, p.task) })
        : t.timeoutMs !== undefined ? withTimer(context.timers, { task: p.task, kind: 'timeout', attempt: 1, dueAt: plusMs(now, t.timeoutMs), ...iterationOf(context, p.task) })
          : context.timers;
      return { tasks: withTask(context, p.task, { status: p.status!, attempts: 1, startedAt: now }), timers };
    }),
    waitUntilFailed: stamped(({ context, event }: Args, p: P) => {
      const now = nowOf(context, event);
      const r = waitUntil(task(p.task) as WaitTaskDef, context);
      return { tasks: withTask(context, p.task, { status: p.status!, attempts: 1, startedAt: now, completedAt: now, error: r.error }) };
    }),
    waitElapsed: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, { status: p.status!, completedAt: nowOf(context, event), output: { waitedUntil: context.timers[`${instanceKey({ task: p.task, ...iterationOf(context, p.task) })}/wait/1`]?.dueAt ?? nowOf(context, event) } }),
      timers: withoutTimers(context, p.task),
    })),
    /** A signal for a WAIT not yet waiting: kept on the task, taken when it starts waiting. */
    keepSignal: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, { signal: { data: event.data ?? null, ...(event.by !== undefined ? { by: event.by } : {}) } }),
    })),
    /** The signal (this event's, or the one kept) is the output. */
    signalReceived: stamped(({ context, event }: Args, p: P) => {
      const { signal: kept, ...before } = state(context, p.task);
      const signal = kept ?? { data: event.data ?? null, ...(event.by !== undefined ? { by: event.by } : {}) };
      return {
        tasks: putTask(context, p.task, { ...before, status: p.status!, completedAt: nowOf(context, event), output: signal.data, error: null, ...(signal.by !== undefined ? { decidedBy: signal.by } : {}) }),
        timers: withoutTimers(context, p.task),
      };
    }),
    waitTimedOut: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task) as WaitTaskDef;
      const status = p.status!;
      return {
        tasks: withTask(context, p.task, {
          status, completedAt: nowOf(context, event),
          error: status === 'SKIPPED' ? null : { code: 'TIMED_OUT', retryable: false, message: `no signal "${t.event}" within ${t.timeoutMs} ms` },
        }),
        timers: withoutTimers(context, p.task),
      };
    }),
  };
}

/**
 * Every action but finish changes only its own task in the context (and the
 * timers and updatedAt, which no guard that declares its reads reads).
 * finish ends the run: it never runs inside the parallel state.
 */
export function actionWritesFor() {
  const own = ({ task }: P): readonly string[] => [task];
  return {
    skip: own, schedule: own, taskStarted: own, taskCompleted: own, taskRetrying: own, taskFailed: own,
    backoffElapsed: own, decide: own, decisionFailed: own, completeInstantly: own, unsupported: own,
    awaitApproval: own, approvalDecided: own, approvalTimedOut: own, taskRestarted: own,
    startWaiting: own, waitUntilFailed: own, waitElapsed: own, keepSignal: own, signalReceived: own, waitTimedOut: own,
    // The variables SET writes are read by templates (actions) and by guards that declare nothing (decisionFails).
    setValues: own, terminate: own,
    // paused is read by no guard of a region (only by isPaused / notPaused, on the parallel state).
    pauseRun: () => [], resumeRun: () => [],
    startLoop: own, nextIteration: own, loopDone: own, loopFailed: own, iterationReset: own,
    mapStart: own, itemStarted: own, itemRestarted: own, itemCompleted: own, itemRetrying: own, itemFailed: own,
    itemTimedOut: own, itemBackoffElapsed: own, mapCompleted: own, mapFailed: own, mirrorMap: own,
  } satisfies Record<Exclude<keyof ReturnType<typeof actionsFor>, 'finish'>, unknown>;
}
