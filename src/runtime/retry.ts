/**
 * Retry from failed: which outputs of a FAILED or CANCELLED run a new run of the same definition and input reuses.
 * Pure: the plan is worked out once, when the retry starts, and recorded in the new run's run.started
 * (`source.retryOf.outputs`), so replay never reads the old run; the step (commit.ts) completes each planned task as it
 * becomes ready.
 *
 * A task is reused when it COMPLETED in the old run, ran work of its own (SIMPLE, COMMAND, HTTP, SUB_WORKFLOW, EMIT: an
 * attempt; HUMAN: an approval; WAIT: its signal or time), and everything upstream of it ends the same in the new run:
 * each of its dependencies is reused itself, or re-evaluates to the same result from reused outputs (DECISION, FORK,
 * JOIN, SET, TERMINATE, and a task skipped without ever starting). So a task downstream of one that runs again runs
 * again too. Never reused: DO_WHILE loops and their bodies and MAPs with their iterators (their iterations and items
 * run again, and so does everything after them), the inline steps of a failure_workflow, and anything that did not
 * complete (the failed task, what was cancelled).
 */
import { effectiveDependencies, iteratorMap, loopOwners, type TaskType } from '../definition/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import { RetryRefusedError } from '../errors/index.js';
import type { WorkflowStatus } from '../events/index.js';
import type { RunSnapshot } from './fold.js';
import { runStatus } from './fold.js';

/** Tasks whose completion did work the new run would otherwise do again: their outputs are reused. */
export const REUSED_TASK_TYPES: readonly TaskType[] = [
  'SIMPLE',
  'COMMAND',
  'HTTP',
  'SUB_WORKFLOW',
  'EMIT',
  'HUMAN',
  'WAIT',
  'TRANSFORM',
];
/** Tasks the fold settles by itself from its inputs: the same inputs give the same result, so they re-evaluate. */
const EVALUATED: readonly TaskType[] = ['DECISION', 'FORK', 'JOIN', 'SET', 'TERMINATE'];

/** The statuses a run can be retried from. */
export const RETRYABLE_STATUSES: readonly WorkflowStatus[] = ['FAILED', 'CANCELLED'];

/** Throws RetryRefusedError unless the run settled FAILED or CANCELLED. */
export function assertRetryable(runId: string, snapshot: RunSnapshot): void {
  const status = runStatus(snapshot);
  if (RETRYABLE_STATUSES.includes(status)) return;
  const why =
    status === 'COMPLETED'
      ? 'it completed, so there is nothing to retry (start a new run instead)'
      : `it has not settled (cancel it first, or wait for it to settle)`;
  throw new RetryRefusedError(
    `cannot retry run ${runId}: it is ${status} and only a FAILED or CANCELLED run can be retried; ${why}`,
    { runId, status },
  );
}

/** The outputs a retry of this settled run reuses, by task id (see the module's comment for which). */
export function retryPlan(compiled: CompiledWorkflow, snapshot: RunSnapshot): Record<string, unknown> {
  const def = compiled.definition;
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  const deps = effectiveDependencies(def);
  const inLoop = loopOwners(def);
  const iterators = iteratorMap(def.tasks);
  const failureSteps = new Set(def.failureWorkflow?.steps ?? []);
  const tasks = snapshot.context.tasks;
  const outputs: Record<string, unknown> = {};
  const same = new Map<string, boolean>();
  // Whether the task ends in the new run as it did in the old one (recording its output when it is reused).
  const endsTheSame = (id: string): boolean => {
    const known = same.get(id);
    if (known !== undefined) return known;
    same.set(id, false); // a cycle (refused by validation) ends nothing the same
    const t = byId.get(id);
    const st = tasks[id];
    if (!t || !st || inLoop.has(id) || iterators.has(id) || failureSteps.has(id)) return false;
    if (!(deps.get(id) ?? []).every(endsTheSame)) return false;
    let result = false;
    if (st.status === 'COMPLETED' && REUSED_TASK_TYPES.includes(t.type)) {
      outputs[id] = st.output;
      result = true;
    } else if (EVALUATED.includes(t.type)) {
      result = st.status === 'COMPLETED' || st.status === 'SKIPPED' || st.status === 'FAILED';
    } else {
      // Skipped by its dependencies before it started (not by its own timeout): skipped again.
      result = st.status === 'SKIPPED' && st.startedAt === null;
    }
    same.set(id, result);
    return result;
  };
  for (const t of def.tasks) endsTheSame(t.id);
  return outputs;
}
