import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/compiler/index.js';

const policy = (
  backoff: 'fixed' | 'linear' | 'exponential',
  extra: Partial<{ maxDelayMs: number | null; jitter: number }> = {},
) => ({ maxAttempts: 10, backoff, initialDelayMs: 1000, maxDelayMs: null, jitter: 0, ...extra });

describe('retry delays', () => {
  it('fixed, linear and exponential, capped by max_delay', () => {
    const delays = (p: ReturnType<typeof policy>) => [1, 2, 3, 4].map((n) => retryDelayMs(p, n, 'run', 'task'));
    expect(delays(policy('fixed'))).toEqual([1000, 1000, 1000, 1000]);
    expect(delays(policy('linear'))).toEqual([1000, 2000, 3000, 4000]);
    expect(delays(policy('exponential'))).toEqual([1000, 2000, 4000, 8000]);
    expect(delays(policy('exponential', { maxDelayMs: 3000 }))).toEqual([1000, 2000, 3000, 3000]);
  });

  it('jitter is deterministic per (run, task, attempt) and stays within its fraction', () => {
    const p = policy('fixed', { jitter: 0.5 });
    const a = retryDelayMs(p, 1, 'run-1', 'scan');
    expect(retryDelayMs(p, 1, 'run-1', 'scan')).toBe(a);
    const spread = new Set(Array.from({ length: 20 }, (_, i) => retryDelayMs(p, 1, `run-${i}`, 'scan')));
    expect(spread.size).toBeGreaterThan(10);
    for (const d of spread) {
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });
});
