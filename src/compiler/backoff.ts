/**
 * Retry delays. Pure: the jitter is derived from (runId, taskId, attempt), so a replay, or another engine taking over,
 * computes the same delay.
 */
import type { RetryPolicy } from '../definition/index.js';
import type { TaskError } from '../events/index.js';

/** FNV-1a 32-bit: a stable, dependency-free hash for jitter (not for security). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Delay before attempt `failedAttempt + 1`, after attempt `failedAttempt` (1-based) failed. */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, runId: string, taskId: string): number {
  const n = Math.max(1, failedAttempt);
  let delay = policy.initialDelayMs;
  if (policy.backoff === 'linear') delay = policy.initialDelayMs * n;
  else if (policy.backoff === 'exponential') delay = policy.initialDelayMs * 2 ** (n - 1);
  if (policy.maxDelayMs !== null) delay = Math.min(delay, policy.maxDelayMs);
  if (policy.jitter > 0) {
    const unit = fnv1a(`${runId}/${taskId}/${n}`) / 0xffffffff;
    delay = delay * (1 - policy.jitter * unit);
  }
  return Math.round(delay);
}

/** The delay before retrying after `error`: at least as long as the failure said to wait (Retry-After). */
export const retryDelayAfter = (policy: RetryPolicy, error: TaskError, attempt: number, runId: string, key: string) =>
  Math.max(retryDelayMs(policy, attempt, runId, key), error.retryAfterMs ?? 0);
