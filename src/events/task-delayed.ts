/**
 * The data of `task.delayed`, the one event a circuit breaker records in the
 * runs it holds back (docs/language.md#circuit-breakers): an audit record
 * beside the fold's events, kept apart so the event catalogue stays small.
 */
import { z } from 'zod';

/**
 * An attempt held back from starting (docs/language.md#circuit-breakers): `reason` breaker_open, the breaker that
 * holds it (`task/<workflow>/<task>`, `queue/<queue>`, `handler/<handler>`) and when it half-opens (absent: held
 * open by an operator). Recorded once per waiting attempt, for the audit trail and the timeline: like
 * approval.refused it changes no state (the attempt stays SCHEDULED; its task.started says when it was let in).
 */
export const TaskDelayedData = z.object({
  task: z.string().min(1),
  attempt: z.number().int().positive(),
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
  reason: z.enum(['breaker_open']),
  breaker: z.string().min(1),
  until: z.string().optional(),
});
