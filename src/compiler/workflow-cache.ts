/**
 * Workflow values by definition hash, for definitions read from logs: every
 * run.started decodes a definition object of its own, and loading a thousand
 * runs of one workflow must compile it once (workflow.ts). Bounded: past
 * MAX_SHARED hashes it starts afresh. A workflow value is a pure function of
 * its definition, so results are the same warm, cleared or off
 * (test/caches.test.ts).
 */
import type { CompiledWorkflow } from './compile.js';

const MAX_SHARED = 100;
const byHash = new Map<string, CompiledWorkflow>();
let enabled = true;

/** The value remembered for `hash`, else `make()`'s, remembered. */
export function sharedWorkflow(hash: string, make: () => CompiledWorkflow): CompiledWorkflow {
  if (!enabled) return make();
  let workflow = byHash.get(hash);
  if (!workflow) {
    workflow = make();
    if (byHash.size >= MAX_SHARED) byHash.clear();
    byHash.set(hash, workflow);
  }
  return workflow;
}

/** Whether values are shared (off: every value is built afresh, and no definition object keeps one). */
export const workflowSharing = (): boolean => enabled;

export function clearWorkflowCache(): void {
  byHash.clear();
}

export function setWorkflowCacheEnabled(on: boolean): void {
  enabled = on;
  byHash.clear();
}
