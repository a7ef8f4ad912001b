/**
 * A MAP's items (`tasks[id].items`) as the fold changes them, one item (or a few) per event, without work that grows
 * with the number of items:
 *
 * - the counts every item event asks for (failures, slots in flight, the first PENDING item, whether all settled) are
 *   kept beside each list an event makes, from the list it was made of, instead of counted by a scan;
 * - a long list (more than VECTOR_FROM_ITEMS) is a PersistentVector behind a read-only Proxy that looks, iterates and
 *   serialises as the plain array it stands for (Array.isArray, index, length, JSON, spread, the array methods), so an
 *   event copies one chunk of 64 items, not the list: a copy of 20,000 items per event (160 KB, past V8's large-object
 *   size) made a MAP of 20,000 items take a minute, of 2,000 a second;
 * - what the state hash derives from each chunk of ITEM_CHUNK items is carried to the next list but for the chunks the
 *   event changed (itemChunkDerived).
 *
 * Short lists stay plain arrays: a copy of a few hundred pointers is cheaper than a Proxy's traps. Every list is
 * immutable once made (the Proxy refuses writes), so what is kept by list (item-counts-cache.ts) stays true.
 */
import { FINAL_TASK_STATUSES, type ItemState, type TaskStatus } from './context.js';
import { keepFor, keptFor, type ItemCounts, type KeptItems as Kept } from './item-counts-cache.js';

export type { ItemCounts } from './item-counts-cache.js';
import { CHUNK, PersistentVector } from './persistent-vector.js';
import { copyCounts, NO_COUNTS } from './task-table.js';

/** The items of a MAP in the state text are digested in chunks of this many (runtime/state-hash.ts): the vector's. */
export const ITEM_CHUNK = CHUNK;
/** Lists longer than this are kept as a vector (above). */
export const VECTOR_FROM_ITEMS = 1_024;

/** Settled items: the task statuses no attempt leaves. */
export const SETTLED: ReadonlySet<TaskStatus> = new Set(FINAL_TASK_STATUSES);

/** The counts of a list: kept, or counted once when the list was made some other way (startItems, a view, a snapshot). */
export function itemCounts(items: readonly ItemState[]): ItemCounts {
  return keptOf(items);
}

function keptOf(items: readonly ItemState[]): Kept {
  let k = keptFor(items);
  if (k === undefined) {
    const byStatus = copyCounts(NO_COUNTS);
    let firstPending = items.length;
    let firstUnsettled = items.length;
    for (let i = 0; i < items.length; i++) {
      const s = items[i]!.status;
      byStatus[s]++;
      if (s === 'PENDING' && firstPending === items.length) firstPending = i;
      if (!SETTLED.has(s) && firstUnsettled === items.length) firstUnsettled = i;
    }
    k = { byStatus, firstPending, firstUnsettled };
    keepFor(items, k);
  }
  return k;
}

export const failedOf = (c: ItemCounts) => c.byStatus.FAILED + c.byStatus.TIMED_OUT;
export const inFlightOf = (c: ItemCounts) => c.byStatus.SCHEDULED + c.byStatus.IN_PROGRESS + c.byStatus.RETRYING;

/**
 * The positions of the items in `status` (one of those under way: SCHEDULED, IN_PROGRESS, RETRYING), in item order,
 * looked for only between the bounds of itemsUnderWay: what each commit's readers ask of a MAP of thousands.
 */
export function itemsWithStatus(items: readonly ItemState[], status: TaskStatus): number[] {
  const { from, to } = itemsUnderWay(items);
  const out: number[] = [];
  for (let i = from; i < to; i++) if (items[i]!.status === status) out.push(i);
  return out;
}

/** Whether any item of the list is in one of these statuses (from the counts: no scan). */
export function someItemIn(items: readonly ItemState[], statuses: Iterable<TaskStatus>): boolean {
  const c = itemCounts(items).byStatus;
  for (const s of statuses) if (c[s] > 0) return true;
  return false;
}

/** Whether every item has settled (from the counts). */
export function allItemsSettled(items: readonly ItemState[]): boolean {
  const c = itemCounts(items).byStatus;
  let settled = 0;
  for (const s of SETTLED) settled += c[s];
  return settled === items.length;
}

/**
 * Where the items under way may be: every item before `from` has settled, and every one from `to` on is PENDING, so an
 * item SCHEDULED, IN_PROGRESS or RETRYING is in [from, to). Items start in order, so the PENDING ones are the last
 * (`to` is the first of them when the counts show it; else the length). A MAP of 20,000 items run 50 at a time has
 * about 50 there: what the readers of every commit (the attempts wanted, the notices of long attempts) walk.
 */
export function itemsUnderWay(items: readonly ItemState[]): { from: number; to: number } {
  const c = keptOf(items);
  const pendingLast = c.byStatus.PENDING === items.length - c.firstPending;
  return { from: c.firstUnsettled, to: pendingLast ? Math.max(c.firstUnsettled, c.firstPending) : items.length };
}

/**
 * The value derived from the chunk of the list starting at item `c * ITEM_CHUNK` (`derive` gives it): remembered with
 * the list, and with every list an event makes from it where the event changed no item of that chunk. Without it, a
 * state's items digest looked at every item on every event.
 */
export function itemChunkDerived(items: readonly ItemState[], c: number, derive: () => string): string {
  const k = keptOf(items);
  k.chunks ??= [];
  return (k.chunks[c] ??= derive());
}

/**
 * A list being changed item by item into a new one: reads see the changes made so far, each change is counted as it is
 * made, and `done` gives the new list (a vector's, for a long one) with its counts already known.
 */
