/**
 * `failure_workflow: { steps: [...] }` (the seeds' inline form) runs tasks of
 * this workflow when it fails; a step is a task id. A step that names no task
 * runs nothing, so it is never passed over in silence: refused in our own form
 * (steps alone: a typo or a missing task), and, in the seeds' form with an
 * `id` beside the steps (as the shared example writes it, which must load
 * unchanged), a warning that says exactly what runs for it: nothing.
 */
import type { CheckContext } from './context.js';
import { didYouMean, isObj } from './issues.js';

export function checkFailureSteps(ctx: CheckContext): void {
  const fw = ctx.wf.failure_workflow;
  if (!isObj(fw)) return;
  // Not a list: the schema says so.
  const steps = Array.isArray(fw.steps) ? fw.steps : [];
  const named = typeof fw.id === 'string' ? fw.id : undefined;
  const ids = [...ctx.ids];
  steps.forEach((step, i) => {
    if (typeof step !== 'string' || ctx.ids.has(step)) return;
    const path = ['workflow', 'failure_workflow', 'steps', i];
    const fix = `add a task with id ${step} (e.g. \`- { id: ${step}, type: SIMPLE }\`, run by the handler of that name) or remove the step${didYouMean(step, ids)}`;
    if (named === undefined) {
      ctx.error('LF_FAILURE_STEP_UNKNOWN', `failure_workflow step "${step}" names no task of this workflow, so nothing would run for it when the run fails; ${fix}`, path);
    } else {
      ctx.warn('LF_FAILURE_STEP_UNKNOWN', `failure_workflow step "${step}" names no task of this workflow: when the run fails nothing runs for it (steps run tasks of this workflow, and the id "${named}" beside them starts no workflow); ${fix}, or to start workflow ${named} instead write failure_workflow without steps`, path);
    }
  });
}
