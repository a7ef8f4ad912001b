/**
 * A compiled workflow bound to the limits file's limits (per queue and per
 * handler, docs/language.md#limits-per-queue-or-handler): the same machine,
 * with `limits` set, so the step (prepareCommit, reconcile, slotsFreed) holds
 * the attempts of the tasks those limits name at their gates. Executors bind
 * what they step; the fold and replay never look at it. Remembered per
 * (compiled, limits) so a run's steps share one bound object; the same
 * machine warm, cleared or off (test/caches.test.ts).
 */
import { gatesOf, type CompiledWorkflow, type TaskGate } from '../compiler/index.js';
import { hasLimits, type GlobalLimits } from '../definition/index.js';

let bound = new WeakMap<GlobalLimits, WeakMap<CompiledWorkflow, CompiledWorkflow>>();
let enabled = true;

const UNBOUND = Symbol('unbound');
type Bound = CompiledWorkflow & { [UNBOUND]?: CompiledWorkflow };

/** A copy of `base` under `limits`: its gates are its own (the limits file's queues and handlers count), worked out on first use. */
function bind(base: CompiledWorkflow, limits: GlobalLimits): CompiledWorkflow {
  let gates: ReadonlyMap<string, TaskGate> | undefined;
  return Object.create(base, {
    limits: { value: limits, enumerable: true },
    gates: { get: () => (gates ??= gatesOf(base.definition, limits)), enumerable: true },
    [UNBOUND]: { value: base },
  }) as CompiledWorkflow;
}

/** `compiled` under `limits` (none, or empty: the compiled workflow with its own task limits only). */
export function withLimits(compiled: CompiledWorkflow, limits: GlobalLimits | undefined): CompiledWorkflow {
  const base = (compiled as Bound)[UNBOUND] ?? compiled;
  if (!limits || !hasLimits(limits)) return base;
  if (!enabled) return bind(base, limits);
  let byCompiled = bound.get(limits);
  if (!byCompiled) bound.set(limits, (byCompiled = new WeakMap()));
  let c = byCompiled.get(base);
  if (!c) byCompiled.set(base, (c = bind(base, limits)));
  return c;
}

export const clearLimitsBindingCache = (): void => { bound = new WeakMap(); };
export const setLimitsBindingCacheEnabled = (on: boolean): void => { enabled = on; clearLimitsBindingCache(); };
