/**
 * Task flow control (`concurrency:` and `rate_limit:` on a task, docs/limits.md#task-concurrency-and-rate-limits), the
 * part the core decides: which attempts wait, and which slots a step frees. Pure.
 *
 * An attempt of a gated task is not started by the fold as others are (prepareCommit): the task (a MAP: the item) stays
 * SCHEDULED, and reconcile asks the executor for an `attempt.wait`. The executor asks its gate port ("may this attempt
 * start now?", limits/task-gate.ts) and, once granted, feeds the attempt's task.started back in, stamped with the time
 * of the grant: the wait is the SCHEDULED span in the history, the attempt's time (and its timeout) start when it
 * really starts, and old histories (no gates) replay as they always did. Conductor's model: the task stays SCHEDULED
 * until it may start.
 */
import {
  durationText,
  instanceFields,
  instanceKey,
  itemsWithStatus,
  underWayWithStatus,
  type CompiledWorkflow,
  type GatePart,
  type InstanceRef,
  type RunContext,
  type TaskGate,
} from '../compiler/index.js';
export { gatesOf, type GatePart, type TaskGate } from '../compiler/index.js';
import { DEFAULT_PRIORITY } from '../definition/index.js';
import type { EventEnvelope, PendingEvent } from '../events/index.js';
import type { RunSnapshot } from './fold.js';

/** Every gated task of a workflow: part of the compiled workflow, with the limits file's limits when the executor bound them (CompiledWorkflow.bound). */
export function taskGates(compiled: CompiledWorkflow): ReadonlyMap<string, TaskGate> {
  return compiled.gates;
}

const partText = (p: GatePart, open: ReadonlySet<string> | undefined): string => {
  const parts: string[] = [];
  if (p.concurrency !== undefined) parts.push(`concurrency limit ${p.concurrency}`);
  if (p.rate) parts.push(`rate limit ${p.rate.limit} per ${durationText(p.rate.perMs)}`);
  // A breaker holds attempts only while open: named when the caller knows it is (its state is the store's, not the log's).
  if (p.breaker && (open === undefined || open.has(p.name))) parts.push('breaker to close');
  // Likewise a skill set, named only when nobody has it (or the caller cannot tell).
  if (p.skills && (open === undefined || open.has(p.name))) parts.push(`a worker with skills ${p.skills.join(', ')}`);
  const text = parts.join(' and ');
  if (text === '') return '';
  return p.owner === 'task' ? text : `${p.owner} ${p.of}'s ${text}`;
};

/**
 * What a waiting attempt of a gate waits for, in words: "concurrency limit 2", "rate limit 5 per 1s", "queue payments's
 * rate limit 100 per 1s", "breaker to close". `openBreakers`: the gate parts whose breaker is open now (a closed one is
 * no reason to wait); without it every breaker is named. Empty when nothing holds the attempt.
 */
export function gateText(gate: TaskGate, openBreakers?: ReadonlySet<string>): string {
  return gate.parts
    .map((p) => partText(p, openBreakers))
    .filter((t) => t !== '')
    .join(' and ');
}

/** An attempt waiting for its gate: the instance (task, loop iteration, MAP item), the attempt it will be. */
interface WaitingAttempt {
  readonly key: string;
  readonly ref: InstanceRef;
  readonly attempt: number;
  readonly gate: TaskGate;
}

const SCHEDULED = ['SCHEDULED'] as const;
const IN_PROGRESS = ['IN_PROGRESS'] as const;

