/**
 * The interpreter's small pure pieces (interpreter.ts steps the chart with them): a guard checked and actions run as
 * XState calls them, lists of regions (merged, deduplicated, in entry order), and a microstep's moves of region states.
 * A file of their own so the interpreter keeps only its algorithm.
 */
import type { BoundAction, BoundGuard, Region, RegionState, RegionTransition } from './chart-model.js';
import type { RunContext } from './context.js';
import type { Config } from './fold-snapshot.js';
import type { ImplementationEvent } from './implementations.js';
import type { PersistentVector } from './persistent-vector.js';

const passes = (guard: BoundGuard | null, args: { context: RunContext; event: ImplementationEvent }): boolean =>
  guard === null || guard.check(args, guard.params as never);

export function runActions(
  actions: readonly BoundAction[],
  context: RunContext,
  event: ImplementationEvent,
): RunContext {
  let ctx = context;
  // As XState's assign: a new context object with the returned keys merged in, never a mutated one. The context cloned
  // by a spread (V8's object-clone fast path, a quarter of Object.assign's time), then the returned keys stored one by
  // one: the same object as `{ ...ctx, ...patch }` (a new key goes last in both), where a second spread in the literal
  // was copied by the runtime, key by key, at several times the cost.
  for (const a of actions) {
    const patch = a.run({ context: ctx, event }, a.params as never);
    const next = { ...ctx };
    for (const k in patch) (next as Record<string, unknown>)[k] = (patch as Record<string, unknown>)[k];
    ctx = next;
  }
  return ctx;
}

export function firstEnabled<T extends { readonly guard: BoundGuard | null }>(
  ts: readonly T[] | null | undefined,
  args: { context: RunContext; event: ImplementationEvent },
): T | null {
  if (ts) for (const t of ts) if (passes(t.guard, args)) return t;
  return null;
}

/** The regions in `a` and `b`, each once. */
export function union(a: readonly Region[], b: readonly Region[]): readonly Region[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return [...new Set([...a, ...b])];
}

export const NONE: readonly Region[] = [];

/**
 * The regions in the order their states were entered (ascending stamps, each region's own). An insertion sort: there
 * are a few at a time, and sort() with a comparator cost more to set up than to run (6% of a fold).
 */
export function inEntryOrder(regions: readonly Region[], stamps: PersistentVector<number>): readonly Region[] {
  const n = regions.length;
  if (n < 2) return regions;
  const out = new Array<Region>(n);
  const keys = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const r = regions[i]!;
    const key = stamps.get(r.index);
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) {
      out[j + 1] = out[j]!;
      keys[j + 1] = keys[j]!;
    }
    out[j + 1] = r;
    keys[j + 1] = key;
  }
  return out;
}

/**
 * `regions` without repeats, the first of each kept. Most lists are a region or three (a move and the regions watching
 * its task): compared pairwise, without a Set; a long one (an action that writes every task, a task many depend on)
 * through a Set.
 */
export function distinct(regions: Region[]): readonly Region[] {
  if (regions.length > 16) return [...new Set(regions)];
  let n = 0;
  for (let i = 0; i < regions.length; i++) {
    const r = regions[i]!;
    let seen = false;
    for (let k = 0; k < n && !seen; k++) seen = regions[k] === r;
    if (!seen) regions[n++] = r;
  }
  // Setting an array's length is a call into the runtime: only when a repeat was dropped.
  if (n !== regions.length) regions.length = n;
  return regions;
}

interface Moved {
  readonly states: PersistentVector<RegionState>;
  readonly stamps: PersistentVector<number>;
  readonly moved: readonly Region[];
}

/**
 * One transition's move (most microsteps'). A region whose transition targets the state it is in (a self-transition:
 * XState v5's default does not re-enter) neither leaves nor enters it: only its actions ran.
 */
export function moveOne(before: Config, t: RegionTransition): Moved {
  const region = t.target.region;
  if (before.states.get(region.index) === t.target)
    return { states: before.states, stamps: before.stamps, moved: NONE };
  return {
    states: before.states.with(region.index, t.target),
    stamps: before.stamps.with(region.index, before.nextStamp),
    moved: [region],
  };
}

/** Several regions' moves at once (as moveOne each); XState enters states in document order and appends each to its node list. */
export function moveMany(before: Config, transitions: readonly RegionTransition[]): Moved {
  const moving = transitions.filter((t) => before.states.get(t.target.region.index) !== t.target);
  const states =
    moving.length === 0
      ? before.states
      : before.states.withAll(moving.map((t) => [t.target.region.index, t.target] as const));
  const moved =
    moving.length <= 1
      ? moving.map((t) => t.target.region)
      : moving.map((t) => t.target.region).sort((a, b) => a.index - b.index);
  const stamps =
    moved.length === 0
      ? before.stamps
      : before.stamps.withAll(moved.map((r, k) => [r.index, before.nextStamp + k] as const));
  return { states, stamps, moved };
}
