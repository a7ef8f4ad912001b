/**
 * trimOldest (src/bounded.ts): what the engines' and workers' memories of
 * recent things rely on. It never holds more than its bound, drops the
 * oldest first (insertion order; an entry set again is young again), and
 * keeps the newest when it trims.
 */
import { describe, expect, it } from 'vitest';
import { trimOldest } from '../src/bounded.js';

describe('trimOldest', () => {
  it('never holds more than the bound, and what it drops is the oldest', () => {
    const m = new Map<number, number>();
    for (let i = 0; i < 10_000; i++) {
      m.set(i, i);
      trimOldest(m, 64);
      expect(m.size).toBeLessThanOrEqual(64);
      expect(m.has(i)).toBe(true);
    }
    const kept = [...m.keys()];
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, k) => 10_000 - kept.length + k));
    expect(kept.length).toBeGreaterThanOrEqual(56); // an eighth at a time
  });

  it('an entry set again (deleted, then set) is kept over older ones', () => {
    const s = new Set<string>(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    s.delete('a');
    s.add('a');
    s.add('i');
    trimOldest(s, 8);
    expect(s.has('a')).toBe(true);
    expect(s.has('b')).toBe(false);
  });

  it('drops through `drop` when an entry needs more than a delete', () => {
    const m = new Map([
      ['x', 1],
      ['y', 2],
      ['z', 3],
    ]);
    const ended: string[] = [];
    trimOldest(m, 2, (k) => {
      ended.push(k);
      m.delete(k);
    });
    expect(ended).toEqual(['x']);
    expect([...m.keys()]).toEqual(['y', 'z']);
  });
});
