/**
 * The JetStream store's per-run position cache (src/store/jetstream/run-positions.ts): bounded,
 * only forward unless forced, and least recently remembered evicted first among the entries
 * remembered after it was half full.
 */
import { describe, expect, it } from 'vitest';
import { RunPositions } from '../../src/store/jetstream/run-positions.js';

const pos = (run: string, seq: number) => ({
  subject: `p.wf.${run}`,
  lastStreamSeq: seq,
  lastEventSeq: seq,
  lastFirstSeq: seq,
});

describe('RunPositions', () => {
  it('moves only forward unless forced', () => {
    const c = new RunPositions(10);
    c.remember('a', pos('a', 5), false);
    c.remember('a', pos('a', 3), false);
    expect(c.get('a')?.lastStreamSeq).toBe(5);
    c.remember('a', pos('a', 3), true);
    expect(c.get('a')?.lastStreamSeq).toBe(3);
  });

  it('evicts the least recently remembered of those remembered once it was half full', () => {
    const c = new RunPositions(4);
    c.remember('a', pos('a', 1), false);
    c.remember('b', pos('b', 2), false);
    c.remember('c', pos('c', 3), false); // past half full from here on
    c.remember('a', pos('a', 4), false); // moves to the end: b, c, a
    c.remember('d', pos('d', 5), false);
    c.remember('e', pos('e', 6), false); // over capacity: b goes
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.lastStreamSeq).toBe(4);
    c.remember('c', pos('c', 7), false); // c to the end: a, d, e, c
    c.remember('f', pos('f', 8), false); // a goes (the oldest now)
    expect(c.get('a')).toBeUndefined();
    expect(['c', 'd', 'e', 'f'].map((r) => c.get(r) !== undefined)).toEqual([true, true, true, true]);
  });
});
