import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/runtime/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the system clock', () => {
  afterEach(() => vi.restoreAllMocks());

  // Node measures a timeout from the loop's cached time, so it can fire before Date.now() reaches
  // the due time. A backoff recorded as due at T must not be reported fired before T.
  it('never fires a timer before now() reaches its due time: an early timeout re-arms for the rest', async () => {
    let now = 1_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const fired: number[] = [];
    systemClock.setTimer(10, () => fired.push(now));
    now = 1_006; // Node's timeout comes due while the wall clock still says 4 ms to go
    await sleep(40);
    expect(fired).toEqual([]);
    now = 1_010;
    await sleep(40);
    expect(fired).toEqual([1_010]);
  });

  it('a cleared timer does not fire, also after it has re-armed', async () => {
    let now = 1_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const fired: number[] = [];
    const handle = systemClock.setTimer(10, () => fired.push(now));
    now = 1_005;
    await sleep(30); // re-armed at least once
    systemClock.clearTimer(handle);
    now = 1_100;
    await sleep(30);
    expect(fired).toEqual([]);
  });
});
