/**
 * `failure_workflow: { steps: [...] }` (the inline form): what runs when the run fails. A step names a task of this
 * workflow (run inside the run, as before) or one of the built-in steps (`log_to_incident`, `notify_commander`,
 * `preserve_state`), which run as a recorded run of their own, `<runId>-failure` (failure-handler.ts). A step that is
 * neither would run nothing: refused at its line:col, listing both.
 */
import type { CheckContext } from './context.js';
import { didYouMean, isObj } from './issues.js';

/** The built-in failure steps, in the order docs/language.md lists them. */
export const FAILURE_STEPS = ['log_to_incident', 'notify_commander', 'preserve_state'] as const;
export type FailureStep = (typeof FAILURE_STEPS)[number];

/**
 * The handler name a built-in step's task runs under: `_` first, as COMMAND's `_command`, so no handler of a module is
 * taken for it; the executor performs it itself (never a worker).
 */
export function failureStepHandler(step: FailureStep): string {
  return `_${step}`;
}

/** The built-in step a handler name stands for, or null. */
export function failureStepOf(handler: string): FailureStep | null {
  return handler.startsWith('_') && (FAILURE_STEPS as readonly string[]).includes(handler.slice(1))
    ? (handler.slice(1) as FailureStep)
    : null;
}

export function isFailureStep(name: string): name is FailureStep {
  return (FAILURE_STEPS as readonly string[]).includes(name);
}

export function checkFailureSteps(ctx: CheckContext): void {
  const fw = ctx.wf.failure_workflow;
  if (!isObj(fw)) return;
  // Not a list: the schema says so.
  const steps = Array.isArray(fw.steps) ? fw.steps : [];
  const ids = [...ctx.ids];
  steps.forEach((step, i) => {
    if (typeof step !== 'string' || ctx.ids.has(step) || isFailureStep(step)) return;
    const fix = `name a built-in step (${FAILURE_STEPS.join(', ')}) or a task of this workflow (add \`- { id: ${step}, type: SIMPLE }\`, run by the handler of that name), or remove the step${didYouMean(step, [...FAILURE_STEPS, ...ids])}`;
    ctx.error(
      'LF_FAILURE_STEP_UNKNOWN',
      `failure_workflow step "${step}" is neither a built-in step nor a task of this workflow, so nothing would run for it when the run fails; ${fix}`,
      ['workflow', 'failure_workflow', 'steps', i],
    );
  });
}
