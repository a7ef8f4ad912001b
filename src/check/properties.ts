/** The properties (`ledgerflow verify`'s built-in and declared ones) checked on the new version, as findings. */
import { positionIn } from '../definition/index.js';
import { propertyPlace, verifyDefinition } from '../verify/index.js';
import type { CheckedDefinition } from './diff.js';
import type { Finding } from './findings.js';

/** Each property the new version breaks, with the shortest path that breaks it and the place it is declared or about. */
export function propertyFindings(after: CheckedDefinition): Finding[] {
  const def = after.definition;
  return verifyDefinition(def)
    .properties.filter((r) => !r.holds)
    .map((r) => {
      const place = propertyPlace(def, r);
      const at = after.text === undefined ? { line: 1, col: 1 } : positionIn(after.text, place.path, place);
      return {
        section: 'properties',
        rule: `property-${r.property.replaceAll('_', '-')}`,
        level: 'error',
        message: r.message,
        location: { file: after.file, line: at.line, col: at.col },
        ...(r.task !== undefined ? { task: r.task } : {}),
        ...(r.counterExample ? { path: r.counterExample.steps } : {}),
      };
    });
}
