/**
 * MAP items (docs/constructs.md, "MAP"): the pure rules the MAP region's guards and actions share. Items live on the
 * MAP's task state (`tasks[id].items`); an item event names its item (`event.item`), and is judged against that item's
 * state only. Never more than `max_concurrency` items are in flight (SCHEDULED, IN_PROGRESS or RETRYING): a settled
 * item hands its slot to the first PENDING one, unless the MAP has already failed (more failures than it tolerates),
 * which skips every PENDING item and waits for the ones in flight to settle.
 */
import { isDynamicFork, type MapTask, type TaskDef } from '../definition/index.js';
import { forkFailure, resolveBranchItems } from './fork-dynamic.js';
import type { TaskError } from '../events/index.js';
import { resolveTemplate } from '../expressions/index.js';
import type { ItemState, TaskState } from './context.js';
import { failedOf, inFlightOf, ItemEdit, itemCounts, newItemList, SETTLED } from './item-list.js';
import type { ImplementationEvent } from './implementation-args.js';
import type { Scope } from '../expressions/index.js';

export { allItemsSettled } from './item-list.js';

/** The item an event names, when the event is about an item of this MAP's current instance. */
export function eventItem(t: TaskState, event: ImplementationEvent): ItemState | undefined {
  if (event.item === undefined || event.iteration !== t.iteration || t.status !== 'IN_PROGRESS') return undefined;
  return t.items?.[event.item];
}

/** How many items may fail without failing the MAP. */
function toleratedFailures(map: MapTask): number {
  return map.optional ? Infinity : (map.tolerateFailures ?? 0);
}

/** Whether a MAP whose items have all settled failed: its items were not a list, or more failed than it tolerates. */
export function mapFailedNow(map: MapTask, t: TaskState): boolean {
  if (t.error !== null) return true;
  return failedOf(itemCounts(t.items ?? [])) > toleratedFailures(map);
}

/** The items a MAP starts with: the first max_concurrency SCHEDULED, the rest PENDING. */
export function startItems(map: MapTask, values: readonly unknown[]): ItemState[] {
  const slots = map.maxConcurrency ?? Infinity;
  return newItemList(
    values.map((value, i) => ({
      value,
      status: i < slots ? 'SCHEDULED' : 'PENDING',
      attempts: 0,
      startedAt: null,
      completedAt: null,
      output: null,
      error: null,
    })),
  );
}

/** What `items` resolves to: the list, or the error that fails the MAP (naming the type it got). */
export function resolveItems(map: MapTask, scope: Scope): { values: unknown[] } | { error: TaskError } {
  if (isDynamicFork(map)) return resolveBranchItems(map, scope);
  const v = resolveTemplate(map.items, scope);
  if (Array.isArray(v)) return { values: v };
  const type =
    v === null
      ? 'null'
      : v === undefined
        ? 'nothing (the reference is missing)'
        : typeof v === 'object'
          ? 'an object'
          : `a ${typeof v}`;
  return {
    error: {
      code: 'LF_MAP_ITEMS_NOT_A_LIST',
      retryable: false,
      message: `items of MAP task ${map.id} ("${map.items}") gave ${type}, not a list; it must name a list, e.g. \${scan.output.folders}`,
    },
  };
}

/**
 * The items with item `i` replaced, then slots handed on: a settled item frees one for the first PENDING item, and once
 * the MAP has failed every PENDING item is SKIPPED instead. A new list per event (a long one copies only the chunks it
 * changes), and no scan of it: the failures, the slots in flight and the first PENDING item come from its counts.
 */
export function withItem(map: MapTask, items: readonly ItemState[], i: number, item: ItemState): ItemState[] {
  const edit = new ItemEdit(items);
  edit.set(i, item);
  if (!SETTLED.has(item.status)) return edit.done();
  if (failedOf(edit.counts()) > toleratedFailures(map)) {
    for (let j = edit.nextPending(); j < edit.length; j++)
      if (edit.get(j).status === 'PENDING') edit.set(j, { ...edit.get(j), status: 'SKIPPED' });
    return edit.done();
  }
  const slots = map.maxConcurrency ?? Infinity;
  while (inFlightOf(edit.counts()) < slots) {
    const j = edit.nextPending();
    if (j === edit.length) break;
    edit.set(j, { ...edit.get(j), status: 'SCHEDULED' });
  }
  return edit.done();
}

/** The MAP's output: each item's output in item order, null for an item that did not complete. */
export function mapResults(items: readonly ItemState[]): { results: unknown[] } {
  return { results: items.map((it) => (it.status === 'COMPLETED' ? it.output : null)) };
}

/** The error a failed MAP records: how many items failed, and the first one's error. */
export function mapFailure(map: MapTask, t: TaskState): TaskError {
  if (isDynamicFork(map)) return forkFailure(map, t);
  if (t.error !== null && t.error.code === 'LF_MAP_ITEMS_NOT_A_LIST') return t.error;
  const items = t.items ?? [];
  const failed = items
    .map((it, i) => [i, it] as const)
    .filter(([, it]) => it.status === 'FAILED' || it.status === 'TIMED_OUT');
  const [first, firstItem] = failed[0] ?? [0, undefined];
  const tolerated = map.tolerateFailures ?? 0;
  return {
    code: 'LF_MAP_ITEMS_FAILED',
    retryable: false,
    message: `${failed.length} of ${items.length} items of MAP task ${map.id} failed (tolerate_failures: ${tolerated}); first ${map.id}[${first}]: ${firstItem?.error?.message ?? firstItem?.status ?? ''}`,
  };
}

/** The body a MAP's items run: its iterator task, or the MAP itself. */
export function bodyDef(lookup: (id: string) => TaskDef, map: MapTask): TaskDef {
  return map.iterator ? (lookup(map.iterator) ?? map) : map;
}
