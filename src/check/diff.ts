/**
 * What changed between two versions of a workflow, read from their statecharts: tasks added, removed or renamed,
 * dependencies and decision cases changed, inputs newly required, outputs removed that something reads.
 */
import type { LoadedDefinition } from '../files/index.js';
import type { Finding } from './findings.js';

/** The definition as `check` has it: parsed, and where it can be read from (the text gives positions). */
export type CheckedDefinition = Pick<LoadedDefinition, 'definition' | 'file' | 'text'>;

// PLACEHOLDER until the diff lands (it replaces this body): nothing is compared yet.
export function diffDefinitions(_before: CheckedDefinition, _after: CheckedDefinition): Finding[] {
  return [];
}
