/**
 * What a run asks of the world, worked out from its state alone. This is a pure function that does not execute
 * anything: the local driver runs attempts in-process and arms timers on its clock, the NATS engine publishes attempts
 * to workers and timer messages; both read the same list.
 *
 * `reconcile(snapshot, held)` compares what the state wants (an attempt for every IN_PROGRESS task, a timer for every
 * armed timer) with what an executor holds, and returns the difference: starts and arms for what is wanted and not
 * held, aborts and cancels for what is held and no longer wanted. With nothing held (a resume after `kill -9`, a
 * redelivered NATS input) it yields every outstanding effect; after a step, `step()` passes the state before it as what
 * is held, so the effects are exactly what the step changed. Live execution and recovery are one code path.
 */
import {
  forkBranchAt,
  instanceFields,
  instanceKey,
  instanceState,
  isHeld,
  iso,
  itemsWithStatus,
  RUN_TIMEOUT_TIMER_ID,
  scopeOf,
  underWayWithStatus,
  type CompiledWorkflow,
  type InstanceRef,
  type RunContext,
  type TimerState,
} from '../compiler/index.js';
import {
  DEFAULT_PRIORITY,
  DEFAULT_QUEUE,
  HTTP_HANDLER,
  TRANSFORM_HANDLER,
  type ForkBranch,
} from '../definition/index.js';
import { failureHandlerDefinition } from './failure-handler.js';
import { resolveTemplate, type Scope, type SecretSite } from '../expressions/index.js';
import { childRunId, emitEventId, failureRunId } from '../compiler/children.js';
import { runStatus, type RunSnapshot } from './fold.js';
import { resolveCommand } from './commands.js';
import { isDynamicName, resolveName } from './dynamic-names.js';
import { attemptsWaiting, runPriority } from './task-gates.js';
import type { Effect, Held, HeldAttempt, StartAttempt, StartChild } from './effect-types.js';

/** The queue a task's attempts go to when it names none (definition/task-handlers.ts). */
export { DEFAULT_QUEUE };

const NOTHING_HELD: Held = Object.freeze({
  attempts: new Map<string, HeldAttempt>(),
  timers: new Map<string, { dueAt: string }>(),
});

const IN_PROGRESS = ['IN_PROGRESS'] as const;

/** An attempt the state wants in flight: the instance, under its key, at this attempt and run of it. */
interface WantedAttempt {
  readonly key: string;
  readonly ref: InstanceRef;
  readonly attempt: number;
  readonly restart: number;
}

/** Every attempt the state wants in flight (an active run's): one per task instance in progress. */
function attemptsWanted(ctx: RunContext): WantedAttempt[] {
  const wanted: WantedAttempt[] = [];
  const { tasks } = ctx;
  // The tasks under way, not every task: a long run keeps them listed (task-table.ts).
  for (const task of underWayWithStatus(tasks, IN_PROGRESS)) {
    const t = tasks[task]!;
    // IN_PROGRESS with no attempt started: a task that runs none of its own (a DO_WHILE: its body tasks run).
    if (t.attempts === 0) continue;
    const ref: InstanceRef = t.iteration === undefined ? { task } : { task, iteration: t.iteration };
    if (t.items) {
      // A mapping MAP wants its items in progress, not an attempt of its own.
      const items = t.items;
      for (const i of itemsWithStatus(items, 'IN_PROGRESS')) {
        const it = items[i]!;
        const itemRef: InstanceRef = { ...ref, item: i };
        wanted.push({ key: instanceKey(itemRef), ref: itemRef, attempt: it.attempts, restart: it.restarts ?? 0 });
      }
      continue;
    }
    wanted.push({ key: instanceKey(ref), ref, attempt: t.attempts, restart: t.restarts ?? 0 });
  }
  return wanted;
}

/** Whether the state still wants this attempt (of this instance, this run of it) in flight. */
function isWanted(ctx: RunContext, ref: InstanceRef, attempt: number, restart: number): boolean {
  const t = instanceState(ctx, ref);
  return t?.status === 'IN_PROGRESS' && t.attempts === attempt && (t.restarts ?? 0) === restart;
}

/** A held run (queued-hold.ts) wants only its own timeout armed: its other timers wait for its admission, which moves them on. */
const timerWanted = (ctx: RunContext, id: string): boolean => !isHeld(ctx) || id === RUN_TIMEOUT_TIMER_ID;

