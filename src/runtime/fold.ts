/**
 * The fold: a run's state is its events folded through the compiled machine
 * with XState's pure `initialTransition` / `transition`. Nothing here runs an
 * effect, reads a clock or touches a store: replay and live execution share
 * exactly this code, so they cannot disagree.
 */
import { createHash } from 'node:crypto';
import { createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { CompiledWorkflow, MachineEvent, RunContext } from '../compiler/index.js';
import { ACTIVE_TASK_STATUSES } from '../compiler/index.js';
import type { EventEnvelope, PendingEvent, RecordedState, WorkflowStatus } from '../events/index.js';

/** A machine snapshot whose context is a RunContext (XState's own generics are erased by the JSON config). */
export type RunSnapshot = Omit<AnyMachineSnapshot, 'context'> & { context: RunContext };

/** Envelope → machine event: task-scoped events get the task id in their type, so only that region listens. */
export function toMachineEvent(ev: PendingEvent | EventEnvelope): MachineEvent {
  const time = Date.parse(ev.time);
  switch (ev.type) {
    case 'task.started': return { type: `task.started.${ev.data.task}`, time, attempt: ev.data.attempt };
    case 'task.completed': return { type: `task.completed.${ev.data.task}`, time, attempt: ev.data.attempt, output: ev.data.output };
    case 'task.failed': return { type: `task.failed.${ev.data.task}`, time, attempt: ev.data.attempt, error: ev.data.error };
    case 'timer.fired': return { type: `timer.${ev.data.timer}.${ev.data.task}`, time, attempt: ev.data.attempt };
    case 'approval.recorded':
      return { type: `approval.${ev.data.decision}.${ev.data.task}`, time, by: ev.data.by, ...(ev.data.comment !== undefined ? { comment: ev.data.comment } : {}) };
    case 'run.cancelled': return { type: 'run.cancel', time, ...ev.data };
    case 'run.started': throw new Error('run.started starts a fold; it is not applied to one');
    case 'approval.refused': throw new Error('approval.refused is an audit record; it is not a machine event');
  }
}

/**
 * The state right after run.started. What XState's `initialTransition()`
 * computes, without the throw-away actor it builds per call (whose
 * constructor computes the initial state a second time): half the cost of
 * starting or loading a run.
 */
export function startFold(compiled: CompiledWorkflow, started: { runId: string; time: string; input: Record<string, unknown> }): RunSnapshot {
  const { definition, machine } = compiled;
  const input = {
    runId: started.runId, workflowId: definition.id, version: definition.version,
    input: started.input, time: Date.parse(started.time),
  };
  return machine.getInitialSnapshot(inertScope(machine), input) as RunSnapshot;
}

/**
 * XState's `transition()` builds a throw-away actor per call, and an actor
 * eagerly computes the machine's initial state: that doubled the cost of every
 * fold step. This scope is built once per machine and, like the one
 * `transition()` builds, executes nothing: actions are dropped (the driver
 * derives effects from state) and our machines spawn no children.
 */
const scopes = new WeakMap<AnyStateMachine, AnyActorScope>();
function inertScope(machine: AnyStateMachine): AnyActorScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine, { input: { runId: 'inert', workflowId: 'inert', version: 0, input: {}, time: 0 } });
    scope = {
      self, id: '', sessionId: '', system: self.system,
      defer: () => {}, logger: () => {}, stopChild: () => {}, emit: () => {}, actionExecutor: () => {},
    } as unknown as AnyActorScope;
    scopes.set(machine, scope);
  }
  return scope;
}

/** Applies one event. `accepted` is false when no transition took it (unknown task, wrong state, stale attempt). */
export function applyEvent(compiled: CompiledWorkflow, snapshot: RunSnapshot, ev: PendingEvent | EventEnvelope): { snapshot: RunSnapshot; accepted: boolean } {
  // A refused approval is recorded for the audit trail only: it changes nothing, at any time.
  if (ev.type === 'approval.refused') return { snapshot, accepted: true };
  if (snapshot.status !== 'active') return { snapshot, accepted: false };
  const next = compiled.machine.transition(snapshot as AnyMachineSnapshot, toMachineEvent(ev), inertScope(compiled.machine));
  // XState returns the very same snapshot when no transition was enabled.
  return { snapshot: next as RunSnapshot, accepted: next !== snapshot };
}

export function runStatus(snapshot: RunSnapshot): WorkflowStatus {
  if (snapshot.value === 'completed') return 'COMPLETED';
  if (snapshot.value === 'failed') return 'FAILED';
  if (snapshot.value === 'cancelled') return 'CANCELLED';
  const statuses = Object.values(snapshot.context.tasks).map((t) => t.status);
  if (statuses.some((s) => ACTIVE_TASK_STATUSES.includes(s))) return 'RUNNING';
  if (statuses.includes('PENDING_APPROVAL')) return 'WAITING';
  return 'RUNNING';
}

/** The compact state an event led to: which state each region is in, task statuses and attempts, decisions, armed timers. */
export function recordedState(snapshot: RunSnapshot): RecordedState {
  const ctx = snapshot.context;
  const compact = {
    value: snapshot.value,
    tasks: Object.keys(ctx.tasks).sort().map((id) => {
      const t = ctx.tasks[id]!;
      return [id, t.status, t.attempts, t.decision?.case ?? null];
    }),
    timers: Object.keys(ctx.timers).sort().map((k) => [k, ctx.timers[k]!.dueAt]),
  };
  const hash = createHash('sha256').update(JSON.stringify(compact)).digest('hex').slice(0, 16);
  return { status: runStatus(snapshot), hash };
}

/** Why an event was not accepted, in words a person can act on. */
export function rejectionReason(snapshot: RunSnapshot, ev: PendingEvent | EventEnvelope): string {
  if (snapshot.status !== 'active') return `the run is already ${runStatus(snapshot)}`;
  if (ev.type === 'run.cancelled' || ev.type === 'run.started' || ev.type === 'approval.refused') return `${ev.type} is not accepted in this state`;
  const task = snapshot.context.tasks[ev.data.task];
  if (!task) return `the definition has no task "${ev.data.task}"`;
  const attempt = 'attempt' in ev.data ? ` (attempt ${ev.data.attempt})` : '';
  return `${ev.type}${attempt} does not apply to task ${ev.data.task}, which is ${task.status} at attempt ${task.attempts}`;
}
