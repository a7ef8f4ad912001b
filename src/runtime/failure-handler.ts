/**
 * The run a failed run's built-in failure steps make (a definition's `failure_workflow: { id, steps: [log_to_incident,
 * notify_commander, preserve_state] }`): a workflow of one task per built-in step, written out from the failed run's
 * definition alone and recorded whole in the run's run.started (as every run's definition is), so its history shows
 * each step and `resume` drives it like any run. Pure: the same definition in, the same definition (and hash) out.
 */
import { stringify } from 'yaml';
import {
  failureStepHandler,
  isFailureStep,
  parseDefinition,
  type Definition,
  type FailureStep,
} from '../definition/index.js';

/** The built-in steps a failure_workflow names that are not tasks of the workflow (those run inside the run). */
function builtinFailureSteps(def: Definition): FailureStep[] {
  const steps = def.failureWorkflow?.steps ?? [];
  const ids = new Set(def.tasks.map((t) => t.id));
  return steps.filter((s): s is FailureStep => !ids.has(s) && isFailureStep(s));
}

/** The failure handler's workflow id: the failure_workflow's `id`, else `<workflow>-failure-handler`. */
export function failureHandlerId(def: Definition): string {
  const id = def.failureWorkflow?.id;
  return id && /^[A-Za-z0-9_-]+$/.test(id) ? id : `${def.id}-failure-handler`.slice(0, 128);
}

/**
 * The definition of the failed run's handler run, or null when the failure_workflow names no built-in step. The steps
 * are independent (no `depends_on`): one that fails after its retries leaves the others to do theirs; each is tried
 * three times.
 */
export function failureHandlerDefinition(def: Definition): Definition | null {
  const steps = builtinFailureSteps(def);
  if (steps.length === 0) return null;
  const workflow = {
    id: failureHandlerId(def),
    name: `Failure handler of ${def.id}`,
    description: `The built-in failure steps of ${def.id} (${steps.join(', ')}), run once for each of its failed runs.`,
    input: { required: ['failedRunId'], optional: ['failedTask', 'error'] },
    tasks: steps.map((step) => ({
      id: step,
      type: 'SIMPLE',
      handler: failureStepHandler(step),
      input: { failed_run: '${workflow.input.failedRunId}' },
      retry_policy: { max_attempts: 3, initial_delay: '1s' },
    })),
  };
  // Written out and read back through the one parser, so it is normalised and hashed as a file's would be.
  const parsed = parseDefinition(stringify({ workflow }));
  if (!parsed.definition)
    throw new Error(
      `the failure handler of ${def.id} did not validate: ${parsed.diagnostics.map((d) => d.message).join('; ')}`,
    );
  return parsed.definition;
}

/** What a built-in step's attempt is given: whose failure handler run it is, and how to stop. */
export interface FailureStepContext {
  /** The failure handler's run (`<failedRunId>-failure`). */
  runId: string;
  attempt: number;
  signal: AbortSignal;
  log: (message: string) => void;
}

/**
 * Performs the built-in failure steps (the executor's own work, as a child run or an EMIT is): the embedded store's
 * writes files under `.3ox/`, the NATS engine's publishes too (src/incidents). `input.failed_run` names the failed run;
 * its output is the attempt's.
 */
export interface FailureStepRunner {
  run(step: FailureStep, input: Record<string, unknown>, ctx: FailureStepContext): Promise<unknown>;
}
