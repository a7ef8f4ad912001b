/**
 * An immutable array that is updated by copying one chunk, not the whole: what lets a run's state change one task at a
 * time in O(chunk + n/chunk) instead of O(n) (a 3,000-task chain copied every task on every event, which made it
 * quadratic). Two levels of chunks of CHUNK items; chunks are never mutated once built, so an unchanged chunk is the
 * same object in every version that shares it. What the state hash derives from a chunk (its entries' texts, its
 * digest) is kept on the chunk (chunkDerived), and what it derives from a whole version on the version (derived):
 * computed once, true for as long as the object lives, since neither ever changes (runtime/chunk-hash.ts).
 */
export const CHUNK = 64;
const SHIFT = 6; // log2(CHUNK)
const MASK = CHUNK - 1;

/** What is derived from a chunk or a version, with what it was derived for besides the items (a key compared by identity). */
export interface Derived {
  readonly key: object;
}

/**
 * Gives the object it is constructed with back as `this`, so that a subclass's private field is installed on that
 * object (ChunkSlot).
 */
class Returning {
  constructor(o: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the point: ChunkSlot's field goes on `o`
    return o;
  }
}

/**
 * Where a chunk keeps what is derived from it: a private field installed on the chunk (an array), invisible to its
 * items, keys, JSON and equality, and to anything but this module; faster to install than a property by
 * Object.defineProperty, which an array takes through the runtime.
 */
class ChunkSlot extends Returning {
  #derived: Derived;
  private constructor(chunk: object, data: Derived) {
    super(chunk);
    this.#derived = data;
  }
  static get(chunk: object): Derived | undefined {
    return #derived in chunk ? (chunk as ChunkSlot).#derived : undefined;
  }
  static keep(chunk: object, data: Derived): void {
    if (#derived in chunk) (chunk as ChunkSlot).#derived = data;
    else new ChunkSlot(chunk, data);
  }
}

/** What was derived from `chunk` for `key` (keepChunkDerived), if it was. */
export function chunkDerived(chunk: readonly unknown[], key: object): Derived | undefined {
  const d = ChunkSlot.get(chunk);
  return d !== undefined && d.key === key ? d : undefined;
}

/** Keeps `data`, derived from `chunk`'s items (which never change), on the chunk. */
export function keepChunkDerived(chunk: readonly unknown[], data: Derived): void {
  ChunkSlot.keep(chunk, data);
}

export class PersistentVector<T> {
  /** What was derived from this version (keepDerived), if anything has been. */
  #derived: Derived | undefined = undefined;
  /**
   * The version this one was made from, if something was derived from it, else that one's own `from`: the nearest
   * earlier version to derive from incrementally (what differs is the chunks that are not the same objects). Dropped
   * once something is derived from this one, so a version holds at most one earlier one alive.
   */
  #from: PersistentVector<T> | null;

  private constructor(
    /** Chunks of CHUNK items (the last may be shorter); never mutated. */
    readonly chunks: readonly (readonly T[])[],
    readonly length: number,
    from: PersistentVector<T> | null,
  ) {
    this.#from = from;
  }

  static from<T>(items: readonly T[]): PersistentVector<T> {
    const chunks: T[][] = [];
    for (let i = 0; i < items.length; i += CHUNK) chunks.push(items.slice(i, i + CHUNK));
    return new PersistentVector(chunks, items.length, null);
  }

  /** What was derived from this version for `key`, if it was. */
  derived(key: object): Derived | undefined {
    const d = this.#derived;
    return d !== undefined && d.key === key ? d : undefined;
  }

  /** Keeps `data`, derived from this version's items, on it. */
  keepDerived(data: Derived): void {
    this.#derived = data;
    this.#from = null;
  }

  /** The nearest earlier version something was derived from (see `from`): null once something is derived from this one. */
  earlier(): PersistentVector<T> | null {
    return this.#from;
  }

  /** What a version made from this one starts from (see `from`). */
  #next(): PersistentVector<T> | null {
    return this.#derived !== undefined ? this : this.#from;
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
    return new PersistentVector(chunks, this.length, this.#next());
  }

  /** Several replacements at once: each touched chunk is copied once. */
  withAll(changes: readonly (readonly [number, T])[]): PersistentVector<T> {
    if (changes.length === 1) return this.with(changes[0]![0], changes[0]![1]);
    const chunks = this.chunks.slice() as T[][];
    const copied = new Set<number>();
    for (const [i, item] of changes) {
      if (i < 0 || i >= this.length) throw new RangeError(`index ${i} outside a vector of ${this.length}`);
      const c = i >> SHIFT;
      if (!copied.has(c)) {
        chunks[c] = chunks[c]!.slice();
        copied.add(c);
      }
      chunks[c]![i & MASK] = item;
    }
    return new PersistentVector(chunks, this.length, this.#next());
  }
}
