/**
 * Reading the parents of a workflow from a definitions folder: the one part of the diff that does I/O, kept apart so
 * diffDefinitions stays pure (its caller reads them and passes them in).
 */
import { definitionFilesIn, mayDeclare, readDefinitionSource } from '../files/index.js';
import { parseDefinition } from '../definition/index.js';
import type { CheckedDefinition } from './checked.js';
import { startersOf } from './parents.js';

/**
 * The definitions of `folder` (its *.yaml and *.yml files, not its subfolders) that start workflow `childId`, with
 * their text for positions. A file that is not a valid definition starts nothing and is passed over: `validate` says
 * why.
 */
export function parentsIn(folder: string, childId: string): CheckedDefinition[] {
  const out: CheckedDefinition[] = [];
  for (const file of definitionFilesIn(folder)) {
    const read = readDefinitionSource(file);
    if ('refused' in read || !mayDeclare(read.text, childId)) continue;
    const { definition } = parseDefinition(read.text, file);
    if (!definition) continue;
    const checked: CheckedDefinition = { definition, file, text: read.text };
    if (startersOf([checked], childId).length > 0) out.push(checked);
  }
  return out;
}
