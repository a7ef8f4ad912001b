/**
 * Search attributes in the fold: resolved from the input when a run starts (the workflow's `search:`) and again by each
 * SET task's `search:`, kept in the context (`search`). The state hash does not cover them, so runs of definitions
 * without `search:` fold and hash exactly as before.
 */
import { BlobNotLoadedError } from '../errors/index.js';
import { resolveTemplate } from '../expressions/index.js';
import { toSearchValue, type Definition, type JsonValue, type SearchValue } from '../definition/index.js';
import type { RunContext } from './context.js';
import { scopeOf } from './scope.js';

/** The values `decls` give in `ctx` (names not declared by the workflow, and values not of their type, are left out). */
function resolved(def: Definition, values: Record<string, JsonValue>, ctx: RunContext): Record<string, SearchValue> {
  const out: Record<string, SearchValue> = {};
  const scope = scopeOf(ctx);
  for (const [name, raw] of Object.entries(values)) {
    const decl = def.search?.[name];
    if (!decl) continue;
    let v: unknown;
    try {
      v = resolveTemplate(raw, scope);
    } catch (err) {
      // A large payload not loaded yet is no failure of the run: the executor loads it and evaluates again.
      if (err instanceof BlobNotLoadedError) throw err;
      continue; // a template that cannot be resolved leaves the attribute unset, as a value of the wrong type does
    }
    const typed = toSearchValue(decl.type, v);
    if (typed !== null) out[name] = typed;
  }
  return out;
}

/** The attributes a run starts with; undefined when the workflow declares none. */
export function initialSearch(def: Definition, ctx: RunContext): Record<string, SearchValue> | undefined {
  if (!def.search) return undefined;
  return resolved(def, Object.fromEntries(Object.entries(def.search).map(([k, d]) => [k, d.value])), ctx);
}

/** The attributes after a SET task's `search:`; undefined when it sets none. */
export function searchAfterSet(
  def: Definition,
  set: Record<string, JsonValue> | undefined,
  ctx: RunContext,
): Record<string, SearchValue> | undefined {
  if (!set || !def.search) return undefined;
  return { ...(ctx.search ?? {}), ...resolved(def, set, ctx) };
}
