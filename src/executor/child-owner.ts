/**
 * A SUB_WORKFLOW's or failure workflow's child has a derived run id
 * (`<run>-<task>-<attempt>`, `<run>-failure`); a run started first under that
 * id by anyone else (a caller-chosen id of the same shape) must not
 * be adopted as the child, its output taken for the child's. Both executors
 * ask this of the run under the id before they drive or wait for it.
 */
import type { TaskError } from '../events/index.js';
import type { ParentRef, StartChild } from '../runtime/index.js';

/** What a run's run.started says of it, as far as this check needs. */
export interface StartedAs { workflowId: string; parent?: Partial<ParentRef> }

/** The attempt's error when the run under the child's id is not the child `effect` starts; null when it is (or not written yet). */
export function childIdTaken(started: StartedAs | null, effect: StartChild): TaskError | null {
  const taken = notOurChild(started, effect);
  if (!taken) return null;
  return { code: 'LF_RUN_ID_TAKEN', retryable: false, message: `run id ${effect.childRunId}, the id of this attempt's child run, is taken by ${taken}: it is not adopted as the child; cancel or remove that run, then retry the parent` };
}

/** What the run under a child's id is when it is not the child `effect` starts (said for people); null when it is. */
function notOurChild(started: StartedAs | null, effect: StartChild): string | null {
  if (!started) return null; // not written yet: nothing to judge
  const p = started.parent;
  const want = effect.parent;
  const same = p !== undefined && p.runId === want.runId && p.task === want.task && p.attempt === want.attempt
    && p.iteration === want.iteration && p.item === want.item && p.relation === want.relation;
  if (same) return null;
  return p ? `a run of workflow ${started.workflowId} started by run ${p.runId}${p.task ? ` (task ${p.task})` : ''}` : `a run of workflow ${started.workflowId} that no parent started`;
}
