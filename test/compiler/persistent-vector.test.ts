/**
 * The fold's persistent vector (src/compiler/persistent-vector.ts): versions
 * share unchanged chunks, and a version says which items may differ from an
 * earlier version of its lineage (what the state hash of a long run re-writes
 * instead of comparing every chunk). What it says must cover every item that
 * differs, whatever order versions are made in; when it cannot say, null.
 */
import { describe, expect, it } from 'vitest';
import { PersistentVector } from '../../src/compiler/persistent-vector.js';
import { prng } from './random-events.js';

const differing = <T>(a: PersistentVector<T>, b: PersistentVector<T>): number[] => {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a.get(i) !== b.get(i)) out.push(i);
  return out;
};

describe('PersistentVector', () => {
  it('replaces items without changing the version it was made from, and shares the chunks it did not touch', () => {
    const v = PersistentVector.from(Array.from({ length: 200 }, (_, i) => i));
    const w = v.with(130, -1);
    expect(v.get(130)).toBe(130);
    expect(w.get(130)).toBe(-1);
    expect(w.chunks[0]).toBe(v.chunks[0]);
    expect(w.chunks[2]).not.toBe(v.chunks[2]);
    const x = w.withAll([[0, -2], [199, -3], [1, -4]]);
    expect(x.toArray().filter((n) => n < 0)).toEqual([-2, -4, -1, -3]);
    expect(w.toArray().filter((n) => n < 0)).toEqual([-1]);
  });

  it('says which items changed since an earlier version of its lineage, in order, and that it cannot for any other', () => {
    const v = PersistentVector.from(Array.from({ length: 200 }, (_, i) => i));
    expect(v.changesSince(v, 10)).toEqual([]);
    const a = v.with(5, -1);
    const b = a.withAll([[70, -2], [5, -3]]);
    expect(b.changesSince(v, 10)).toEqual([5, 70, 5]);
    expect(b.changesSince(a, 10)).toEqual([70, 5]);
    expect(b.changesSince(v, 2)).toBeNull();
    // An earlier version is not one made since.
    expect(v.changesSince(b, 10)).toBeNull();
    // A branch (a version made from one that is not the newest of its lineage) starts a lineage of its own.
    const sibling = a.with(6, -4);
    expect(sibling.changesSince(a, 10)).toBeNull();
    expect(sibling.changesSince(b, 10)).toBeNull();
    expect(b.changesSince(sibling, 10)).toBeNull();
    // Another vector altogether.
    expect(b.changesSince(PersistentVector.from(Array.from({ length: 200 }, (_, i) => i)), 10)).toBeNull();
  });

  it('covers every item that differs, on random branching histories', () => {
    const rng = prng(20261124);
    const versions = [PersistentVector.from(Array.from({ length: 300 }, (_, i) => ({ i })))];
    for (let n = 0; n < 3_000; n++) {
      // Mostly from the newest version (a run's states in order), sometimes from an older one (a branch).
      const from = rng() < 0.8 ? versions.at(-1)! : versions[Math.floor(rng() * versions.length)]!;
      const k = 1 + Math.floor(rng() * 3);
      const changes = Array.from({ length: k }, () => [Math.floor(rng() * 300), { i: -n }] as const);
      versions.push(k === 1 && rng() < 0.5 ? from.with(changes[0]![0], changes[0]![1]) : from.withAll(changes));
    }
    let known = 0;
    for (let n = 0; n < 3_000; n++) {
      // Mostly versions made a few apart (a state hashed, and the next one hashed a few changes later).
      const j = Math.floor(rng() * versions.length);
      const a = versions[rng() < 0.8 ? Math.max(0, j - Math.floor(rng() * 12)) : Math.floor(rng() * versions.length)]!;
      const b = versions[j]!;
      const said = b.changesSince(a, 64);
      if (said === null) continue;
      known++;
      for (const i of differing(a, b)) expect(said).toContain(i);
    }
    expect(known).toBeGreaterThan(300);
  });
});
