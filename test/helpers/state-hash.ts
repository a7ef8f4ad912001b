/**
 * The state-hash cache's bound, checked the same way for each hash format
 * (test/runtime/recorded-state.test.ts: format 1, state-hash-v2.test.ts:
 * format 2): tens of thousands of distinct states (one task's attempt count),
 * each asked twice (once new, once remembered), each hashed as the format's
 * reference says, the cache filling up and starting afresh within its bound.
 */
import { expect } from 'vitest';
import { recordedState, type RunSnapshot } from '../../src/runtime/index.js';

export async function expectBoundedStateHashCache(
  base: RunSnapshot,
  reference: (snapshot: RunSnapshot) => string,
): Promise<void> {
  const { stateHashCacheSize } = await import('../../src/runtime/state-hash-cache.js');
  const b = base.context.tasks.b!;
  let maxSize = 0;
  for (let attempts = 0; attempts < 30_000; attempts++) {
    const snap: RunSnapshot = {
      ...base,
      context: { ...base.context, tasks: { ...base.context.tasks, b: { ...b, attempts } } },
    };
    const expected = reference(snap);
    expect(recordedState(snap).hash).toBe(expected);
    expect(recordedState(snap).hash).toBe(expected);
    maxSize = Math.max(maxSize, stateHashCacheSize());
  }
  expect(maxSize).toBeLessThanOrEqual(50_000 + 64);
  expect(maxSize).toBeGreaterThan(40_000); // it did fill up and start afresh
}
