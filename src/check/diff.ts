/**
 * What changed between two versions of a workflow, read from their statecharts: tasks added, removed or renamed,
 * dependencies and decision cases changed, inputs newly required, outputs removed that something reads
 * (docs/check.md#what-changed). Pure: the parents of the workflow, when it has a definitions folder, are read by the
 * caller (parentsIn) and passed in.
 */
import type { CheckedDefinition } from './checked.js';
import { diffContext } from './context.js';
import { decisionChangeFindings } from './decisions.js';
import type { Finding } from './findings.js';
import { inputFindings } from './inputs.js';
import { outputFindings } from './outputs.js';
import { taskFindings } from './tasks.js';

export type { CheckedDefinition } from './checked.js';

export interface DiffOptions {
  /**
   * The definitions of the new version's folder that start it (parentsIn): who reads its outputs and gives its inputs.
   * Absent: there is no folder to look in (a definition from the registry), and the findings say so.
   */
  parents?: readonly CheckedDefinition[];
}

/** Errors first, then warnings, then notes; within a level, the new file's in its order, then the parents'. */
const LEVELS = { error: 0, warning: 1, note: 2 } as const;

export function diffDefinitions(
  before: CheckedDefinition,
  after: CheckedDefinition,
  opts: DiffOptions = {},
): Finding[] {
  const ctx = diffContext(before, after);
  const findings = [
    ...taskFindings(ctx),
    ...decisionChangeFindings(ctx),
    ...inputFindings(ctx, opts.parents),
    ...outputFindings(ctx, opts.parents),
  ];
  // A stable order (sort is stable): reruns and reviewers see the same list.
  return findings.sort(
    (a, b) =>
      LEVELS[a.level] - LEVELS[b.level] ||
      Number(a.location.file !== after.file) - Number(b.location.file !== after.file) ||
      a.location.file.localeCompare(b.location.file) ||
      a.location.line - b.location.line ||
      a.location.col - b.location.col,
  );
}
