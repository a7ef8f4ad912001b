/**
 * A workflow's task gates (task-gates.ts: which tasks have `concurrency` or
 * `rate_limit`, their own or their queue's and handler's from the limits
 * file, and the names their state is shared under) remembered per
 * definition and limits, so the step looks them up rather than scanning the
 * tasks at every reconcile. A pure function of the two: the same warm,
 * cleared or off (test/caches.test.ts). WeakMaps: bounded by the definitions
 * and limits in use.
 */
import type { Definition, GlobalLimits } from '../definition/index.js';
import { weakMemo } from '../weak-memo.js';

/** The key of "no limits file": a definition's own limits only. */
const NONE: object = Object.freeze({});
let byLimits = new WeakMap<object, ReturnType<typeof weakMemo<Definition, unknown>>>();
let enabled = true;

/** `work(def, limits)`, remembered for this definition and these limits. */
export function rememberedGates<G>(def: Definition, limits: GlobalLimits | undefined, work: (def: Definition, limits: GlobalLimits | undefined) => G): G {
  if (!enabled) return work(def, limits);
  const key = limits ?? NONE;
  let memo = byLimits.get(key);
  if (!memo) byLimits.set(key, (memo = weakMemo<Definition, unknown>()));
  return memo.get(def, (d) => work(d, limits)) as G;
}
export const clearTaskGateCache = (): void => { byLimits = new WeakMap(); };
export const setTaskGateCacheEnabled = (on: boolean): void => { enabled = on; clearTaskGateCache(); };
