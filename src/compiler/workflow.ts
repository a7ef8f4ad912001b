/**
 * The workflow value: a definition and everything derived from it (its hash, its JSON, the compiled chart, task plans,
 * gates, region states, copies bound to the limits file's limits), built once and carried with the runs of that
 * definition. Derived data lives on the value that owns it, each part worked out on first use, instead of in module
 * caches keyed by object.
 *
 * Two ways to a value (workflow-cache.ts keeps both):
 * - a definition object's own (`workflowOf(def)`: built on the first call, looked up after), so a caller that starts
 *   many runs of one loaded definition hashes and compiles it once;
 * - definitions read from logs (every run.started decodes a fresh object) share the value of their recorded hash, so
 *   loading a thousand runs of a workflow compiles it once.
 * A compiled workflow is a pure function of its definition, so which way a value was reached, or whether it was built
 * afresh, changes no result (test/caches.test.ts turns the registry off).
 */
import type { Definition } from '../definition/index.js';
import { definitionHash } from '../definition/index.js';
import { compile, type CompiledWorkflow } from './compile.js';
import { keepOwnWorkflow, ownWorkflow, sharedWorkflow, workflowSharing } from './workflow-cache.js';

/**
 * The workflow value of `definition`. `hash`: its definition hash when the caller has it (a run.started records it),
 * spared a canonical JSON and a sha256.
 */
export function workflowOf(definition: Definition, hash?: string): CompiledWorkflow {
  if (!workflowSharing()) return compile(definition, hash);
  const own = ownWorkflow(definition);
  if (own) return own;
  const h = hash ?? definitionHash(definition);
  const workflow = sharedWorkflow(h, () => compile(definition, h));
  // Kept for the object only when it is the value's own definition: another object of the same hash may differ in key
  // order, and its JSON (what a store writes for a start: `json`) must be its own.
  if (workflow.definition === definition) keepOwnWorkflow(workflow);
  return workflow;
}

/**
 * The workflow value of an object that many starts will be handed (a registry's parsed body), its own from now on:
 * compiled once, when another object of the same hash holds the shared value (workflowOf then keeps nothing for it, and
 * every start would hash the object again: a canonical JSON and a sha256 per start). A pure function of the definition
 * either way.
 */
export function carryWorkflow(definition: Definition): CompiledWorkflow {
  const workflow = workflowOf(definition);
  if (workflow.definition === definition || !workflowSharing()) return workflow;
  const own = compile(definition, workflow.hash);
  keepOwnWorkflow(own);
  return own;
}
