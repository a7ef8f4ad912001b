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
 * hashes are remembered (see stateNode): without timers the state holds no run
 * id and no time, and runs of a definition pass through the same few states.
 */
export function recordedState(snapshot: RunSnapshot): RecordedState {
  const ctx = snapshot.context;
  let timers = false;
  for (const _ in ctx.timers) { timers = true; break; }
  if (timers) return { status: runStatus(snapshot), hash: hashOf(snapshot) };
  const node = stateNode(snapshot);
  node.hash ??= hashOf(snapshot);
  return { status: runStatus(snapshot), hash: node.hash };
}

function hashOf(snapshot: RunSnapshot): string {
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

/**
 * Remembered state hashes, in a trie walked by the parts of a state (no
 * string is built to look one up, so a lookup makes no garbage): the value's
 * names in order with its nesting marked, then each task's id, status,
 * attempts and decision case in id order. Two states on the same path have
 * the same text, so the same hash. Only states without timers are kept (a
 * timer's due time is unique to its run). Bounded: the trie starts afresh
 * when it grows past MAX_STATE_NODES.
 */
interface StateNode { next: Map<unknown, StateNode> | null; hash: string | undefined }
const OPEN = Symbol('{');
const CLOSE = Symbol('}');
const TASKS = Symbol('tasks');
const MAX_STATE_NODES = 50_000;
let stateRoot: StateNode = { next: null, hash: undefined };
let stateNodes = 0;

/** Nodes in the trie now (tests check it stays bounded). */
export function stateHashCacheSize(): number {
  return stateNodes;
}

function child(node: StateNode, key: unknown): StateNode {
  const next = (node.next ??= new Map());
  let c = next.get(key);
  if (c === undefined) {
    c = { next: null, hash: undefined };
    next.set(key, c);
    stateNodes++;
  }
  return c;
}

function valueNode(node: StateNode, value: unknown): StateNode {
  if (typeof value !== 'object' || value === null) return child(node, value);
  let n = child(node, OPEN);
  for (const key in value) n = valueNode(child(n, key), (value as Record<string, unknown>)[key]);
  return child(n, CLOSE);
}

function stateNode(snapshot: RunSnapshot): StateNode {
  if (stateNodes > MAX_STATE_NODES) {
    stateRoot = { next: null, hash: undefined };
    stateNodes = 0;
  }
  const tasks = snapshot.context.tasks;
  let n = child(valueNode(stateRoot, snapshot.value), TASKS);
  for (const id of sortedIds(tasks)) {
    const t = tasks[id]!;
    n = child(child(child(child(n, id), t.status), t.attempts), t.decision?.case ?? null);
  }
  return child(n, CLOSE);
}

/**
 * Task ids sorted. A run's tasks object keeps its keys in one order (the
 * definition's) from event to event, so the sorted list of the last call is
 * reused when the keys come in the same order: checked without building an array.
 */
let lastOrder: string[] = [];
let lastSorted: string[] = [];
function sortedIds(tasks: Record<string, unknown>): readonly string[] {
  let i = 0;
  for (const id in tasks) {
    if (lastOrder[i] !== id) {
      lastOrder = Object.keys(tasks);
      lastSorted = [...lastOrder].sort();
      return lastSorted;
    }
    i++;
  }
  if (i !== lastOrder.length) {
    lastOrder = Object.keys(tasks);
    lastSorted = [...lastOrder].sort();
  }
  return lastSorted;
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

/** JSON of task ids, statuses and state names: a small, fixed set per definition, so each is quoted once. */
const quotes = new Map<string, string>();
function quoted(name: string): string {
  let q = quotes.get(name);
  if (q === undefined) {
    if (quotes.size >= 10_000) quotes.clear();
    q = JSON.stringify(name);
    quotes.set(name, q);
  }
  return q;
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
