/**
 * What a run asks of the world, worked out from its state alone. This is a
 * pure function that does not execute anything: the local driver runs
 * attempts in-process and arms timers on its clock, the NATS engine publishes
 * attempts to workers and timer messages; both read the same list.
 *
 * `reconcile(snapshot, held)` compares what the state wants (an attempt for
 * every IN_PROGRESS task, a timer for every armed timer) with what an
 * executor holds, and returns the difference: starts and arms for what is
 * wanted and not held, aborts and cancels for what is held and no longer
 * wanted. With nothing held (a resume after `kill -9`, a redelivered NATS
 * input) it yields every outstanding effect; after a step, `step()` passes
 * the state before it as what is held, so the effects are exactly what the
 * step changed. Live execution and recovery are one code path.
 */
import { iso, scopeOf, underWayWithStatus, type CompiledWorkflow, type TimerState } from '../compiler/index.js';
import type { TaskDef } from '../definition/index.js';
import { collectRefs, resolveTemplate, type Scope } from '../expressions/index.js';
import { childRunId, emitEventId, failureRunId } from '../compiler/children.js';
import { runStatus, type RunSnapshot } from './fold.js';
import { handlerName, type TaskInfo } from './handlers.js';
import { rememberedTaskPlans } from './task-plan-cache.js';

/** The queue a task's attempts go to when it names none. */
export const DEFAULT_QUEUE = 'default';

/** Run one attempt of a task, with everything an executor needs, computed here once. */
export interface StartAttempt {
  readonly type: 'attempt.start';
  readonly runId: string;
  readonly workflowId: string;
  readonly version: number;
  readonly taskId: string;
  readonly attempt: number;
  /** Which run of the attempt this is: 0 the first, n after its n-th restart (task.restarted). */
  readonly restart: number;
  /** runId/taskId/attempt: the same when an attempt is re-run after a crash. */
  readonly idempotencyKey: string;
  readonly handler: string;
  readonly queue: string;
  readonly input: Record<string, unknown>;
  /** When the attempt times out (its timeout timer's due time), if the task has a timeout. */
  readonly deadline?: string;
  /** `output_to` resolved for this attempt: where its output is written as YAML. */
  readonly outputTo?: string;
  readonly task: TaskInfo;
}

/** Stop an attempt that is no longer wanted (timed out, the run settled or was cancelled), or drop it unrun if it has not started. */
export interface AbortAttempt {
  readonly type: 'attempt.abort';
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  /** The run of the attempt held (0: its first; n after its n-th restart). */
  readonly restart: number;
  readonly reason: string;
}

/** Arm a durable timer: when it is due, the executor feeds `timer.fired` back in. */
export interface ArmTimer {
  readonly type: 'timer.arm';
  readonly runId: string;
  readonly timer: TimerState;
}

/** A timer the state no longer holds (its task moved on). Firing it anyway would be harmless (stale), but wasteful. */
export interface CancelTimer {
  readonly type: 'timer.cancel';
  readonly runId: string;
  readonly timerId: string;
}

/** Who started a child run: recorded in the child's run.started (`source.parent`). */
export interface ParentRef {
  readonly runId: string;
  readonly workflowId: string;
  /** The SUB_WORKFLOW task (absent for a failure workflow: then `failedTask` is in the input). */
  readonly task?: string;
  readonly attempt?: number;
  /** `failure`: the run of the parent's failure_workflow. Absent: a SUB_WORKFLOW's child. */
  readonly relation?: 'failure';
}

/**
 * Start a child run (a SUB_WORKFLOW attempt, or a failed run's
 * failure_workflow) and, for a SUB_WORKFLOW, report its outcome as the
 * attempt's: `task.completed` with the child's workflow output or
 * `task.failed` with its error. Idempotent by `childRunId`: a child that
 * exists is not started again (settled, its outcome is reported at once).
 */
export interface StartChild {
  readonly type: 'child.start';
  readonly runId: string;
  readonly childRunId: string;
  readonly workflow: string;
  readonly version?: number;
  readonly input: Record<string, unknown>;
  readonly parent: ParentRef;
  /** For a SUB_WORKFLOW attempt: which run of the attempt this is (as StartAttempt's). Absent for a failure workflow, which reports nothing. */
  readonly restart?: number;
}

/** Emit an event as `ledgerflow emit` would (embedded) or on `lf.triggers.<event>` (NATS), then report `{ event, eventId, runs }` as the attempt's output. */
export interface EmitEvent {
  readonly type: 'event.emit';
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly restart: number;
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** `<runId>/<task>/<attempt>`: the event's id, so a re-run starts nothing twice. */
  readonly eventId: string;
}