/** The timers an executor keeps armed for the run: all of them, or only its own timeout while it is held. */
export function timersArmed(ctx: RunContext): TimerState[] {
  const out: TimerState[] = [];
  for (const id in ctx.timers) if (timerWanted(ctx, id)) out.push(ctx.timers[id]!);
  return out;
}

/** What a snapshot holds, as an executor that had acted on it would: used to diff a step's before and after. */
export function heldBy(
  snapshot: RunSnapshot,
  compiled?: CompiledWorkflow,
): {
  attempts: Map<string, HeldAttempt & { restart: number; ref: InstanceRef }>;
  timers: Map<string, { dueAt: string }>;
  waits: Map<string, number>;
} {
  const attempts = new Map<string, HeldAttempt & { restart: number; ref: InstanceRef }>();
  const timers = new Map<string, { dueAt: string }>();
  const waits = new Map<string, number>();
  if (snapshot.status === 'active') {
    for (const w of attemptsWanted(snapshot.context))
      attempts.set(w.key, { attempt: w.attempt, restart: w.restart, ref: w.ref });
    for (const id in snapshot.context.timers)
      if (timerWanted(snapshot.context, id)) timers.set(id, snapshot.context.timers[id]!);
    if (compiled) for (const w of attemptsWaiting(compiled, snapshot.context)) waits.set(w.key, w.attempt);
  }
  return { attempts, timers, waits };
}

/** The effects that make the world match the state, given what is already held. Pure. */
export function reconcile(compiled: CompiledWorkflow, snapshot: RunSnapshot, held: Held = NOTHING_HELD): Effect[] {
  const ctx = snapshot.context;
  const effects: Effect[] = [];
  const settled = snapshot.status !== 'active';
  for (const [key, { attempt, restart = 0, ref = { task: key } }] of held.attempts) {
    if (settled || !isWanted(ctx, ref, attempt, restart)) {
      const t = instanceState(ctx, ref) ?? ctx.tasks[ref.task];
      effects.push({
        type: 'attempt.abort',
        runId: ctx.runId,
        taskId: ref.task,
        ...instanceFields(ref),
        instance: key,
        attempt,
        restart,
        reason: settled
          ? `run is ${runStatus(snapshot)}`
          : `attempt ${attempt} is no longer wanted (${t?.status}${t?.restarts ? `, restarted ${t.restarts} times` : ''})`,
      });
    }
  }
  for (const timerId of held.timers.keys()) {
    if (settled || !ctx.timers[timerId] || !timerWanted(ctx, timerId))
      effects.push({ type: 'timer.cancel', runId: ctx.runId, timerId });
  }
  if (settled) {
    const failure = failureChild(compiled, snapshot);
    if (failure) effects.push(failure);
    return effects;
  }
  for (const id in ctx.timers) {
    if (!timerWanted(ctx, id)) continue;
    // Armed for another time (a restarted attempt's timeout): arming it again replaces it.
    if (held.timers.get(id)?.dueAt !== ctx.timers[id]!.dueAt)
      effects.push({ type: 'timer.arm', runId: ctx.runId, timer: ctx.timers[id]! });
  }
  for (const w of attemptsWanted(ctx)) {
    const h = held.attempts.get(w.key);
    if (h?.attempt !== w.attempt || (h.restart ?? 0) !== w.restart) effects.push(startWork(compiled, snapshot, w));
  }
  for (const w of attemptsWaiting(compiled, ctx)) {
    if (held.waits?.get(w.key) === w.attempt) continue;
    effects.push({
      type: 'attempt.wait',
      runId: ctx.runId,
      workflowId: ctx.workflowId,
      taskId: w.ref.task,
      ...instanceFields(w.ref),
      instance: w.key,
      attempt: w.attempt,
      gate: w.gate,
      priority: runPriority(compiled, ctx),
    });
  }
  return effects;
}

/**
 * What a running attempt asks for: a handler's run, or for the tasks the
 * executor performs itself, a child run (SUB_WORKFLOW) or an event (EMIT).
 */
