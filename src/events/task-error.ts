/** A task's or a run's error as the log records it: what failed, its stable code, whether a retry may help. */
import { z } from 'zod';

export const TaskErrorSchema = z.object({
  message: z.string(),
  code: z.string().optional(),
  retryable: z.boolean(),
  /**
   * How long the next attempt waits at least (an HTTP task's Retry-After, a handler's RetryAfterError): the backoff is
   * the longer of this and the retry policy's delay. Absent in older histories, which replay as before.
   */
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type TaskError = z.infer<typeof TaskErrorSchema>;
