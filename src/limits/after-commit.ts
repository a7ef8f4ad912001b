/**
 * The after-commit hooks of both executors (the in-process driver, the NATS run host), started once a commit is
 * durable: the task-gate slots its attempts held are freed (runtime/task-gates.ts), and the outcomes of attempts held
 * to a breaker count on it (docs/limits.md#circuit-breakers). A failure is said, never thrown; waiting is the caller's.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import { errorMessage } from '../errors/index.js';
import type { EventEnvelope } from '../events/index.js';
import { breakerOutcomes, slotsFreed, type RunSnapshot } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { recordBreakerOutcomes } from './breaker-gate.js';
import { releaseSlots } from './task-gate.js';

/** Starts the hooks of `events` (leading `before` to `after`): `done` once both end, `breakers` once outcomes are counted (null: nothing to do); `say` gets each log line and its holder. */
export function afterCommit(
  store: EventStore,
  compiled: CompiledWorkflow,
  before: RunSnapshot,
  after: RunSnapshot,
  events: readonly EventEnvelope[],
  now: () => number,
  say: (holder: string, line: string) => void,
): { done: Promise<unknown> | null; breakers: Promise<void> | null } {
  const freed = slotsFreed(compiled, before, after, events);
  const outcomes = breakerOutcomes(compiled, after.context.runId, events);
  const slots =
    freed.length === 0
      ? null
      : releaseSlots(store, freed).catch((err: unknown) =>
          say(freed[0]!.holder, `could not free a task gate slot: ${errorMessage(err)}`),
        );
  const breakers =
    outcomes.length === 0
      ? null
      : recordBreakerOutcomes(store, outcomes, now)
          .then((changes) => {
            for (const c of changes) say(outcomes[0]!.holder, `breaker ${c.gate} ${c.change}`);
          })
          .catch((err: unknown) =>
            say(outcomes[0]!.holder, `could not record an outcome on a breaker: ${errorMessage(err)}`),
          );
  return { done: slots && breakers ? Promise.all([slots, breakers]) : (slots ?? breakers), breakers };
}
