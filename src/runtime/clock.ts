/** The only place the live runtime reads time or arms timers; tests and `ledgerflow test` swap in virtual time. */
export interface Clock {
  now(): number;
  setTimer(delayMs: number, fire: () => void): unknown;
  clearTimer(handle: unknown): void;
}

// setTimeout overflows above 2^31-1 ms (about 24.8 days): longer timers re-arm in steps.
const MAX_DELAY = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fire) {
    const box: { t?: NodeJS.Timeout } = {};
    const due = Date.now() + delayMs;
    const arm = () => {
      const left = due - Date.now();
      box.t = setTimeout(left > MAX_DELAY ? arm : fire, Math.max(0, Math.min(left, MAX_DELAY)));
    };
    arm();
    return box;
  },
  clearTimer(handle) {
    clearTimeout((handle as { t?: NodeJS.Timeout }).t);
  },
};
