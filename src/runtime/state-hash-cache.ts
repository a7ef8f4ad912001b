/**
 * What makes the state hash cheap (fold.ts `recordedState`), fenced here so the hash itself reads as its definition.
 * Every event of every run pays for a state hash: building its ~250-character text and hashing it was about a third of
 * an engine's CPU (most of it garbage, far more than the profile share suggested). Caches of pure functions, keyed by
 * content (or, for a MAP's items, checked item by item), so a result is the same with them warm, cleared or off
 * (test/caches.test.ts):
 *
 * - remembered format-1 hashes, in a trie walked by the parts of a state: a format-1 log's short runs of one definition
 *   pass through the same few states, and checked replay of such logs is measurably slower without it
 *   (bench/RESULTS.md); format 2 does not use it;
 * - the sorted task ids of the last state asked about;
 * - the JSON quoting of task ids, statuses and state names;
 * - the digests of a MAP's chunks of items;
 * - format 2's short digests (the first 16 hex digits of sha256) of the short texts it hashes per event (a chunk of
 *   task or region entries, the line of digests), by the text itself: the runs of a definition pass through the same
 *   few states, so a state's texts recur run after run, and a map lookup of a ~200-character text costs a fraction of
 *   its sha256 (three per event were about a tenth of the engine's ceiling, bench/ceiling.ts).
 *
 * A long run's chunks of tasks and regions need none of these: each chunk carries its own text and digest
 * (chunk-hash.ts).
 */
// fold.ts's RunSnapshot is this type; named from the compiler so fold.ts and this cache do not import each other.
import {
  ITEM_CHUNK,
  itemChunkDerived,
  tableOf,
  valueChunks,
  type FoldSnapshot as RunSnapshot,
  type ItemState,
} from '../compiler/index.js';

let enabled = true;

/**
 * Remembered state hashes, in a trie walked by the parts of a state (no string is built to look one up, so a lookup
 * makes no garbage): the value's names in order with its nesting marked, then each task's id, status, attempts,
 * decision case (and loop iteration, when it has one) in id order. Two states on the same path have the same text, so
 * the same hash. Only states without timers are kept: without timers the state holds no run id and no time, so the runs
 * of a definition pass through the same few states, while a timer's due time is unique to its run. Bounded: the trie
 * starts afresh when it grows past MAX_STATE_NODES.
 */
interface StateNode {
  next: Map<unknown, StateNode> | null;
  hash: string | undefined;
}
const OPEN = Symbol('{');
const CLOSE = Symbol('}');
const TASKS = Symbol('tasks');
const ITERATION = Symbol('iteration');
const MAX_STATE_NODES = 50_000;
const REGIONS = Symbol('regions');
const SETTLED = Symbol('settled');
let stateRoot: StateNode = { next: null, hash: undefined };
/** Format 2's trie (rememberedStateHashV2): its own root, as the same path has another hash in each format. */
let v2Root: StateNode = { next: null, hash: undefined };
let stateNodes = 0;

/** `hashOf(snapshot)` (format 1, state-hash.ts), remembered for states without timers. */
export function rememberedStateHash(snapshot: RunSnapshot, hashOf: (snapshot: RunSnapshot) => string): string {
  if (!enabled) return hashOf(snapshot);
  for (const _ in snapshot.context.timers) return hashOf(snapshot);
  const node = stateNode(snapshot);
  // A MAP's items are in the hash text but not on the trie's path (and rarely recur): not remembered.
  if (node === null) return hashOf(snapshot);
  node.hash ??= hashOf(snapshot);
  return node.hash;
}

/**
 * `hashOf(snapshot)` (format 2, state-hash.ts), remembered in a trie of its own walked by the parts format 2's text
 * is written from: the parallel state's key and its regions' state objects in order (the chart's own, one per
 * region and state, whose text is fixed), then each task as in format 1's path. Only a short run's states (tasks
 * in a plain record, not a table) without timers: those recur in every run of a definition, and on the path no
 * text is written and nothing hashed (building the texts and looking their digests up was a tenth of an engine's
 * ceiling, bench/ceiling.ts). A MAP's items end the walk (not remembered). Bounded with format 1's trie.
 */
export function rememberedStateHashV2(snapshot: RunSnapshot, hashOf: (snapshot: RunSnapshot) => string): string {
  if (!enabled) return hashOf(snapshot);
  for (const _ in snapshot.context.timers) return hashOf(snapshot);
  const tasks = snapshot.context.tasks;
  if (tableOf(tasks) !== null) return hashOf(snapshot);
  if (stateNodes > MAX_STATE_NODES) resetStateTries();
  const value = valueChunks(snapshot);
  let n: StateNode;
  if (value !== null) {
    n = child(child(v2Root, REGIONS), value.parallelKey);
    for (const chunk of value.states.chunks) for (const region of chunk) n = child(n, region);
  } else if (typeof snapshot.value === 'string') {
    n = child(child(v2Root, SETTLED), snapshot.value);
  } else {
    return hashOf(snapshot);
  }
  const end = taskPath(child(n, TASKS), tasks);
  if (end === null) return hashOf(snapshot);
  end.hash ??= hashOf(snapshot);
  return end.hash;
}

