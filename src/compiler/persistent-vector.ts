/**
 * An immutable array that is updated by copying one chunk, not the whole:
 * what lets a run's state change one task at a time in O(chunk + n/chunk)
 * instead of O(n) (a 3,000-task chain copied every task on every event, which
 * made it quadratic). Two levels of chunks of CHUNK items; chunks are never
 * mutated once built, so an unchanged chunk is the same object in every
 * version that shares it, and the state hash reuses its text by identity
 * (runtime/state-hash-cache.ts).
 *
 * Each version also says which items changed since an earlier version of the
 * same lineage (changesSince): the state hash of a long run re-writes the
 * entries an event changed, where finding them by comparing every chunk (and
 * every item of a changed chunk) with the last state hashed cost, per event,
 * in proportion to the run's size.
 */
export const CHUNK = 64;
const SHIFT = 6; // log2(CHUNK)
const MASK = CHUNK - 1;

/**
 * A lineage's log of changes: the indices replaced, in order, by each version
 * made from the newest one (the log's tip). Shared by the versions of one
 * lineage and appended to in place: a version at `at` is the one at `at - 1`
 * with the items at `indices[at - 1]` replaced (several for withAll), so the
 * items that differ between two versions of one log are those logged between
 * them. Only numbers: a log keeps no version alive.
 */
interface ChangeLog { readonly indices: number[] }

/** A log is started afresh past this many changes (and by a version made from one that is not its log's tip). */
const MAX_LOG = 1024;

export class PersistentVector<T> {
  private constructor(
    /** Chunks of CHUNK items (the last may be shorter); never mutated. */
    readonly chunks: readonly (readonly T[])[],
    readonly length: number,
    private readonly log: ChangeLog,
    /** How many of the log's changes this version includes. */
    private readonly logged: number,
  ) {}

  static from<T>(items: readonly T[]): PersistentVector<T> {
    const chunks: T[][] = [];
    for (let i = 0; i < items.length; i += CHUNK) chunks.push(items.slice(i, i + CHUNK));
    return new PersistentVector(chunks, items.length, { indices: [] }, 0);
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
    const log = this.extensible(1);
    log.indices.push(i);
    return new PersistentVector(chunks, this.length, log, log.indices.length);
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
    const log = this.extensible(changes.length);
    for (const [i] of changes) log.indices.push(i);
    return new PersistentVector(chunks, this.length, log, log.indices.length);
  }

  /** This version's log when it is the log's tip and has room for `n` more changes; else a new, empty log. */
  private extensible(n: number): ChangeLog {
    const { log } = this;
    return this.logged === log.indices.length && this.logged + n <= MAX_LOG ? log : { indices: [] };
  }

  /**
   * The indices of the items that may differ from `earlier` (a version this one was made from, through any number of
   * changes), in the order they were replaced, possibly repeated; null when that is not known (another lineage, or a
   * version made from a later one: then any item may differ), or when there are more than `max`.
   */
  changesSince(earlier: PersistentVector<T>, max: number): readonly number[] | null {
    if (earlier.log !== this.log || earlier.logged > this.logged || this.logged - earlier.logged > max) return null;
    return this.log.indices.slice(earlier.logged, this.logged);
  }

  toArray(): T[] {
    return ([] as T[]).concat(...this.chunks);
  }
}