/** Every attempt of a gated task the run has scheduled and not started: what waits for a slot or a rate token. */
export function attemptsWaiting(compiled: CompiledWorkflow, ctx: RunContext): WaitingAttempt[] {
  const gates = taskGates(compiled);
  if (gates.size === 0 || ctx.paused === true) return [];
  const out: WaitingAttempt[] = [];
  const { tasks } = ctx;
  for (const task of underWayWithStatus(tasks, SCHEDULED)) {
    const gate = gates.get(task);
    const t = tasks[task]!;
    // A MAP's own start is not an attempt: its items are (below).
    if (!gate || compiled.definition.tasks.find((d) => d.id === task)?.type === 'MAP') continue;
    const ref: InstanceRef = t.iteration === undefined ? { task } : { task, iteration: t.iteration };
    out.push({ key: instanceKey(ref), ref, attempt: t.attempts + 1, gate });
  }
  for (const task of underWayWithStatus(tasks, IN_PROGRESS)) {
    const gate = gates.get(task);
    const items = tasks[task]!.items;
    if (!gate || !items) continue;
    const iteration = tasks[task]!.iteration;
    for (const i of itemsWithStatus(items, 'SCHEDULED')) {
      const ref: InstanceRef = iteration === undefined ? { task, item: i } : { task, iteration, item: i };
      out.push({ key: instanceKey(ref), ref, attempt: items[i]!.attempts + 1, gate });
    }
  }
  return out;
}

/** Whether the run still has this attempt waiting (not started, cancelled or moved on): a wait that is not lets its place go. */
export function stillWaiting(compiled: CompiledWorkflow, snapshot: RunSnapshot, key: string, attempt: number): boolean {
  if (snapshot.status !== 'active') return false;
  return attemptsWaiting(compiled, snapshot.context).some((w) => w.key === key && w.attempt === attempt);
}

/** Whether the run's log says this attempt of a gated instance is running: the slot it was granted is still held. */
export function holdsSlot(snapshot: RunSnapshot, ref: InstanceRef, attempt: number): boolean {
  if (snapshot.status !== 'active') return false;
  const t = snapshot.context.tasks[ref.task];
  if (!t || t.iteration !== ref.iteration) return false;
  const s = ref.item !== undefined ? t.items?.[ref.item] : t.items ? undefined : t;
  return s?.status === 'IN_PROGRESS' && s.attempts === attempt;
}

/** What an event about attempt `w` says first: its task, attempt and instance. */
const attemptData = (w: { ref: InstanceRef; attempt: number }) => ({
  task: w.ref.task,
  attempt: w.attempt,
  ...instanceFields(w.ref),
});

/** The input that starts a waiting attempt once its gate granted it: task.started, at the time of the grant. */
export function grantedStart(w: { ref: InstanceRef; attempt: number }, time: string): PendingEvent {
  return { type: 'task.started', time, data: attemptData(w) };
}

/** The audit record of an attempt an open breaker holds (docs/limits.md#circuit-breakers): it changes no state. */
export function delayedByBreaker(
  w: { ref: InstanceRef; attempt: number },
  breaker: string,
  until: string | undefined,
  time: string,
): PendingEvent {
  return {
    type: 'task.delayed',
    time,
    data: { ...attemptData(w), reason: 'breaker_open', breaker, ...(until !== undefined ? { until } : {}) },
  };
}

/** The audit record of an attempt nobody with the skills it requires can take (docs/limits.md#skills): it changes no state. */
export function delayedBySkills(
  w: { ref: InstanceRef; attempt: number },
  skills: readonly string[],
  time: string,
): PendingEvent {
  return { type: 'task.delayed', time, data: { ...attemptData(w), reason: 'no_skilled_worker', skills: [...skills] } };
}

/** A slot an attempt held: the gate part (its name), and the attempt by its holder key `<runId>/<instance>/<attempt>`. */
export interface SlotRef {
  readonly gate: string;
  readonly holder: string;
}

/** The key an attempt holds a gate's slot under. */
export const holderKey = (runId: string, key: string, attempt: number): string => `${runId}/${key}/${attempt}`;

/**
 * The slots a commit freed: attempts of gated tasks running before it, or started within it, and not running after
 * (completed, failed, timed out, retried, aborted with the run's end). A restart keeps its slot (the same attempt runs
 * again).
 */