export type Effect = StartAttempt | AbortAttempt | ArmTimer | CancelTimer | StartChild | EmitEvent;

/**
 * What an executor holds: attempts running (task id → attempt and which run of
 * it) and timers armed (by id, with the due time they were armed for: a
 * restart re-arms an attempt's timeout under the same id, later).
 */
export interface Held {
  readonly attempts: ReadonlyMap<string, { readonly attempt: number; readonly restart?: number }>;
  readonly timers: ReadonlyMap<string, { readonly dueAt: string }>;
}

export const NOTHING_HELD: Held = Object.freeze({ attempts: new Map<string, { attempt: number }>(), timers: new Map<string, { dueAt: string }>() });

const IN_PROGRESS = ['IN_PROGRESS'] as const;

/** What a snapshot holds, as an executor that had acted on it would: used to diff a step's before and after. */
export function heldBy(snapshot: RunSnapshot): { attempts: Map<string, { attempt: number; restart: number }>; timers: Map<string, { dueAt: string }> } {
  const attempts = new Map<string, { attempt: number; restart: number }>();
  const timers = new Map<string, { dueAt: string }>();
  if (snapshot.status === 'active') {
    const { tasks } = snapshot.context;
    for (const id of underWayWithStatus(tasks, IN_PROGRESS)) attempts.set(id, { attempt: tasks[id]!.attempts, restart: tasks[id]!.restarts ?? 0 });
    for (const id in snapshot.context.timers) timers.set(id, snapshot.context.timers[id]!);
  }
  return { attempts, timers };
}

/** The effects that make the world match the state, given what is already held. Pure. */
export function reconcile(compiled: CompiledWorkflow, snapshot: RunSnapshot, held: Held = NOTHING_HELD): Effect[] {
  const ctx = snapshot.context;
  const effects: Effect[] = [];
  const settled = snapshot.status !== 'active';
  for (const [taskId, { attempt, restart = 0 }] of held.attempts) {
    const t = ctx.tasks[taskId];
    if (settled || t?.status !== 'IN_PROGRESS' || t.attempts !== attempt || (t.restarts ?? 0) !== restart) {
      effects.push({ type: 'attempt.abort', runId: ctx.runId, taskId, attempt, restart, reason: settled ? `run is ${runStatus(snapshot)}` : `attempt ${attempt} is no longer wanted (${t?.status}${t?.restarts ? `, restarted ${t.restarts} times` : ''})` });
    }
  }
  for (const timerId of held.timers.keys()) {
    if (settled || !ctx.timers[timerId]) effects.push({ type: 'timer.cancel', runId: ctx.runId, timerId });
  }
  if (settled) {
    const failure = failureChild(compiled, snapshot);
    if (failure) effects.push(failure);
    return effects;
  }
  for (const id in ctx.timers) {
    // Armed for another time (a restarted attempt's timeout): arming it again replaces it.
    if (held.timers.get(id)?.dueAt !== ctx.timers[id]!.dueAt) effects.push({ type: 'timer.arm', runId: ctx.runId, timer: ctx.timers[id]! });
  }
  // The tasks under way, not every task: a long run keeps them listed (task-table.ts).
  for (const taskId of underWayWithStatus(ctx.tasks, IN_PROGRESS)) {
    const t = ctx.tasks[taskId]!;
    const h = held.attempts.get(taskId);
    if (h?.attempt !== t.attempts || (h.restart ?? 0) !== (t.restarts ?? 0)) effects.push(startWork(compiled, snapshot, taskId));
  }
  return effects;
}

/**
 * What a running attempt asks for: a handler's run, or for the tasks the
 * executor performs itself, a child run (SUB_WORKFLOW) or an event (EMIT).
 */
function startWork(compiled: CompiledWorkflow, snapshot: RunSnapshot, taskId: string): Effect {
  const start = startAttempt(compiled, snapshot, taskId);
  const def = start.task.type === 'SUB_WORKFLOW' || start.task.type === 'EMIT' ? taskPlans(compiled).get(taskId)!.def : null;
  if (def?.type === 'SUB_WORKFLOW') {
    const ctx = snapshot.context;
    return {
      type: 'child.start', runId: ctx.runId, childRunId: childRunId(ctx.runId, taskId, start.attempt),
      workflow: def.workflow, ...(def.version !== undefined ? { version: def.version } : {}), input: start.input,
      parent: { runId: ctx.runId, workflowId: ctx.workflowId, task: taskId, attempt: start.attempt }, restart: start.restart,
    };
  }
  if (def?.type === 'EMIT') {
    const ctx = snapshot.context;
    const data = (resolveTemplate(def.data, scopeOf(ctx)) ?? {}) as Record<string, unknown>;
    return {
      type: 'event.emit', runId: ctx.runId, taskId, attempt: start.attempt, restart: start.restart,
      event: def.event, data, eventId: emitEventId(ctx.runId, taskId, start.attempt),
    };
  }
  return start;
}

