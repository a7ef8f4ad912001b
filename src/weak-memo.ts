/**
 * The one shape most of ledgerflow's caches share: a value computed from an object, remembered per object in a WeakMap
 * (so bounded by the objects still in use), with a way to empty it and to turn it off. The `*-cache.ts` modules each
 * hold one and say why it exists; src/caches.ts lists them.
 */
export interface WeakMemo<K extends object, V> {
  /** `compute(key)`, remembered for this key while enabled. */
  get(key: K, compute: (key: K) => V): V;
  clear(): void;
  /** Off: every call computes afresh (on again starts empty). */
  setEnabled(on: boolean): void;
}

export function weakMemo<K extends object, V>(): WeakMemo<K, V> {
  let enabled = true;
  let values = new WeakMap<K, V>();
  const clear = () => {
    values = new WeakMap();
  };
  return {
    get(key, compute) {
      if (!enabled) return compute(key);
      let value = values.get(key);
      if (value === undefined) {
        value = compute(key);
        values.set(key, value);
      }
      return value;
    },
    clear,
    setEnabled(on) {
      enabled = on;
      clear();
    },
  };
}
