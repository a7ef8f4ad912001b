/**
 * A long run's state value, `{ <parallel state>: { <region>: <state>, ... } }`, whose inner record is built only when
 * something reads it: most snapshots of a long run are never asked (the state hash reads the configuration), and
 * building a record of thousands of keys at every microstep made a long run's fold quadratic.
 *
 * It used to be an object literal with a `get value()` accessor. V8 gives every such literal a map of its own (a new
 * closure is a new accessor pair), and with those objects the young generation's survivors grew with the run: in a
 * 3,000-task chain the scavenger copied ~14 MB per cycle and GC took half of the fold (2026-11-23, `--trace-gc-nvp`). A
 * Proxy over a target that holds the region vector is created like any other object, and one handler serves every
 * value. It reads, enumerates, spreads, serializes and compares as the plain record (the same keys in the same order),
 * and refuses writes, as a snapshot is never changed in place.
 */
import type { RegionState } from './chart-model.js';
import type { PersistentVector } from './persistent-vector.js';

const SLOT = Symbol('ledgerflow.lazyRegions');

/** The target: the region vector, and the plain record once something asked. */
interface Target {
  [SLOT]: { readonly states: PersistentVector<RegionState>; record: Record<string, string> | null };
}

/** `{ <region key>: <state key> }` in document order. */
function regionRecord(states: PersistentVector<RegionState>): Record<string, string> {
  const regions: Record<string, string> = {};
  for (const chunk of states.chunks) for (const s of chunk) regions[s.region.key] = s.key;
  return regions;
}

const recordIn = (target: object): Record<string, string> => {
  const slot = (target as Target)[SLOT];
  return (slot.record ??= regionRecord(slot.states));
};
const own = (record: Record<string, string>, key: string | symbol): key is string =>
  typeof key === 'string' && Object.hasOwn(record, key);

const handler: ProxyHandler<object> = {
  get: (target, key) => {
    if (key === SLOT) return undefined;
    const record = recordIn(target);
    return own(record, key) ? record[key] : Reflect.get(target, key);
  },
  has: (target, key) => key !== SLOT && (own(recordIn(target), key) || Reflect.has(target, key)),
  ownKeys: (target) => Object.keys(recordIn(target)),
  getOwnPropertyDescriptor: (target, key) => {
    if (key === SLOT) return undefined;
    const record = recordIn(target);
    return own(record, key)
      ? { value: record[key], writable: true, enumerable: true, configurable: true }
      : Reflect.getOwnPropertyDescriptor(target, key);
  },
  set: () => false,
  defineProperty: () => false,
  deleteProperty: () => false,
};

/** The regions' record of `states`, built on first read. */
export function lazyRegions(states: PersistentVector<RegionState>): Record<string, string> {
  const target: Target = { [SLOT]: { states, record: null } };
  return new Proxy(target, handler) as Record<string, string>;
}
