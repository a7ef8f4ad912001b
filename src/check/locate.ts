/**
 * Where a finding points in the new definition's file: a task's entry in `workflow.tasks` when the finding is about a
 * task the file has, else the file's `workflow:` key (what CI annotations and SARIF place a finding at).
 */
import { positionIn } from '../definition/index.js';
import type { CheckedDefinition } from './diff.js';
import type { FindingLocation } from './findings.js';

export function workflowLocation(def: CheckedDefinition): FindingLocation {
  const at = def.text !== undefined ? positionIn(def.text, ['workflow'], { onKey: true }) : { line: 1, col: 1 };
  return { file: def.file, line: at.line, col: at.col };
}

/** The task's place in the file; the `workflow:` key when the file has no such task (or no text to read it from). */
export function taskLocation(def: CheckedDefinition, taskId: string | undefined): FindingLocation {
  const index = taskId === undefined ? -1 : def.definition.tasks.findIndex((t) => t.id === taskId);
  if (index < 0 || def.text === undefined) return workflowLocation(def);
  const at = positionIn(def.text, ['workflow', 'tasks', index]);
  return { file: def.file, line: at.line, col: at.col };
}
