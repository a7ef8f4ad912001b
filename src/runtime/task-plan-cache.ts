/**
 * Task plans (what starting an attempt needs of each task: its handler,
 * queue, task info, whether its input reads the run's state) remembered per
 * compiled workflow, so they are worked out once per definition rather than
 * once per attempt. A plan is a pure function of the definition, so the
 * result is the same warm, cleared or off (test/caches.test.ts). A WeakMap:
 * bounded by the compiled workflows still in use.
 */
import type { CompiledWorkflow } from '../compiler/index.js';

let enabled = true;
let plans = new WeakMap<CompiledWorkflow, Map<string, unknown>>();

/** `plan(compiled)`, remembered for this compiled workflow. */
export function rememberedTaskPlans<P>(compiled: CompiledWorkflow, plan: (compiled: CompiledWorkflow) => Map<string, P>): Map<string, P> {
  if (!enabled) return plan(compiled);
  let entries = plans.get(compiled) as Map<string, P> | undefined;
  if (!entries) {
    entries = plan(compiled);
    plans.set(compiled, entries);
  }
  return entries;
}

export function clearTaskPlanCache(): void {
  plans = new WeakMap();
}

/** Off: every call plans afresh (for tests that check the cache changes no result). */
export function setTaskPlanCacheEnabled(on: boolean): void {
  enabled = on;
  clearTaskPlanCache();
}
