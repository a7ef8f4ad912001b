/**
 * The durable timers a RunDriver has armed on its clock (retry backoffs, attempt timeouts, WAIT durations), with the
 * due time each was armed for: what the core's reconcile compares with the state's timers, and what a stop or a drain
 * clears. A timer that fires goes back into the loop as an input (timer.fired).
 */
import type { TimerState } from '../compiler/index.js';
import type { Clock } from '../executor/index.js';

export interface ArmedTimer {
  handle: unknown;
  dueAt: string;
}

export class ArmedTimers {
  /** By timer id, as reconcile reads what is held. */
  readonly armed = new Map<string, ArmedTimer>();

  constructor(private readonly clock: Clock) {}

  /** Arms `timer` for its due time; `fire` is called once it is due, unless it was cancelled or armed again meanwhile. */
  arm(timer: TimerState, fire: (timer: TimerState) => void): void {
    // Armed before for another time (a restarted attempt's timeout): this one replaces it.
    const before = this.armed.get(timer.id);
    if (before) this.clock.clearTimer(before.handle);
    const delay = Math.max(0, Date.parse(timer.dueAt) - this.clock.now());
    const armed: ArmedTimer = { handle: null, dueAt: timer.dueAt };
    this.armed.set(timer.id, armed);
    armed.handle = this.clock.setTimer(delay, () => {
      if (this.armed.get(timer.id) === armed) this.armed.delete(timer.id);
      fire(timer);
    });
  }

  cancel(timerId: string): void {
    this.clock.clearTimer(this.armed.get(timerId)?.handle);
    this.armed.delete(timerId);
  }

  /** Clears every timer armed here (the driver stops or drains: the log keeps them for the next one). */
  clear(): void {
    for (const t of this.armed.values()) this.clock.clearTimer(t.handle);
    this.armed.clear();
  }
}
