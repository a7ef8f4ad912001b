/**
 * The data of `task.delayed`, the one event a circuit breaker records in the runs it holds back
 * (docs/limits.md#circuit-breakers): an audit record beside the fold's events, kept apart so the event catalogue stays
 * small.
 */
import { z } from 'zod';

/**
 * An attempt held back from starting (docs/limits.md#circuit-breakers): `reason` breaker_open, the breaker that holds
 * it (`task/<workflow>/<task>`, `queue/<queue>`, `handler/<handler>`) and when it half-opens (absent: held open by an
 * operator). Recorded once per waiting attempt, for the audit trail and the timeline: like approval.refused it changes
 * no state (the attempt stays SCHEDULED; its task.started says when it was let in).
 */
const Instance = {
  task: z.string().min(1),
  attempt: z.number().int().positive(),
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
};

/**
 * `reason` no_skilled_worker (docs/limits.md#skills): no worker or agent serving the task's queue has every skill its
 * `requires:` lists; recorded once per waiting attempt, as a breaker's hold is.
 */
export const TaskDelayedData = z.discriminatedUnion('reason', [
  z.object({
    ...Instance,
    reason: z.literal('breaker_open'),
    breaker: z.string().min(1),
    until: z.string().optional(),
  }),
  z.object({ ...Instance, reason: z.literal('no_skilled_worker'), skills: z.array(z.string().min(1)).min(1) }),
]);

/** Why a delayed attempt waits, in words every view shows: "breaker queue/pay is open until …", "no worker with skills gpu, pdf". */
export function delayText(d: z.infer<typeof TaskDelayedData>): string {
  if (d.reason === 'no_skilled_worker') return `no worker with skills ${d.skills.join(', ')}`;
  return `breaker ${d.breaker} is open${d.until ? ` until ${d.until}` : ' until an operator closes it'}`;
}

/** The gate part a delayed attempt waits on, by name (compiler/task-gates.ts): a breaker's, or `skills/<a+b>`. */
export const delayPart = (d: z.infer<typeof TaskDelayedData>): string =>
  d.reason === 'no_skilled_worker' ? `skills/${d.skills.join('+')}` : d.breaker;
