/**
 * The workflow values of workflow.ts, kept two ways: by definition object (a start's, a registry's parsed body: read
 * back with no canonical JSON and no sha256), and by definition hash, for definitions read from logs (every run.started
 * decodes a definition object of its own, and loading a thousand runs of one workflow must compile it once). Bounded by
 * hash: past MAX_SHARED hashes it starts afresh. A workflow value is a pure function of its definition, so results are
 * the same warm, cleared or off (test/caches.test.ts).
 */
import type { Definition } from '../definition/index.js';
import type { CompiledWorkflow } from './compile.js';

const MAX_SHARED = 100;
const byHash = new Map<string, CompiledWorkflow>();
// Weak: a definition object's value goes with it.
const byDefinition = new WeakMap<Definition, CompiledWorkflow>();
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

/** The value kept for the object `definition` (its own: `workflow.definition` is it), when sharing is on. */
export const ownWorkflow = (definition: Definition): CompiledWorkflow | undefined =>
  enabled ? byDefinition.get(definition) : undefined;

/** Keeps `workflow` for its own definition object (nothing when sharing is off). */
export function keepOwnWorkflow(workflow: CompiledWorkflow): void {
  if (enabled) byDefinition.set(workflow.definition, workflow);
}

/** Whether values are shared (off: every value is built afresh, and none is kept for a definition object). */
export const workflowSharing = (): boolean => enabled;

export function clearWorkflowCache(): void {
  byHash.clear();
}

export function setWorkflowCacheEnabled(on: boolean): void {
  enabled = on;
  byHash.clear();
}
