/** The properties (`ledgerflow verify`'s built-in and declared ones) checked on the new version, as findings. */
import type { CheckedDefinition } from './diff.js';
import type { Finding } from './findings.js';

// PLACEHOLDER until verify lands (it replaces this body): no property is checked yet.
export function propertyFindings(_after: CheckedDefinition): Finding[] {
  return [];
}
