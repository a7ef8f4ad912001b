import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/executor/index.js';

describe('the system clock', () => {
  // Node's timers are faked (and advanced by hand), the wall clock is mocked on its own: the two
  // can then disagree as they do in a real process, without the test waiting for either.
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  // Node measures a timeout from the loop's cached time, so it can fire before Date.now() reaches
  // the due time. A backoff recorded as due at T must not be reported fired before T.
  it('never fires a timer before now() reaches its due time: an early timeout re-arms for the rest', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let now = 1_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const fired: number[] = [];
    systemClock.setTimer(10, () => fired.push(now));
    now = 1_006; // Node's timeout comes due while the wall clock still says 4 ms to go
    vi.advanceTimersByTime(40);
    expect(fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(1); // it fired early and re-armed for the rest
    now = 1_010;
    vi.advanceTimersByTime(40);
    expect(fired).toEqual([1_010]);
  });

  it('a cleared timer does not fire, also after it has re-armed', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let now = 1_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const fired: number[] = [];
    const handle = systemClock.setTimer(10, () => fired.push(now));
    now = 1_005;
    vi.advanceTimersByTime(30); // re-armed at least once
    expect(vi.getTimerCount()).toBe(1);
    systemClock.clearTimer(handle);
    expect(vi.getTimerCount()).toBe(0);
    now = 1_100;
    vi.advanceTimersByTime(30);
    expect(fired).toEqual([]);
  });
});
