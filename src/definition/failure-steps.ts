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
  const unknown = steps.flatMap((step, i) => (typeof step === 'string' && !ctx.ids.has(step) ? [{ step, i }] : []));
  if (named === undefined) {
    for (const { step, i } of unknown) {
      const fix = `add a task with id ${step} (e.g. \`- { id: ${step}, type: SIMPLE }\`, run by the handler of that name) or remove the step${didYouMean(step, ids)}`;
      ctx.error('LF_FAILURE_STEP_UNKNOWN', `failure_workflow step "${step}" names no task of this workflow, so nothing would run for it when the run fails; ${fix}`, ['workflow', 'failure_workflow', 'steps', i]);
    }
  } else if (unknown.length > 0) {
    // The seeds' form loads as written: one warning for all its steps (at the first), not one long line each.
    const names = unknown.map((u) => u.step);
    const they = names.length === 1 ? `step ${names[0]} names` : `steps ${names.join(', ')} name`;
    ctx.warn('LF_FAILURE_STEP_UNKNOWN', `failure_workflow ${they} no task of this workflow: nothing runs for ${names.length === 1 ? 'it' : 'them'} when the run fails (add tasks of those ids, or to start workflow ${named} write failure_workflow without steps)`, ['workflow', 'failure_workflow', 'steps', unknown[0]!.i]);
  }
}
