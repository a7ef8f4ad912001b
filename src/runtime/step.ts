/**
 * The pure step of a run, in the spirit of XState's `transition()` (a pure function that does not execute actions) and
 * Temporal's workflow activation (inputs in, commands out): inputs and the time → the events to append (one commit),
 * the state they lead to, inputs that no longer apply, and the effects an executor must perform once the commit is
 * durable.
 *
 *   input ─▶ step ─▶ events appended ─▶ effects interpreted
 *                                         ├─ RunDriver: handlers in-process, timers on its clock
 *                                         └─ ClusterEngine: attempts and timers published on NATS
 *
 * The effects are `reconcile(after, held = what the state before wanted)`: exactly what the step changed. An executor
 * that lost track (a restart, a redelivered input) calls `reconcile(state)` with nothing held instead and gets every
 * outstanding effect: one derivation for both.
 */
import { instanceKey, type CompiledWorkflow } from '../compiler/index.js';
import type { EventEnvelope, PendingEvent } from '../events/index.js';
import { prepareCommit, type PreparedCommit } from './commit.js';
import type { Effect } from './effect-types.js';
import { heldBy, reconcile } from './effects.js';
import type { RunSnapshot } from './fold.js';

export interface StepResult extends PreparedCommit {
  effects: Effect[];
}

export function step(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  seq: number,
  inputs: PendingEvent[],
  nowMs: number,
): StepResult {
  const prepared = prepareCommit(compiled, snapshot, seq, inputs, nowMs);
  return { ...prepared, effects: commitEffects(compiled, snapshot, prepared.events, prepared.snapshot) };
}

/** The effects of a commit that took a run from `before` to `after` with `events`: exactly what it changed. */
export function commitEffects(
  compiled: CompiledWorkflow,
  before: RunSnapshot,
  events: readonly EventEnvelope[],
  after: RunSnapshot,
): Effect[] {
  const held = heldBy(before, compiled);
  // An attempt that reported its outcome in this step has ended by itself: nothing to abort. Unless it
  // was restarted: the outcome may be the lost run's after all, and the restarted run, if it has not
  // started, is then not wanted (its abort lets an executor drop it unrun).
  for (const ev of events) {
    if (ev.type !== 'task.completed' && ev.type !== 'task.failed') continue;
    const key = instanceKey(ev.data);
    const h = held.attempts.get(key);
    if (h && h.attempt === ev.data.attempt && h.restart === 0) held.attempts.delete(key);
  }
  return reconcile(compiled, after, held);
}
