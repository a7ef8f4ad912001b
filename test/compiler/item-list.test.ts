/**
 * A MAP's items as the fold keeps them (src/compiler/item-list.ts): a long list is a vector behind an array's face, and
 * every list carries its counts. What a reader of `tasks[id].items` relies on — a list that looks, iterates, compares
 * and serialises as the array it stands for, and never changes — and what the fold relies on — each event's list the
 * same as copying the array and scanning it (the rules before the counts) — for lists on both sides of the threshold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ItemState, TaskStatus } from '../../src/compiler/context.js';
import { itemCounts, itemsUnderWay, VECTOR_FROM_ITEMS } from '../../src/compiler/item-list.js';
import { allItemsSettled, startItems, withItem } from '../../src/compiler/map.js';
import type { MapTask } from '../../src/definition/index.js';

const mapOf = (over: Partial<MapTask>): MapTask => ({ id: 'm', type: 'MAP', items: '${x}', ...over }) as MapTask;

const SETTLED = new Set<TaskStatus>(['COMPLETED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'CANCELLED']);
const IN_FLIGHT = new Set<TaskStatus>(['SCHEDULED', 'IN_PROGRESS', 'RETRYING']);

/** withItem as it was written before the counts: copy the array, scan it for failures, slots and PENDING items. */
function withItemByScan(map: MapTask, items: readonly ItemState[], i: number, item: ItemState): ItemState[] {
  const out = items.slice();
  out[i] = item;
  if (!SETTLED.has(item.status)) return out;
  const failed = out.filter((it) => it.status === 'FAILED' || it.status === 'TIMED_OUT').length;
  if (failed > (map.optional ? Infinity : (map.tolerateFailures ?? 0))) {
    for (let j = 0; j < out.length; j++) if (out[j]!.status === 'PENDING') out[j] = { ...out[j]!, status: 'SKIPPED' };
    return out;
  }
  let inFlight = out.filter((it) => IN_FLIGHT.has(it.status)).length;
  const slots = map.maxConcurrency ?? Infinity;
  for (let j = 0; j < out.length && inFlight < slots; j++) {
    if (out[j]!.status === 'PENDING') {
      out[j] = { ...out[j]!, status: 'SCHEDULED' };
      inFlight++;
    }
  }
  return out;
}

const plain = (items: readonly ItemState[]) => JSON.parse(JSON.stringify(items)) as ItemState[];

describe('a long MAP list', () => {
  const values = Array.from({ length: VECTOR_FROM_ITEMS + 500 }, (_, i) => ({ n: i }));
  const list = startItems(mapOf({ maxConcurrency: 3 }), values);
  const copy = plain(list);

  it('reads as the array it stands for: index, length, iteration, the array methods, JSON, keys, equality', () => {
    expect(Array.isArray(list)).toBe(true);
    expect(list.length).toBe(values.length);
    expect(list[0]!.status).toBe('SCHEDULED');
    expect(list[3]!.status).toBe('PENDING');
    expect(list[values.length - 1]!.value).toEqual({ n: values.length - 1 });
    expect(list[values.length]).toBeUndefined();
    expect(list['01' as unknown as number]).toBeUndefined();
    expect(0 in list && values.length - 1 in list && !(values.length in list)).toBe(true);
    expect([...list].map((it) => it.value)).toEqual(values);
    let n = 0;
    for (const it of list) if ((it.value as { n: number }).n === n) n++;
    expect(n).toBe(values.length);
    expect(list.map((it) => it.status).filter((s) => s === 'SCHEDULED')).toHaveLength(3);
    expect(list.slice(2, 5).map((it) => it.status)).toEqual(['SCHEDULED', 'PENDING', 'PENDING']);
    expect(list.findIndex((it) => it.status === 'PENDING')).toBe(3);
    expect(list.some((it) => it.status === 'COMPLETED')).toBe(false);
    expect(Object.keys(list)).toHaveLength(values.length);
    expect(Object.entries(list)[7]).toEqual(['7', copy[7]]);
    expect(JSON.stringify(list)).toBe(JSON.stringify(copy));
    expect(JSON.stringify({ items: list })).toBe(JSON.stringify({ items: copy }));
    expect(list).toEqual(copy);
    expect({ ...{ items: list } }.items).toBe(list);
  });

  it('never changes: writes are refused, and an event makes a new list', () => {
    expect(() => {
      (list as ItemState[])[0] = copy[5]!;
    }).toThrow(TypeError);
    expect(() => (list as ItemState[]).push(copy[0]!)).toThrow(TypeError);
    expect(() => {
      (list as ItemState[]).length = 0;
    }).toThrow(TypeError);
    const next = withItem(mapOf({ maxConcurrency: 3 }), list, 0, { ...list[0]!, status: 'COMPLETED' });
    expect(next).not.toBe(list);
    expect(list).toEqual(copy);
    expect(next[0]!.status).toBe('COMPLETED');
    expect(next[3]!.status).toBe('SCHEDULED');
    expect(next[1]).toBe(list[1]);
  });
});

/** A random run of item events over a list: each event settles, retries or starts an item under way. */
const runOf = fc.record({
  length: fc.constantFrom(5, 70, VECTOR_FROM_ITEMS + 40),
  maxConcurrency: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
  tolerateFailures: fc.integer({ min: 0, max: 4 }),
  steps: fc.array(
    fc.record({
      pick: fc.nat(),
      to: fc.constantFrom<TaskStatus>(
        'IN_PROGRESS',
        'COMPLETED',
        'COMPLETED',
        'FAILED',
        'TIMED_OUT',
        'RETRYING',
        'SCHEDULED',
      ),
    }),
    { maxLength: 300 },
  ),
});

describe('each event on a MAP list', () => {
  it('gives the list copying and scanning gave, with counts and bounds that match a count of it', () => {
    fc.assert(
      fc.property(runOf, ({ length, maxConcurrency, tolerateFailures, steps }) => {
        const map = mapOf({ maxConcurrency, tolerateFailures });
        let kept = startItems(
          map,
          Array.from({ length }, (_, i) => i),
        );
        let scanned = plain(kept);
        for (const { pick, to } of steps) {
          const underWay = scanned.flatMap((it, i) => (IN_FLIGHT.has(it.status) ? [i] : []));
          if (underWay.length === 0) break;
          const i = underWay[pick % underWay.length]!;
          const item = { ...scanned[i]!, status: to, attempts: scanned[i]!.attempts + (to === 'IN_PROGRESS' ? 1 : 0) };
          // Now and then the list is a plain array read back (a fold snapshot's JSON), not one an event made.
          if (pick % 13 === 0) kept = plain(kept);
          kept = withItem(map, kept, i, item);
          scanned = withItemByScan(map, scanned, i, item);
          expect(plain(kept)).toEqual(scanned);
          const counts = itemCounts(kept).byStatus;
          for (const s of new Set(scanned.map((it) => it.status)))
            expect(counts[s], s).toBe(scanned.filter((it) => it.status === s).length);
          const { from, to: end } = itemsUnderWay(kept);
          scanned.forEach((it, j) => {
            if (IN_FLIGHT.has(it.status))
              expect(j >= from && j < end, `item ${j} ${it.status} in [${from}, ${end})`).toBe(true);
          });
          expect(allItemsSettled(kept)).toBe(scanned.every((it) => SETTLED.has(it.status)));
        }
      }),
      { numRuns: 60 },
    );
  });
});