export function slotsFreed(
  compiled: CompiledWorkflow,
  before: RunSnapshot,
  after: RunSnapshot,
  events: readonly EventEnvelope[] = [],
): SlotRef[] {
  const gates = taskGates(compiled);
  if (gates.size === 0) return [];
  const candidates = new Map<string, { ref: InstanceRef; attempt: number; gates: string[] }>();
  const add = (ref: InstanceRef, attempt: number) => {
    const held =
      gates
        .get(ref.task)
        ?.parts.filter((p) => p.concurrency !== undefined)
        .map((p) => p.name) ?? [];
    if (held.length > 0) candidates.set(`${instanceKey(ref)}/${attempt}`, { ref, attempt, gates: held });
  };
  if (before.status === 'active') {
    const { tasks } = before.context;
    for (const task of underWayWithStatus(tasks, IN_PROGRESS)) {
      if (!gates.has(task)) continue;
      const t = tasks[task]!;
      const it = t.iteration !== undefined ? { iteration: t.iteration } : {};
      if (t.items)
        for (const i of itemsWithStatus(t.items, 'IN_PROGRESS')) add({ task, ...it, item: i }, t.items[i]!.attempts);
      else if (!isMapTask(compiled, task)) add({ task, ...it }, t.attempts);
    }
  }
  for (const ev of events) {
    if (ev.type !== 'task.started' || !gates.has(ev.data.task)) continue;
    const { task, item } = ev.data;
    if (item === undefined && isMapTask(compiled, task)) continue;
    add({ task, ...instanceFields(ev.data) }, ev.data.attempt);
  }
  const out: SlotRef[] = [];
  for (const [k, c] of candidates) {
    if (!holdsSlot(after, c.ref, c.attempt))
      for (const gate of c.gates) out.push({ gate, holder: `${before.context.runId}/${k}` });
  }
  return out;
}

export const isMapTask = (compiled: CompiledWorkflow, task: string): boolean =>
  compiled.definition.tasks.find((d) => d.id === task)?.type === 'MAP';

/** The priority a run's waiting attempts have: its start's (run.started `priority`), else the workflow's `priority:` (default 50). */
export function runPriority(compiled: CompiledWorkflow, ctx: RunContext): number {
  return ctx.priority ?? compiled.definition.priority ?? DEFAULT_PRIORITY;
}

/** The outcome of an attempt a breaker counts: the gate part (its name), the attempt by its holder key, and whether it succeeded. */
export interface BreakerOutcome {
  readonly gate: string;
  readonly holder: string;
  readonly ok: boolean;
  readonly breaker: NonNullable<GatePart['breaker']>;
}

/**
 * The outcomes a commit recorded for attempts of tasks held to a breaker (docs/limits.md#circuit-breakers): every
 * task.completed (success), task.failed and attempt timeout (failure), for each breaker the task is held to.
 */
export function breakerOutcomes(
  compiled: CompiledWorkflow,
  runId: string,
  events: readonly EventEnvelope[],
): BreakerOutcome[] {
  const gates = taskGates(compiled);
  if (gates.size === 0) return [];
  const out: BreakerOutcome[] = [];
  for (const ev of events) {
    // An attempt's timeout is recorded as its timer firing, not as a task.failed: a failure all the same.
    const timedOut = ev.type === 'timer.fired' && ev.data.timer === 'timeout';
    if (ev.type !== 'task.completed' && ev.type !== 'task.failed' && !timedOut) continue;
    const breakers = gates.get(ev.data.task)?.parts.filter((p) => p.breaker !== undefined);
    if (!breakers || breakers.length === 0) continue;
    const { task, item, attempt } = ev.data;
    // A MAP's own outcome is no attempt's: its items' are.
    if (item === undefined && isMapTask(compiled, task)) continue;
    const key = instanceKey({ task, ...instanceFields(ev.data) });
    for (const p of breakers)
      out.push({
        gate: p.name,
        holder: holderKey(runId, key, attempt),
        ok: ev.type === 'task.completed',
        breaker: p.breaker!,
      });
  }
  return out;
}
