/**
 * When a WAIT on `until` ends: its template resolved against the run's state when it starts waiting. Pure (the guard
 * that fails a malformed one and the action that arms the timer both ask, with the same context, and agree).
 */
import type { WaitTask } from '../definition/index.js';
import type { TaskError } from '../events/index.js';
import { resolveTemplate } from '../expressions/index.js';
import type { RunContext } from './context.js';
import { iso } from './iso-cache.js';
import { scopeOf } from './scope.js';

/** An ISO 8601 date (2026-01-31) or date-time (2026-01-31T09:00, seconds and fraction optional, Z or ±hh:mm). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Whether a value is an ISO 8601 time a WAIT's `until` accepts. */
export function isIsoTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_TIME.test(value.trim()) && !Number.isNaN(Date.parse(value.trim()));
}

export function waitUntil(
  task: WaitTask,
  ctx: RunContext,
): { at: string; error: null } | { at: null; error: TaskError } {
  const value = resolveTemplate(task.until ?? '', scopeOf(ctx));
  if (isIsoTime(value)) return { at: iso(Date.parse(value.trim())), error: null };
  const shown = value === undefined ? 'nothing (undefined)' : JSON.stringify(value);
  return {
    at: null,
    error: {
      code: 'LF_WAIT_UNTIL_INVALID',
      retryable: false,
      message: `WAIT task ${task.id}: until (${task.until}) gave ${shown}, not an ISO 8601 time such as 2026-01-31T09:00:00Z`,
    },
  };
}
