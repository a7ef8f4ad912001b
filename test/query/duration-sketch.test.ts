/**
 * The durations `stats` keeps (src/query/duration-sketch.ts): exact nearest-rank percentiles while a set holds at most
 * EXACT_MAX, within 1% past it and never above the maximum; the same sketch whether a set is added at once or in parts
 * merged in any order; and a figures line written before (every duration in a list) still read.
 */
import { describe, expect, it } from 'vitest';
import {
  addDuration,
  emptySketch,
  EXACT_MAX,
  mergeSketch,
  percentiles,
  sketchOf,
} from '../../src/query/duration-sketch.js';
import { keptFiguresOf } from '../../src/query/cache-figures.js';

/** Deterministic durations (ms): mostly a few seconds, a tail of minutes, some zeros. */
function durations(n: number, seed: number): number[] {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
  return Array.from({ length: n }, () => {
    const u = next();
    return u < 0.05 ? 0 : Math.round(Math.exp(4 + next() * 8) * (u > 0.95 ? 20 : 1));
  });
}

const nearestRank = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};
const PS = [1, 25, 50, 90, 95, 99, 100];

describe('the durations stats keeps', () => {
  it('while at most EXACT_MAX: every value, the nearest-rank percentiles exactly', () => {
    for (const n of [1, 2, 3, 100, EXACT_MAX]) {
      const values = durations(n, n);
      const s = sketchOf(values);
      expect(s.values).toHaveLength(n);
      expect(s.buckets).toBeNull();
      expect(percentiles(s, PS)).toEqual(PS.map((p) => nearestRank(values, p)));
    }
    expect(percentiles(emptySketch(), [50, 95])).toEqual([null, null]);
  });

  it('past EXACT_MAX: a few hundred buckets at most, each percentile within 1%, count, sum and max exact', () => {
    for (const n of [EXACT_MAX + 1, 50_000, 200_000]) {
      const values = durations(n, 7 + n);
      const s = sketchOf(values);
      expect(s.values).toBeNull();
      expect(Object.keys(s.buckets!).length).toBeLessThan(800);
      expect(s.count).toBe(n);
      expect(s.sum).toBe(values.reduce((a, b) => a + b, 0));
      expect(s.max).toBe(values.reduce((a, b) => Math.max(a, b)));
      for (const [i, got] of percentiles(s, PS).entries()) {
        const exact = nearestRank(values, PS[i]!);
        expect(got!).toBeLessThanOrEqual(s.max!);
        // Within 1% of the value, or of its rounding to a whole millisecond.
        expect(Math.abs(got! - exact), `p${PS[i]} of ${n}: ${got} against ${exact}`).toBeLessThanOrEqual(
          exact * 0.01 + 1,
        );
      }
    }
  });

  it('a set added in parts and merged, in any order, is the set added at once', () => {
    const values = durations(3 * EXACT_MAX, 42);
    const whole = sketchOf(values);
    for (const cuts of [
      [10, 20],
      [EXACT_MAX - 1, EXACT_MAX + 1],
      [EXACT_MAX, 2 * EXACT_MAX],
      [1, 3 * EXACT_MAX - 1],
    ]) {
      const parts = [values.slice(0, cuts[0]), values.slice(cuts[0], cuts[1]), values.slice(cuts[1])].map(sketchOf);
      for (const order of [
        [0, 1, 2],
        [2, 1, 0],
        [1, 2, 0],
      ]) {
        const merged = emptySketch();
        for (const k of order) mergeSketch(merged, parts[k]!);
        expect(merged.count).toBe(whole.count);
        expect(merged.buckets).toEqual(whole.buckets);
        expect(percentiles(merged, PS)).toEqual(percentiles(whole, PS));
      }
    }
    // Merging does not change what is merged in.
    const a = sketchOf([1, 2, 3]);
    mergeSketch(sketchOf(durations(EXACT_MAX, 1)), a);
    expect(a).toEqual(sketchOf([1, 2, 3]));
  });

  it('a duration under 1 ms (0, or below 0 with clocks apart) reads as 0 once bucketed; the mean stays exact', () => {
    const values = [...Array.from({ length: EXACT_MAX }, () => -5), 1000];
    const s = sketchOf(values);
    expect(s.values).toBeNull();
    expect(percentiles(s, [50, 100])).toEqual([0, 1000]);
    expect(s.sum).toBe(-5 * EXACT_MAX + 1000);
    const t = emptySketch();
    addDuration(t, 0);
    expect(percentiles(t, [50])).toEqual([0]);
  });

  it('a figures line written before the sketch (every duration in a list) is read as one', () => {
    const values = durations(EXACT_MAX + 10, 3);
    const tally = {
      total: 1,
      completed: 1,
      failed: 0,
      cancelled: 0,
      active: 0,
      tasks: {},
      retries: {},
      runsWithRetries: 0,
    };
    const newest = { runId: 'r1', startedAt: '2026-01-01T00:00:00.000Z' };
    const line = (durationsAs: unknown) =>
      Buffer.from(
        JSON.stringify({ figures: { wf: { '1': { tally: { ...tally, durations: durationsAs }, newest } } } }),
      );
    const old = keptFiguresOf(line(values));
    expect(old!.wf!['1']!.tally.durations).toEqual(sketchOf(values));
    const now = keptFiguresOf(line(sketchOf(values)));
    expect(now!.wf!['1']!.tally.durations).toEqual(sketchOf(values));
    // A sketch that does not hold together is no line (the whole look answers).
    expect(keptFiguresOf(line({ ...sketchOf([1, 2]), count: 3 }))).toBeNull();
    expect(keptFiguresOf(line({ ...sketchOf([1, 2]), buckets: { '1': 2 } }))).toBeNull();
  });
});