/**
 * The failure workflow a run that settled FAILED starts (`failure_workflow: { id, input }`),
 * or null. Its input: `failedRunId`, `failedTask`, `error`, then `input`'s templates resolved
 * against the failed run. The same on every call, so starting it is idempotent by its run id.
 */
export function failureChild(compiled: CompiledWorkflow, snapshot: RunSnapshot): StartChild | null {
  const fw = compiled.definition.failureWorkflow;
  // With `steps` (the seeds' inline form) the id only names the handler: the steps run inside the run itself.
  if (!fw?.id || fw.steps.length > 0 || snapshot.status === 'active' || runStatus(snapshot) !== 'FAILED') return null;
  const ctx = snapshot.context;
  const extra = (resolveTemplate(fw.input, scopeOf(ctx)) ?? {}) as Record<string, unknown>;
  return {
    type: 'child.start', runId: ctx.runId, childRunId: failureRunId(ctx.runId), workflow: fw.id,
    input: { failedRunId: ctx.runId, failedTask: ctx.error?.task ?? null, error: ctx.error, ...extra },
    parent: { runId: ctx.runId, workflowId: ctx.workflowId, relation: 'failure' },
  };
}

/** The start of a task's current attempt, its input resolved against the run's state now. */
export function startAttempt(compiled: CompiledWorkflow, snapshot: RunSnapshot, taskId: string): StartAttempt {
  const ctx = snapshot.context;
  const plan = taskPlans(compiled).get(taskId);
  if (!plan) throw new Error(`run ${ctx.runId} has no task ${taskId}`);
  const attempt = ctx.tasks[taskId]!.attempts;
  const restart = ctx.tasks[taskId]!.restarts ?? 0;
  // The scope (every task's state) is built only when a template reads it.
  let scope: Scope | undefined;
  const scopeNow = () => (scope ??= scopeOf(ctx));
  const input = (resolveTemplate(plan.def.input, plan.inputHasRefs ? scopeNow() : NO_SCOPE) ?? {}) as Record<string, unknown>;
  const deadline = ctx.timers[`${taskId}/timeout/${attempt}`]?.dueAt;
  return {
    type: 'attempt.start', runId: ctx.runId, workflowId: ctx.workflowId, version: ctx.version, taskId, attempt, restart,
    idempotencyKey: `${ctx.runId}/${taskId}/${attempt}`, handler: plan.handler, queue: plan.queue, input,
    ...(deadline !== undefined ? { deadline } : {}),
    ...(plan.def.outputTo !== undefined ? { outputTo: String(resolveTemplate(plan.def.outputTo, scopeNow())) } : {}),
    task: plan.info,
  };
}

/** The input event a fired timer feeds back in. */
export function timerFired(timer: TimerState, nowMs: number) {
  return { type: 'timer.fired', time: iso(nowMs), data: { task: timer.task, timer: timer.kind, attempt: timer.attempt } } as const;
}

/** What starting an attempt needs of each task, worked out once per compiled workflow rather than once per attempt. */
interface TaskPlan { def: TaskDef; handler: string; queue: string; info: TaskInfo; inputHasRefs: boolean }

/** Resolves an input without references: nothing in a scope is read then, so an empty one gives the same result. */
const NO_SCOPE: Scope = Object.freeze({ input: {}, workflow: { id: '', runId: '', version: 0 }, tasks: {} });

/** What each task of a workflow needs to start an attempt; remembered per compiled workflow (task-plan-cache.ts). */
function taskPlans(compiled: CompiledWorkflow): Map<string, TaskPlan> {
  return rememberedTaskPlans(compiled, planTasks);
}

function planTasks(compiled: CompiledWorkflow): Map<string, TaskPlan> {
  return new Map(compiled.definition.tasks.map((t) => [t.id, {
    def: t, handler: handlerName(t), queue: t.queue ?? DEFAULT_QUEUE, inputHasRefs: collectRefs(t.input).length > 0,
    info: Object.freeze({ id: t.id, name: t.name, type: t.type, output: t.output, ...(t.assignedTo ? { assignedTo: t.assignedTo } : {}), ...(t.agentLevel ? { agentLevel: t.agentLevel } : {}) }),
  }]));
}
