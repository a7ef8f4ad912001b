/**
 * Task plans (what starting an attempt needs of each task: its handler,
 * queue, task info, whether its input reads the run's state) remembered per
 * compiled workflow, so they are worked out once per definition rather than
 * once per attempt. A plan is a pure function of the definition, so the
 * result is the same warm, cleared or off (test/caches.test.ts). A WeakMap:
 * bounded by the compiled workflows still in use.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import { weakMemo } from '../weak-memo.js';

const memo = weakMemo<CompiledWorkflow, Map<string, unknown>>();

/** `plan(compiled)`, remembered for this compiled workflow. */
export function rememberedTaskPlans<P>(compiled: CompiledWorkflow, plan: (compiled: CompiledWorkflow) => Map<string, P>): Map<string, P> {
  return memo.get(compiled, plan) as Map<string, P>;
}
export const clearTaskPlanCache = memo.clear;
export const setTaskPlanCacheEnabled = memo.setEnabled;
