/**
 * A run queued for a concurrency slot with `holds` (run.queued of every start since 2026-11-23) has not begun: until
 * run.admitted nothing of it moves. Users read QUEUED as "not started" (Kestra's and Inngest's queued runs run
 * nothing), so an approval, a signal or a WAIT's timer must not settle such a run behind its limit's back; and a `WAIT
 * 3s` or an approval's `timeout` is counted from the admission, not from a start the run only waited through. The run's
 * own `timeout:` does count the queued time (a run that has not settled in that time, however it spent it), and cancel
 * applies at any time.
 *
 * Runs queued before `holds` existed fold as they did: timers fired and approvals were taken while they were queued,
 * and their logs record that.
 */
import type { RunContext, TimerState } from './context.js';
import type { ImplementationEvent } from './implementation-args.js';
import { iso, isoMs } from './iso-cache.js';
import { nowOf } from './action-kit.js';
import { RUN_TIMEOUT_TIMER_ID, RUN_TIMER_TASK } from './run-timeout.js';

/** The time of the event being folded, in ms. */
export const nowMs = (ctx: RunContext, e: ImplementationEvent): number => isoMs(nowOf(ctx, e));

/** Whether the run is held: queued with `holds` and not yet admitted. */
export const isHeld = (ctx: RunContext): boolean => ctx.heldSince !== undefined;

/** The kinds of event a held run takes: its admission, its end (cancel, a failure recorded for it) and its own timeout. */
export function movesWhileHeld(ev: { type: string; data: unknown }): boolean {
  if (ev.type === 'run.admitted' || ev.type === 'run.cancelled' || ev.type === 'run.failed') return true;
  if (ev.type !== 'timer.fired') return false;
  const d = ev.data as { task?: unknown; timer?: unknown };
  return d.task === RUN_TIMER_TASK && d.timer === 'run_timeout';
}

/** Why a held run refused an event, in words a person can act on. */
export const HELD_REASON =
  'the run is QUEUED for a concurrency slot and has not begun: nothing of it moves until it is admitted (approve or signal it then; `ledgerflow cancel` drops it)';

/** The timers moved on by `waitedMs` (the time the run was queued), all but the run's own timeout, which counts queued time. */
export function timersMovedOn(timers: Record<string, TimerState>, waitedMs: number): Record<string, TimerState> {
  if (waitedMs <= 0) return timers;
  const out: Record<string, TimerState> = {};
  for (const id in timers) {
    const t = timers[id]!;
    out[id] = id === RUN_TIMEOUT_TIMER_ID ? t : { ...t, dueAt: iso(isoMs(t.dueAt) + waitedMs) };
  }
  return out;
}
