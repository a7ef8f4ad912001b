/**
 * What the fold keeps beside each MAP item list (compiler/item-list.ts): its counts by status, its first PENDING and
 * first unsettled item, and the state hash's digest of each chunk, by list (a list never changes once made, so what is
 * kept for it stays true for as long as it lives). A cache: off, every question counts the list again and no digest is
 * carried, with the same answers (test/caches.test.ts).
 */
import type { ItemState, TaskStatus } from './context.js';

/** How many items are in each status, and two positions that bound where items under way are. */
export interface ItemCounts {
  readonly byStatus: Readonly<Record<TaskStatus, number>>;
  /** The first PENDING item's index (the length when none). */
  readonly firstPending: number;
  /** The first item not settled (the length when all are): the items before it have all settled. */
  readonly firstUnsettled: number;
}

/** A list's counts, and what was derived from each of its chunks (itemChunkDerived). */
export interface KeptItems extends ItemCounts {
  chunks?: (string | undefined)[];
}

let enabled = true;
let kept = new WeakMap<readonly ItemState[], KeptItems>();

/** What is kept for `items`, if anything is. */
export function keptFor(items: readonly ItemState[]): KeptItems | undefined {
  return enabled ? kept.get(items) : undefined;
}

/** Keeps `k` for `items` (nothing while the cache is off). */
export function keepFor(items: readonly ItemState[], k: KeptItems): void {
  if (enabled) kept.set(items, k);
}

export function clearItemCountsCache(): void {
  kept = new WeakMap();
}

/** Off: every call counts afresh (turning it on again starts it empty). */
export function setItemCountsCacheEnabled(on: boolean): void {
  enabled = on;
  clearItemCountsCache();
}
