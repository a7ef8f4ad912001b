/** The only place the live runtime reads time or arms timers; tests and `ledgerflow test` swap in virtual time. */
export interface Clock {
  now(): number;
  setTimer(delayMs: number, fire: () => void): unknown;
  clearTimer(handle: unknown): void;
  /**
   * Keeps the process alive until the returned function is called: a driver holds it while attempts are in flight,
   * since a handler's pending promise alone keeps nothing alive (Node then ends the process mid-run, exit 13). Virtual
   * clocks leave it out.
   */
  keepAlive?(): () => void;
}

// setTimeout overflows above 2^31-1 ms (about 24.8 days): longer timers re-arm in steps.
const MAX_DELAY = 2 ** 31 - 1;

// Node measures a timeout from the event loop's cached time, which can lag Date.now() by the length of the current
// tick, so a timeout may fire a millisecond or more before now() reaches its due time. A timer that fires early re-arms
// for the rest: a backoff or timeout recorded as due at T is never reported fired before T.

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fire) {
    const box: { t?: NodeJS.Timeout } = {};
    const due = Date.now() + delayMs;
    const arm = () => {
      const left = due - Date.now();
      if (left <= 0) fire();
      else box.t = setTimeout(arm, Math.min(left, MAX_DELAY));
    };
    box.t = setTimeout(arm, Math.max(0, Math.min(delayMs, MAX_DELAY)));
    return box;
  },
  clearTimer(handle) {
    clearTimeout((handle as { t?: NodeJS.Timeout }).t);
  },
  keepAlive() {
    const t = setInterval(() => {}, MAX_DELAY);
    return () => clearInterval(t);
  },
};
