/**
 * What a child run means to the attempt of its parent that started it (a SUB_WORKFLOW attempt): its output
 * once it completes, its error once it fails or is cancelled, nothing while it goes on. Both executors
 * report a settled child to its parent with this.
 */
import type { TaskError } from '../events/index.js';
import type { RunView } from '../runtime/index.js';

/** A child run's outcome as its parent's attempt reports it; `waiting`: it waits on the outside world (an approval, a far timer). */
export type ChildOutcome =
  | { kind: 'completed'; output: unknown }
  | { kind: 'failed'; error: TaskError }
  | { kind: 'waiting' };

const failed = (error: TaskError): ChildOutcome => ({ kind: 'failed', error });

/** A settled child's outcome as its parent's attempt reports it; null while it has not settled. */
export function childOutcome(view: RunView, workflow: string): ChildOutcome | null {
  if (view.status === 'COMPLETED') return { kind: 'completed', output: view.output };
  if (view.status === 'FAILED' || view.status === 'CANCELLED') {
    const e = view.error;
    const at = e?.task ? ` at task ${e.task}` : '';
    return failed({
      code: e?.code ?? (view.status === 'CANCELLED' ? 'CANCELLED' : 'LF_SUBWORKFLOW_FAILED'),
      retryable: e?.retryable ?? false,
      message: `sub-workflow ${workflow} (run ${view.runId}) ${view.status === 'FAILED' ? 'failed' : 'was cancelled'}${at}: ${e?.message ?? 'no error recorded'}`,
    });
  }
  return null;
}
