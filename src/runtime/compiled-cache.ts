/**
 * Compiled workflows by definition hash. Compiling builds the statechart and
 * its interpreter: done once per definition content, not once per run (every
 * load, replay and start of a run needs one). Bounded: past MAX_COMPILED
 * definitions it starts afresh. A compiled workflow is a pure function of its
 * definition, so the result is the same warm, cleared or off
 * (test/caches.test.ts).
 */
import { compile, type CompiledWorkflow } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';

let enabled = true;
const MAX_COMPILED = 100;
const compiledByHash = new Map<string, CompiledWorkflow>();

/** The compiled workflow of `definition`, whose definition hash is `hash`. */
export function compiledFor(definition: Definition, hash: string): CompiledWorkflow {
  if (!enabled) return compile(definition);
  let compiled = compiledByHash.get(hash);
  if (!compiled) {
    compiled = compile(definition);
    if (compiledByHash.size > MAX_COMPILED) compiledByHash.clear();
    compiledByHash.set(hash, compiled);
  }
  return compiled;
}

export function clearCompiledCache(): void {
  compiledByHash.clear();
}

/** Off: every call compiles afresh (for tests that check the cache changes no result). */
export function setCompiledCacheEnabled(on: boolean): void {
  enabled = on;
  clearCompiledCache();
}
