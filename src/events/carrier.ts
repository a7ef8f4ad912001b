/**
 * Where a definition object keeps its workflow value (compiler/workflow.ts
 * builds it and puts it there): a symbol, not enumerable, so no copy, JSON
 * or equality sees it. Here on the ground floor, beside the recorded
 * definition, so a store reads the definition's JSON off it without loading
 * the definition module or the compiler.
 */
export const CARRIED_WORKFLOW = Symbol('ledgerflow.workflow');

/** What a store needs of a carried workflow value. */
interface CarriedParts { readonly json: string }

/**
 * The JSON of `definition` when it carries its workflow value (made once
 * for every run of it), else undefined. What a store writes for a start's
 * definition: most of a start commit's bytes.
 */
export function carriedJson(definition: object): string | undefined {
  return (definition as { [CARRIED_WORKFLOW]?: CarriedParts })[CARRIED_WORKFLOW]?.json;
}
