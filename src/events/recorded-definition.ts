/** run.started's definition, typed: the one place the record it is stored as is read as a Definition. */
import type { Definition } from '../definition/index.js';

/**
 * The definition a run.started event (or a snapshot) recorded, as the Definition it is: the schema keeps it as a record
 * (the definition's own schema checked it when the run started, and replay must read old runs whatever keys later
 * versions add), so this one accessor says what the record holds.
 */
export function recordedDefinitionOf(recorded: { readonly definition: Record<string, unknown> }): Definition {
  return recorded.definition as unknown as Definition;
}

/** A Definition as run.started (or a snapshot) records it. */
export function definitionRecord(definition: Definition): Record<string, unknown> {
  return definition as unknown as Record<string, unknown>;
}
