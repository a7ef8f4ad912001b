/**
 * A workflow's task gates (task-gates.ts: which tasks have `concurrency` or
 * `rate_limit`, and the name their state is shared under) remembered per
 * definition, so the step looks them up rather than scanning the tasks at
 * every reconcile. A pure function of the definition: the same warm, cleared
 * or off (test/caches.test.ts). A WeakMap: bounded by the definitions in use.
 */
import type { Definition } from '../definition/index.js';
import { weakMemo } from '../weak-memo.js';

const memo = weakMemo<Definition, unknown>();

/** `work(def)`, remembered for this definition. */
export function rememberedGates<G>(def: Definition, work: (def: Definition) => G): G {
  return memo.get(def, work) as G;
}
export const clearTaskGateCache = memo.clear;
export const setTaskGateCacheEnabled = memo.setEnabled;
