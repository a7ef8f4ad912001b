/**
 * An immutable array that is updated by copying one chunk, not the whole:
 * what lets a run's state change one task at a time in O(chunk + n/chunk)
 * instead of O(n) (a 3,000-task chain copied every task on every event, which
 * made it quadratic). Two levels of chunks of CHUNK items; chunks are never
 * mutated once built, so an unchanged chunk is the same object in every
 * version that shares it, and the state hash reuses its text by identity
 * (runtime/state-hash-cache.ts).
 */
export const CHUNK = 64;
const SHIFT = 6; // log2(CHUNK)
const MASK = CHUNK - 1;

export class PersistentVector<T> {
  private constructor(
    /** Chunks of CHUNK items (the last may be shorter); never mutated. */
    readonly chunks: readonly (readonly T[])[],
    readonly length: number,
  ) {}

  static from<T>(items: readonly T[]): PersistentVector<T> {
    const chunks: T[][] = [];
    for (let i = 0; i < items.length; i += CHUNK) chunks.push(items.slice(i, i + CHUNK));
    return new PersistentVector(chunks, items.length);
  }

  get(i: number): T {
    return this.chunks[i >> SHIFT]![i & MASK]!;
  }

  /** A new vector with item i replaced; this one is unchanged. */
  with(i: number, item: T): PersistentVector<T> {
    if (i < 0 || i >= this.length) throw new RangeError(`index ${i} outside a vector of ${this.length}`);
    const c = i >> SHIFT;
    const chunk = this.chunks[c]!.slice();
    chunk[i & MASK] = item;
    const chunks = this.chunks.slice();
    chunks[c] = chunk;
    return new PersistentVector(chunks, this.length);
  }

  /** Several replacements at once: each touched chunk is copied once. */
  withAll(changes: readonly (readonly [number, T])[]): PersistentVector<T> {
    if (changes.length === 1) return this.with(changes[0]![0], changes[0]![1]);
    const chunks = this.chunks.slice() as T[][];
    const copied = new Set<number>();
    for (const [i, item] of changes) {
      if (i < 0 || i >= this.length) throw new RangeError(`index ${i} outside a vector of ${this.length}`);
      const c = i >> SHIFT;
      if (!copied.has(c)) { chunks[c] = chunks[c]!.slice(); copied.add(c); }
      chunks[c]![i & MASK] = item;
    }
    return new PersistentVector(chunks, this.length);
  }

  toArray(): T[] {
    return ([] as T[]).concat(...this.chunks);
  }
}
