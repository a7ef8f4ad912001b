/**
 * The after-commit hooks both executors run once a commit of a run's own
 * rounds is durable (the in-process driver's and the NATS run host's): the
 * slots of task gates its attempts held are freed (runtime/task-gates.ts), and
 * the outcomes of attempts held to a breaker count on it
 * (docs/language.md#circuit-breakers). Each started at once; the caller
 * decides whether to wait for them. A failure is said, never thrown.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import { errorMessage } from '../errors/index.js';
import type { EventEnvelope } from '../events/index.js';
import { breakerOutcomes, slotsFreed, type RunSnapshot } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { recordBreakerOutcomes } from './breaker-gate.js';
import { releaseSlots } from './task-gate.js';

/** The hooks in flight: null where the commit had nothing for one. */
export interface AfterCommitHooks { slots: Promise<void> | null; breakers: Promise<void> | null }

/** Runs the after-commit hooks of `events` (leading `before` to `after`); `say` gets each log line with the holder it concerns. */
export function afterCommit(store: EventStore, compiled: CompiledWorkflow, before: RunSnapshot, after: RunSnapshot, events: readonly EventEnvelope[], now: () => number, say: (holder: string, line: string) => void): AfterCommitHooks {
  const freed = slotsFreed(compiled, before, after, events);
  const outcomes = breakerOutcomes(compiled, after.context.runId, events);
  return {
    slots: freed.length === 0 ? null : releaseSlots(store, freed)
      .catch((err: unknown) => say(freed[0]!.holder, `could not free a task gate slot: ${errorMessage(err)}`)),
    breakers: outcomes.length === 0 ? null : recordBreakerOutcomes(store, outcomes, now)
      .then((changes) => { for (const c of changes) say(outcomes[0]!.holder, `breaker ${c.gate} ${c.change}`); })
      .catch((err: unknown) => say(outcomes[0]!.holder, `could not record an outcome on a breaker: ${errorMessage(err)}`)),
  };
}
