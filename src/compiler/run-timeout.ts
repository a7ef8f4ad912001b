/**
 * A workflow's run timeout (`timeout:` on the workflow): one durable timer, armed in the state right after run.started,
 * due `timeout` after that envelope's time (never a clock). Paused time counts: the timer stays armed while the run is
 * paused, as Temporal's and Conductor's run timeouts count wall time. When it fires (`timer.fired` for the `$run`
 * timer), the parallel state leaves for `failed` or `cancelled` (timeout_policy), whose `finish` records LF_RUN_TIMEOUT
 * as the run's error; settling aborts the attempts and cancels the child runs, as any end does. A workflow without a
 * timeout has no such timer and no such transition: its chart and states are as they were.
 */
import type { Definition } from '../definition/index.js';
import type { RunContext, RunError, TimerState } from './context.js';
import type { ImplementationEvent } from './implementation-args.js';
import { iso, isoMs } from './iso-cache.js';

/** The timer's "task": no task id starts with `$`, so it is never a task's. */
export const RUN_TIMER_TASK = '$run';
/** The machine event its firing becomes (fold.ts: `timer.<kind>.<task>`). */
export const RUN_TIMEOUT_EVENT = `timer.run_timeout.${RUN_TIMER_TASK}`;
/** The run error of a run that reached its timeout. */
const RUN_TIMEOUT_CODE = 'LF_RUN_TIMEOUT';

/** Whether a timer (or a timer.fired's data) is the run timeout's rather than a task's. */
export const isRunTimer = (t: { task: string }): boolean => t.task === RUN_TIMER_TASK;

/** The run timer for a run started at `startMs`, or null when the workflow has no timeout. */
export function runTimer(def: Definition, startMs: number): TimerState | null {
  if (def.timeoutMs === undefined) return null;
  const ref = { task: RUN_TIMER_TASK, kind: 'run_timeout' as const, attempt: 1 };
  return { id: TIMER_ID, ...ref, dueAt: iso(startMs + def.timeoutMs) };
}

/** The run timer's id in the state's timers. */
export const RUN_TIMEOUT_TIMER_ID = `${RUN_TIMER_TASK}/run_timeout/1`;
const TIMER_ID = RUN_TIMEOUT_TIMER_ID;

/** The guard of the timeout's transition: its timer is armed, the event is for it and comes at or after its due time. */
export function runTimeoutDue(context: RunContext, event: ImplementationEvent): boolean {
  const timer = context.timers[TIMER_ID];
  return timer !== undefined && event.attempt === 1 && event.time !== undefined && event.time >= isoMs(timer.dueAt);
}

/** When a run of `def` started at `startedAt` times out (ISO), or null without a timeout. */
export function runDeadline(def: Definition, startedAt: string): string | null {
  return def.timeoutMs === undefined ? null : iso(Date.parse(startedAt) + def.timeoutMs);
}

/** `2h`, `1h30m`, `1500ms`: a duration as short text, for messages. */
export function durationText(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.join('');
}

/** The error a run that reached its timeout ends with (FAILED or CANCELLED as timeout_policy says). */
export function runTimeoutError(def: Definition): RunError {
  const text = durationText(def.timeoutMs ?? 0);
  return {
    code: RUN_TIMEOUT_CODE,
    retryable: false,
    message: `run timed out: not settled ${text} after it started (workflow timeout: ${text}, timeout_policy: ${def.timeoutPolicy ?? 'fail'})`,
  };
}