/** Nodes in the trie now (tests check it stays bounded). */
export function stateHashCacheSize(): number {
  return stateNodes;
}

function child(node: StateNode, key: unknown): StateNode {
  const next = (node.next ??= new Map());
  let c = next.get(key);
  if (c === undefined) {
    c = { next: null, hash: undefined };
    next.set(key, c);
    stateNodes++;
  }
  return c;
}

function valueNode(node: StateNode, value: unknown): StateNode {
  if (typeof value !== 'object' || value === null) return child(node, value);
  let n = child(node, OPEN);
  for (const key in value) n = valueNode(child(n, key), (value as Record<string, unknown>)[key]);
  return child(n, CLOSE);
}

function resetStateTries(): void {
  stateRoot = { next: null, hash: undefined };
  v2Root = { next: null, hash: undefined };
  stateNodes = 0;
}

function stateNode(snapshot: RunSnapshot): StateNode | null {
  if (stateNodes > MAX_STATE_NODES) resetStateTries();
  return taskPath(child(valueNode(stateRoot, snapshot.value), TASKS), snapshot.context.tasks);
}

/** The tasks' part of a path (both formats' tries): each task's id, status, attempts, decision case (and loop iteration), in id order; null for a MAP's items. */
function taskPath(from: StateNode, tasks: RunSnapshot['context']['tasks']): StateNode | null {
  let n = from;
  const ids = sortedIds(tasks);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const t = tasks[id]!;
    if (t.items !== undefined) return null;
    n = child(child(child(child(n, id), t.status), t.attempts), t.decision?.case ?? null);
    // A loop iteration is part of the state text (fold.ts taskText) when there is one.
    if (t.iteration !== undefined) n = child(child(n, ITERATION), t.iteration);
  }
  return child(n, CLOSE);
}

/**
 * `Object.keys(tasks).sort()`. A run's tasks object keeps its keys in one order (the definition's) from event to event,
 * so the sorted list of the last call is reused when the keys come in the same order: checked without building an
 * array.
 */
let lastOrder: string[] = [];
let lastSorted: string[] = [];
export function sortedIds(tasks: Record<string, unknown>): readonly string[] {
  if (!enabled) return Object.keys(tasks).sort();
  let i = 0;
  for (const id in tasks) {
    if (lastOrder[i] !== id) {
      lastOrder = Object.keys(tasks);
      lastSorted = [...lastOrder].sort();
      return lastSorted;
    }
    i++;
  }
  if (i !== lastOrder.length) {
    lastOrder = Object.keys(tasks);
    lastSorted = [...lastOrder].sort();
  }
  return lastSorted;
}

/** `JSON.stringify(name)` of task ids, statuses and state names: a small, fixed set per definition, so each is quoted once. */
const MAX_QUOTES = 10_000;
const quotes = new Map<string, string>();
export function quoted(name: string): string {
  if (!enabled) return JSON.stringify(name);
  let q = quotes.get(name);
  if (q === undefined) {
    if (quotes.size >= MAX_QUOTES) quotes.clear();
    q = JSON.stringify(name);
    quotes.set(name, q);
  }
  return q;
}

/**
 * The digest of a chunk of a MAP's items (state-hash.ts itemsText), kept with the list and carried to the lists each
 * event makes from it (compiler/item-list.ts itemChunkDerived): an event changes one item, so every other chunk's digest is
 * reused, and no item of those chunks is looked at.
 */
export function rememberedItemChunkDigest(items: readonly ItemState[], start: number, digestOf: () => string): string {
  if (!enabled) return digestOf();
  return itemChunkDerived(items, start / ITEM_CHUNK, digestOf);
}

/**
 * `digestOf(text)` (a short digest: the first 16 hex digits of sha256, quoted or not, as the caller makes it),
 * remembered by `text` for texts of at most MAX_DIGESTED_TEXT characters. Bounded: emptied when it holds
 * MAX_DIGESTS texts (a long run's chunks, or states with timers, hardly recur; they then just pass through).
 */
const MAX_DIGESTS = 4_096;
const MAX_DIGESTED_TEXT = 2_048;
const digests = new Map<string, string>();
export function rememberedDigest(text: string, digestOf: (text: string) => string): string {
  if (!enabled || text.length > MAX_DIGESTED_TEXT) return digestOf(text);
  let d = digests.get(text);
  if (d === undefined) {
    if (digests.size >= MAX_DIGESTS) digests.clear();
    d = digestOf(text);
    digests.set(text, d);
  }
  return d;
}

export function clearStateHashCache(): void {
  digests.clear();
  resetStateTries();
  lastOrder = [];
  lastSorted = [];
  quotes.clear();
}

/** Off: every call computes afresh (for tests that check the caches change no result). */
export function setStateHashCacheEnabled(on: boolean): void {
  enabled = on;
  clearStateHashCache();
}
