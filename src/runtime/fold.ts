/**
 * The fold: a run's state is its events folded through the compiled
 * statechart, run by the compiler's interpreter (src/compiler/interpreter.ts),
 * which computes exactly what XState's pure `initialTransition` /
 * `transition` would, at a fraction of the cost. Nothing here runs an effect,
 * reads a clock or touches a store: replay and live execution share exactly
 * this code, so they cannot disagree.
 */
import { createHash } from 'node:crypto';
import type { CompiledWorkflow, FoldSnapshot, MachineEvent } from '../compiler/index.js';
import { ACTIVE_TASK_STATUSES } from '../compiler/index.js';
import type { EventEnvelope, PendingEvent, RecordedState, WorkflowStatus } from '../events/index.js';

/** A run's state: the statechart's value, its status and the run context. */
export type RunSnapshot = FoldSnapshot;

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

/** The state right after run.started. */
export function startFold(compiled: CompiledWorkflow, started: { runId: string; time: string; input: Record<string, unknown> }): RunSnapshot {
  const { definition } = compiled;
  return compiled.interpreter.initial({
    runId: started.runId, workflowId: definition.id, version: definition.version,
    input: started.input, time: Date.parse(started.time),
  });
}

/** Applies one event. `accepted` is false when no transition took it (unknown task, wrong state, stale attempt). */
export function applyEvent(compiled: CompiledWorkflow, snapshot: RunSnapshot, ev: PendingEvent | EventEnvelope): { snapshot: RunSnapshot; accepted: boolean } {
  // A refused approval is recorded for the audit trail only: it changes nothing, at any time.
  if (ev.type === 'approval.refused') return { snapshot, accepted: true };
  if (snapshot.status !== 'active') return { snapshot, accepted: false };
  const next = compiled.interpreter.transition(snapshot, toMachineEvent(ev));
  // Like XState, the interpreter returns the very same snapshot when no transition was enabled.
  return { snapshot: next, accepted: next !== snapshot };
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