export class ItemEdit {
  readonly length: number;
  readonly #byStatus: Record<TaskStatus, number>;
  #firstPending: number;
  #firstUnsettled: number;
  readonly #chunks: (string | undefined)[] | undefined;
  /** A short list's copy, changed in place; null for a long one. */
  readonly #plain: ItemState[] | null;
  readonly #vector: PersistentVector<ItemState> | null;
  readonly #changes = new Map<number, ItemState>();

  constructor(items: readonly ItemState[]) {
    const k = keptOf(items);
    this.length = items.length;
    this.#byStatus = copyCounts(k.byStatus);
    this.#firstPending = k.firstPending;
    this.#firstUnsettled = k.firstUnsettled;
    this.#chunks = k.chunks?.slice();
    const vector = vectorOf(items);
    this.#vector = vector ?? (items.length > VECTOR_FROM_ITEMS ? PersistentVector.from(items as ItemState[]) : null);
    this.#plain = this.#vector === null ? items.slice() : null;
  }

  get(i: number): ItemState {
    return this.#plain !== null ? this.#plain[i]! : (this.#changes.get(i) ?? this.#vector!.get(i));
  }

  set(i: number, item: ItemState): void {
    if (this.#chunks !== undefined) this.#chunks[Math.floor(i / ITEM_CHUNK)] = undefined;
    this.#byStatus[this.get(i).status]--;
    this.#byStatus[item.status]++;
    if (this.#plain !== null) this.#plain[i] = item;
    else this.#changes.set(i, item);
    // Whatever the change, the positions stay true: nothing before them is PENDING, or unsettled.
    if (item.status === 'PENDING' && i < this.#firstPending) this.#firstPending = i;
    if (!SETTLED.has(item.status) && i < this.#firstUnsettled) this.#firstUnsettled = i;
  }

  /** The counts so far. */
  counts(): ItemCounts {
    return { byStatus: this.#byStatus, firstPending: this.#firstPending, firstUnsettled: this.#firstUnsettled };
  }

  /** The first PENDING item (the length when none). */
  nextPending(): number {
    let j = this.#firstPending;
    while (j < this.length && this.get(j).status !== 'PENDING') j++;
    this.#firstPending = j;
    return j;
  }

  done(): ItemState[] {
    let u = this.#firstUnsettled;
    while (u < this.length && SETTLED.has(this.get(u).status)) u++;
    const out = this.#plain ?? listOf(this.#vector!.withAll([...this.#changes]));
    keepFor(out, {
      byStatus: this.#byStatus,
      firstPending: this.nextPending(),
      firstUnsettled: u,
      chunks: this.#chunks,
    });
    return out;
  }
}

/** The list with item `i` replaced (a new list; the counts carried over). */
export function replaceItem(items: readonly ItemState[], i: number, item: ItemState): ItemState[] {
  const edit = new ItemEdit(items);
  edit.set(i, item);
  return edit.done();
}

/** A list a MAP starts with: a vector's for a long one. */
export function newItemList(items: ItemState[]): ItemState[] {
  return items.length > VECTOR_FROM_ITEMS ? listOf(PersistentVector.from(items)) : items;
}

// The Proxy: its target is an empty array (so Array.isArray holds and the array methods apply) holding the vector.
const VECTOR = Symbol('ledgerflow.itemVector');
type Target = ItemState[] & { [VECTOR]: PersistentVector<ItemState> };

/** The index a property key names, or -1 (a canonical array index below `length` only). */
function indexOf(key: string | symbol, length: number): number {
  if (typeof key !== 'string' || key.length === 0 || key.length > 10) return -1;
  let i = 0;
  for (let c = 0; c < key.length; c++) {
    const d = key.charCodeAt(c) - 48;
    if (d < 0 || d > 9 || (c === 0 && d === 0 && key.length > 1)) return -1;
    i = i * 10 + d;
  }
  return i < length ? i : -1;
}

const listHandler: ProxyHandler<Target> = {
  get(target, key, receiver) {
    const v = target[VECTOR];
    if (key === 'length') return v.length;
    const i = indexOf(key, v.length);
    if (i >= 0) return v.get(i);
    if (key === VECTOR) return v;
    return Reflect.get(target, key, receiver);
  },
  has: (target, key) => indexOf(key, target[VECTOR].length) >= 0 || (key !== VECTOR && Reflect.has(target, key)),
  ownKeys(target) {
    const keys: string[] = [];
    for (let i = 0; i < target[VECTOR].length; i++) keys.push(String(i));
    keys.push('length');
    return keys;
  },
  getOwnPropertyDescriptor(target, key) {
    const v = target[VECTOR];
    // length: as the target's own (writable, not configurable), with the vector's value: what a Proxy may report.
    if (key === 'length') return { value: v.length, writable: true, enumerable: false, configurable: false };
    const i = indexOf(key, v.length);
    if (i >= 0) return { value: v.get(i), writable: false, enumerable: true, configurable: true };
    return key === VECTOR ? undefined : Reflect.getOwnPropertyDescriptor(target, key);
  },
  set: () => false,
  defineProperty: () => false,
  deleteProperty: () => false,
};

function listOf(vector: PersistentVector<ItemState>): ItemState[] {
  const target = [] as unknown as Target;
  target[VECTOR] = vector;
  return new Proxy(target, listHandler);
}

/** The vector behind a long list, or null for a plain array. */
function vectorOf(items: readonly ItemState[]): PersistentVector<ItemState> | null {
  return (items as Partial<Target>)[VECTOR] ?? null;
}
