/**
 * The fold: a run's state is its events folded through the compiled
 * statechart, run by the compiler's interpreter (src/compiler/interpreter.ts),
 * which computes exactly what XState's pure `initialTransition` /
 * `transition` would, at a fraction of the cost. Nothing here runs an effect,
 * reads a clock or touches a store: replay and live execution share exactly
 * this code, so they cannot disagree.
 */
import * as crypto from 'node:crypto';
import type { CompiledWorkflow, FoldSnapshot, MachineEvent } from '../compiler/index.js';
import { ACTIVE_TASK_STATUSES } from '../compiler/index.js';
import type { EventEnvelope, PendingEvent, RecordedState, WorkflowStatus } from '../events/index.js';
import { quoted, rememberedStateHash, sortedIds } from './state-hash-cache.js';

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
    case 'task.restarted': return { type: `task.restarted.${ev.data.task}`, time, attempt: ev.data.attempt, restart: ev.data.restart };
    case 'approval.recorded':
      return { type: `approval.${ev.data.decision}.${ev.data.task}`, time, by: ev.data.by, ...(ev.data.comment !== undefined ? { comment: ev.data.comment } : {}) };
    case 'run.cancelled': return { type: 'run.cancel', time, ...ev.data };
    case 'run.failed': return { type: 'run.fail', time, error: ev.data.error };
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
  let approval = false;
  for (const id in snapshot.context.tasks) {
    const status = snapshot.context.tasks[id]!.status;
    if (ACTIVE_TASK_STATUSES.includes(status)) return 'RUNNING';
    if (status === 'PENDING_APPROVAL') approval = true;
  }
  return approval ? 'WAITING' : 'RUNNING';
}

/** sha256 in one call where Node has it (20.12+): half the cost of a Hash object for these ~200-byte inputs. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const sha256Hex: (text: string) => string = typeof oneShot === 'function'
  ? (text) => oneShot('sha256', text, 'hex')
  : (text) => crypto.createHash('sha256').update(text).digest('hex');

/**
 * The compact state an event led to: which state each region is in, task
 * statuses and attempts, decisions, armed timers. The hash is the first 16 hex
 * digits of sha256 over
 * `JSON.stringify({ value, tasks: [[id, status, attempts, case]...], timers: [[id, dueAt]...] })`
 * (tasks and timers sorted by id). Logs record it, so that text must never
 * change (stateText writes it). Every event of every run pays for this, so
 * hashes are remembered (state-hash-cache.ts).
 */
export function recordedState(snapshot: RunSnapshot): RecordedState {
  return { status: runStatus(snapshot), hash: rememberedStateHash(snapshot, stateHash) };
}

function stateHash(snapshot: RunSnapshot): string {
  return sha256Hex(stateText(snapshot)).slice(0, 16);
}

/** The text the state hash is taken of (see recordedState), written directly: building the arrays and objects first cost more than hashing. */
function stateText(snapshot: RunSnapshot): string {
  const ctx = snapshot.context;
  let text = `{"value":${valueText(snapshot.value)},"tasks":[`;
  const ids = sortedIds(ctx.tasks);
  for (let i = 0; i < ids.length; i++) {
    const t = ctx.tasks[ids[i]!]!;
    const decision = t.decision?.case;
    text += `${i > 0 ? ',' : ''}[${quoted(ids[i]!)},${quoted(t.status)},${t.attempts},${decision === undefined || decision === null ? 'null' : JSON.stringify(decision)}]`;
  }
  text += '],"timers":[';
  let timers: string[] | null = null; // mostly none: no array then
  for (const id in ctx.timers) (timers ??= []).push(id);
  if (timers) {
    timers.sort();
    for (let i = 0; i < timers.length; i++) {
      text += `${i > 0 ? ',' : ''}[${JSON.stringify(timers[i])},${JSON.stringify(ctx.timers[timers[i]!]!.dueAt)}]`;
    }
  }
  text += ']}';
  return text;
}

/** JSON.stringify of a state value (nested objects of state names), from quoted names. */
function valueText(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  let text = '{';
  let first = true;
  for (const key in value as Record<string, unknown>) {
    text += `${first ? '' : ','}${quoted(key)}:${valueText((value as Record<string, unknown>)[key])}`;
    first = false;
  }
  return `${text}}`;
}

/** Why an event was not accepted, in words a person can act on. */
export function rejectionReason(snapshot: RunSnapshot, ev: PendingEvent | EventEnvelope): string {
  if (snapshot.status !== 'active') return `the run is already ${runStatus(snapshot)}`;
  if (ev.type === 'run.cancelled' || ev.type === 'run.failed' || ev.type === 'run.started' || ev.type === 'approval.refused') return `${ev.type} is not accepted in this state`;
  const task = snapshot.context.tasks[ev.data.task];
  if (!task) return `the definition has no task "${ev.data.task}"`;
  const attempt = 'attempt' in ev.data ? ` (attempt ${ev.data.attempt}${'restart' in ev.data ? `, restart ${ev.data.restart}` : ''})` : '';
  return `${ev.type}${attempt} does not apply to task ${ev.data.task}, which is ${task.status} at attempt ${task.attempts}${task.restarts ? ` (restarted ${task.restarts} times)` : ''}`;
}
