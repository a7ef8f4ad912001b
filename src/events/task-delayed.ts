/**
 * The data of `task.delayed`: an attempt held back from starting, recorded once per waiting attempt for the audit trail
 * and the timeline; like approval.refused it changes no state (the attempt stays SCHEDULED; its task.started says when
 * it was let in). `reason` breaker_open (docs/limits.md#circuit-breakers): the breaker that holds it
 * (`task/<workflow>/<task>`, `queue/<queue>`, `handler/<handler>`) and when it half-opens (absent: held open by an
 * operator); no_skilled_worker (docs/limits.md#skills): no worker or agent of the task's queue has all its `requires:`.
 */
import { z } from 'zod';
import { taskRef } from './data.js';

export const TaskDelayedData = z.discriminatedUnion('reason', [
  z.object({
    ...taskRef,
    reason: z.literal('breaker_open'),
    breaker: z.string().min(1),
    until: z.string().optional(),
  }),
  z.object({ ...taskRef, reason: z.literal('no_skilled_worker'), skills: z.array(z.string().min(1)).min(1) }),
]);

/** Why a delayed attempt waits, in words every view shows: "breaker queue/pay is open until …", "no worker with skills gpu, pdf". */
export function delayText(d: z.infer<typeof TaskDelayedData>): string {
  if (d.reason === 'no_skilled_worker') return `no worker with skills ${d.skills.join(', ')}`;
  return `breaker ${d.breaker} is open${d.until ? ` until ${d.until}` : ' until an operator closes it'}`;
}

/** The gate part a delayed attempt waits on, by name (compiler/task-gates.ts): a breaker's, or `skills/<a+b>`. */
export const delayPart = (d: z.infer<typeof TaskDelayedData>): string =>
  d.reason === 'no_skilled_worker' ? `skills/${d.skills.join('+')}` : d.breaker;