function startWork(compiled: CompiledWorkflow, snapshot: RunSnapshot, wanted: WantedAttempt): Effect {
  const start = startAttempt(compiled, snapshot, wanted);
  const { taskId } = start;
  const instance = instanceFields(wanted.ref);
  const def = taskPlans(compiled).get(taskId)!.def;
  // A FORK_DYNAMIC's branch runs its own handler or workflow (compiler/fork-dynamic.ts).
  const branch = forkBranchAt(def, snapshot.context.tasks, wanted.ref.item);
  // A SUB_WORKFLOW's attempt, or a MAP item's when its body is a workflow: a child run (its input the item's).
  const named = branch ? branch.workflow : def.type === 'SUB_WORKFLOW' || def.type === 'MAP' ? def.workflow : undefined;
  const version = branch ? branch.version : def.type === 'SUB_WORKFLOW' || def.type === 'MAP' ? def.version : undefined;
  if (named && (def.type === 'SUB_WORKFLOW' || def.type === 'MAP')) {
    const ctx = snapshot.context;
    // `workflow: ${...}`: chosen now, from the recorded state (dynamic-names.ts).
    // A branch's name is data, never a template: only the definition's own text is resolved.
    const workflow = !branch && isDynamicName(named) ? resolveName(named, scopeOf(ctx)) : named;
    return {
      type: 'child.start',
      runId: ctx.runId,
      childRunId: childRunId(ctx.runId, wanted.ref, start.attempt),
      workflow,
      ...(def.type === 'SUB_WORKFLOW' && def.wait === false ? { detach: true as const } : {}),
      ...(version !== undefined ? { version } : {}),
      input: start.input,
      parent: { runId: ctx.runId, workflowId: ctx.workflowId, task: taskId, ...instance, attempt: start.attempt },
      instance: wanted.key,
      restart: start.restart,
    };
  }
  if (def.type === 'EMIT') {
    const ctx = snapshot.context;
    const data = (resolveTemplate(def.data, scopeOf(ctx)) ?? {}) as Record<string, unknown>;
    return {
      type: 'event.emit',
      runId: ctx.runId,
      taskId,
      ...instance,
      instance: wanted.key,
      attempt: start.attempt,
      restart: start.restart,
      event: def.event,
      data,
      eventId: emitEventId(ctx.runId, wanted.key, start.attempt),
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
  if (!fw || snapshot.status === 'active' || runStatus(snapshot) !== 'FAILED') return null;
  // With `steps` (the inline form) the steps naming tasks run inside the run itself; the built-in
  // ones (log_to_incident, …) make a run of their own, its definition written out here, not looked up.
  const builtin = fw.steps.length > 0 ? failureHandlerDefinition(compiled.definition) : null;
  if (fw.steps.length > 0 ? !builtin : !fw.id) return null;
  const ctx = snapshot.context;
  const extra = builtin ? {} : ((resolveTemplate(fw.input, scopeOf(ctx)) ?? {}) as Record<string, unknown>);
  return {
    type: 'child.start',
    runId: ctx.runId,
    childRunId: failureRunId(ctx.runId),
    workflow: builtin ? builtin.id : fw.id,
    input: { failedRunId: ctx.runId, failedTask: ctx.error?.task ?? null, error: ctx.error, ...extra },
    parent: { runId: ctx.runId, workflowId: ctx.workflowId, relation: 'failure' },
    ...(builtin ? { definition: builtin } : {}),
  };
}

/** The start of an instance's current attempt, its input resolved against the run's state now. */
export function startAttempt(compiled: CompiledWorkflow, snapshot: RunSnapshot, wanted: WantedAttempt): StartAttempt {
  const ctx = snapshot.context;
  const { ref, key, attempt, restart } = wanted;
  const taskId = ref.task;
  const plan = taskPlans(compiled).get(taskId);
  if (!plan) throw new Error(`run ${ctx.runId} has no task ${taskId}`);
  // The scope (every task's state) is built only when a template reads it (no closure for that: one attempt each).
  let scope: Scope | undefined;
  // A MAP item's input is its body's, with the item and its position in scope.
  const item = ref.item === undefined ? undefined : ctx.tasks[taskId]!.items?.[ref.item];
  const inputScope = !plan.inputHasRefs
    ? NO_SCOPE
    : ref.item === undefined
      ? (scope ??= scopeOf(ctx))
      : { ...(scope ??= scopeOf(ctx)), item: item?.value, index: ref.item };
  const secrets: SecretSite[] = [];
  // A FORK_DYNAMIC's branch brings its input, data the run recorded (no template in it is resolved).
  const branch = forkBranchAt(plan.def, ctx.tasks, ref.item);
  const input = branch
    ? branch.input
    : ((resolveTemplate(plan.def.input, inputScope, secrets, ['input']) ?? {}) as Record<string, unknown>);
  // A COMMAND's argv, cwd and env are resolved like its input (a MAP item's with the item in scope).
  const command =
    plan.def.type === 'COMMAND'
      ? resolveCommand(
          plan.def,
          ref.item === undefined
            ? (scope ??= scopeOf(ctx))
            : { ...(scope ??= scopeOf(ctx)), item: item?.value, index: ref.item },
          secrets,
        )
      : undefined;
  // The run's own timeout bounds every attempt too (a NATS worker aborts its handler then, as the run ends).
  const deadline = earlier(ctx.timers[`${key}/timeout/${attempt}`]?.dueAt, ctx.timers[RUN_TIMEOUT_TIMER_ID]?.dueAt);
  const priority = runPriority(compiled, ctx);
  const start: { -readonly [K in keyof StartAttempt]: StartAttempt[K] } = {
    type: 'attempt.start',
    runId: ctx.runId,
    workflowId: ctx.workflowId,
    version: ctx.version,
    taskId,
    ...instanceFields(ref),
    instance: key,
    attempt,
    restart,
    idempotencyKey: `${ctx.runId}/${key}/${attempt}`,
    handler: branch
      ? branchHandler(branch)
      : isDynamicName(plan.handler)
        ? resolveName(plan.handler, (scope ??= scopeOf(ctx)))
        : plan.handler,
    queue: plan.queue,
    input,
    workflowInput: ctx.input,
  } as StartAttempt;
  if (deadline !== undefined) start.deadline = deadline; // optional fields in the order spreads gave them, no object per spread
  if (plan.def.outputTo !== undefined && ref.item === undefined)
    start.outputTo = String(resolveTemplate(plan.def.outputTo, (scope ??= scopeOf(ctx))));
  if (command) start.command = command;
  if (compiled.definition.inlineLimit !== undefined) start.inlineLimit = compiled.definition.inlineLimit;
  if (plan.def.type === 'TRANSFORM')
    start.transform = plan.def.js !== undefined ? { js: plan.def.js } : { jq: plan.def.jq ?? '' };
  else if (branch?.transform) start.transform = branch.transform;
  start.task = plan.info;
  if (priority !== DEFAULT_PRIORITY) start.priority = priority;
  if (secrets.length > 0) start.secrets = secrets;
  return start;
}
/**
 * The handler a FORK_DYNAMIC branch's attempt runs: an HTTP branch's request goes to the HTTP executor (its allow-list
 * and limits), a TRANSFORM branch's program to the executor's own jq / js, as those tasks' attempts do.
 */
const branchHandler = (b: ForkBranch): string =>
  b.type === 'HTTP' ? HTTP_HANDLER : b.type === 'TRANSFORM' ? TRANSFORM_HANDLER : (b.handler ?? b.id);

const earlier = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined || a <= b ? a : b;

/**
 * The queue a task's attempts are handed out on (a MAP's: its body's), as the run's definition
 * says; undefined for a task the workflow does not have. What an executor checks a report of an
 * attempt against: it comes from the queue the attempt was handed out on, or from nobody entitled.
 */
export function attemptQueue(compiled: CompiledWorkflow, taskId: string): string | undefined {
  return taskPlans(compiled).get(taskId)?.queue;
}

/** The queue and handler a task's attempts are handed out on (a MAP's: its body's); undefined for a task the workflow does not have. */
export function attemptPlan(
  compiled: CompiledWorkflow,
  taskId: string,
): { queue: string; handler: string } | undefined {
  const plan = taskPlans(compiled).get(taskId);
  return plan ? { queue: plan.queue, handler: plan.handler } : undefined;
}

/** The input event a fired timer feeds back in. */
export function timerFired(timer: TimerState, nowMs: number) {
  return {
    type: 'timer.fired',
    time: iso(nowMs),
    data: { task: timer.task, timer: timer.kind, attempt: timer.attempt, ...instanceFields(timer) },
  } as const;
}

/** Resolves an input without references: nothing in a scope is read then, so an empty one gives the same result. */
const NO_SCOPE: Scope = Object.freeze({ input: {}, workflow: { id: '', runId: '', version: 0 }, tasks: {} });

/** What each task of a workflow needs to start an attempt: part of the compiled workflow (compiler/task-plans.ts). */
const taskPlans = (compiled: CompiledWorkflow) => compiled.taskPlans;
