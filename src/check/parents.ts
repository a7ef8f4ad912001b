/**
 * The parents of a workflow: the definitions of its folder whose SUB_WORKFLOW (or MAP over a workflow) starts it. They
 * are given to the diff (diffDefinitions' `parents`), so the diff stays pure; parentsIn (parent-folder.ts) reads them.
 */
import type { TaskDef } from '../definition/index.js';
import type { CheckedDefinition } from './checked.js';
import type { FindingLocation } from './findings.js';
import { locate, sourceOf, taskPath, type RawPath, type Source } from './where.js';

export interface Starter {
  parent: CheckedDefinition;
  /** The task that starts the child. */
  task: TaskDef;
  source: Source;
}

/** Every task of the parents that starts workflow `childId`. */
export function startersOf(parents: readonly CheckedDefinition[], childId: string): Starter[] {
  return parents.flatMap((parent) => {
    const source = sourceOf(parent);
    return parent.definition.tasks
      .filter((t) => (t.type === 'SUB_WORKFLOW' || t.type === 'MAP') && t.workflow === childId)
      .map((task) => ({ parent, task, source }));
  });
}

/** Where in the parent's file: a path under the starting task. */
export function inStarter(s: Starter, path: RawPath = [], onKey = false): FindingLocation {
  return locate(s.source, { path: [...taskPath(s.task.index), ...path], onKey }, { path: taskPath(s.task.index) });
}

/** `parent.yaml:12:7`, for messages. */
export const placeText = (l: FindingLocation): string => `${l.file}:${l.line}:${l.col}`;
