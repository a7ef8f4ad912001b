/**
 * `ledgerflow import conductor`: Conductor workflow definitions (JSON) made into ledgerflow definitions (YAML), each
 * validated, or refused naming every task type or feature that stops it. Pure: the caller reads and writes files.
 */
import { errorMessage } from '../../errors/index.js';
import type { Refusal } from './context.js';
import { ConductorTooDeepError, conductorTooDeep } from './depth.js';
import { convertWorkflow, type ImportedDefinition, type ImportOptions } from './workflow.js';

export type { Refusal } from './context.js';
export { ConductorTooDeepError } from './depth.js';
export type { ImportedDefinition } from './workflow.js';
export { httpTaskSupported } from './types.js';

/** What one Conductor file gave: its definitions, or the reasons it was refused (never both). */
export interface ConductorFileImport {
  file: string;
  definitions: ImportedDefinition[];
  refusals: Refusal[];
}

/**
 * Imports the text of one Conductor JSON file: a WorkflowDef, or a list of them. A file nested deeper than a definition
 * may be is not read further: ConductorTooDeepError (a usage error), thrown before anything recurses.
 */
export function importConductor(text: string, file: string, options: ImportOptions = {}): ConductorFileImport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return {
      file,
      definitions: [],
      refusals: [{ task: '(file)', type: 'file', why: `not JSON: ${errorMessage(err)}` }],
    };
  }
  const deep = conductorTooDeep(json);
  if (deep !== null) throw new ConductorTooDeepError(file, deep);
  const defs = Array.isArray(json) ? json : [json];
  const definitions: ImportedDefinition[] = [];
  const refusals: Refusal[] = [];
  for (const def of defs) {
    const one = convertWorkflow(def, file, options);
    definitions.push(...one.definitions);
    refusals.push(...one.refusals);
  }
  return refusals.length > 0 ? { file, definitions: [], refusals } : { file, definitions, refusals };
}
