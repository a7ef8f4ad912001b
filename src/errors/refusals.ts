/**
 * Refusals: a request the engine judged and turned down (an approval, a signal, a pause, a cancel, a retry, a taken run
 * id, a concurrency limit, someone's authority level). Nothing but the refusal is recorded; kept apart from
 * errors/index.ts so the module's entry stays a list of the errors of runs and stores.
 */
import { LedgerflowError, type ErrorOptions, type JsonSafe } from './base.js';

/** Someone whose level does not allow what they asked (the L0–L3 levels): the message names the level needed and theirs. */
export class AuthorityError extends LedgerflowError {
  constructor(message: string, meta: { user: string; have: string; need: string; action: string }) {
    super('LF_AUTHORITY_REFUSED', message, meta);
  }
}

export class ApprovalRefusedError extends LedgerflowError {
  constructor(message: string, meta: Record<string, JsonSafe | undefined>, options?: ErrorOptions) {
    super('LF_APPROVAL_REFUSED', message, meta, options);
  }
}

/**
 * A decision the engine judged and refused, said alike on every store: `kept` when the refusal is in the run's history;
 * a person who is not one of the task's approvers is a permission error (HTTP 403). (A function, not a static method: a
 * class that names itself inside its body is renamed by the bundler.)
 */
export function judgedApprovalRefusal(d: {
  runId: string;
  taskId: string;
  by: string;
  decision: 'approved' | 'rejected';
  reason: string;
  kept: boolean;
  notApprover: boolean;
}): ApprovalRefusedError {
  return new ApprovalRefusedError(
    `cannot record ${d.decision === 'approved' ? 'approval' : 'rejection'} of ${d.taskId}: ${d.reason}${d.kept ? " (the refusal is kept in the run's history)" : '; nothing was recorded'}`,
    { runId: d.runId, taskId: d.taskId, by: d.by, ...(d.notApprover ? { notApprover: true } : {}) },
    d.notApprover ? { kind: 'permission' } : undefined,
  );
}

/** A signal no WAIT of the run would take (unknown run, no WAIT of that name, all settled): nothing was recorded. */
export class SignalRefusedError extends LedgerflowError {
  constructor(message: string, meta: Record<string, JsonSafe | undefined>, options?: ErrorOptions) {
    super('LF_SIGNAL_REFUSED', message, meta, options);
  }
}

/** A pause (or resume) the run does not take: it has settled, or it is already paused (not paused). Nothing is recorded. */
export class PauseRefusedError extends LedgerflowError {
  constructor(message: string, meta: Record<string, JsonSafe | undefined>, options?: ErrorOptions) {
    super('LF_PAUSE_REFUSED', message, meta, options);
  }
}

/**
 * A cancel over NATS the engine refuses (the run has settled: nothing to cancel), or one this NATS user may not
 * publish. Nothing is recorded.
 */
export class CancelRefusedError extends LedgerflowError {
  constructor(message: string, meta: Record<string, JsonSafe | undefined>, options?: ErrorOptions) {
    super('LF_CANCEL_REFUSED', message, meta, options);
  }
}

/**
 * A retry from failed of a run that is not FAILED or CANCELLED (it completed, or has not settled): nothing is started.
 * `meta.status` is the run's status.
 */
export class RetryRefusedError extends LedgerflowError {
  constructor(message: string, meta: Record<string, JsonSafe | undefined>, options?: ErrorOptions) {
    super('LF_RETRY_REFUSED', message, meta, options);
  }
}

/**
 * A fork whose point (`--at`) is not in the run: LF_FORK_POINT_UNKNOWN for a sequence past its log or a task its
 * definition (or the one it is forked under) does not have, LF_FORK_POINT_NOT_REACHED for a task the run never
 * started; LF_FORK_WORKFLOW_MISMATCH for a fork under another workflow's definition. Nothing is started.
 */
export class ForkRefusedError extends LedgerflowError {
  constructor(
    code: 'LF_FORK_POINT_UNKNOWN' | 'LF_FORK_POINT_NOT_REACHED' | 'LF_FORK_WORKFLOW_MISMATCH',
    message: string,
    meta: Record<string, JsonSafe | undefined>,
  ) {
    super(code, message, meta);
  }
}

/**
 * A start with a caller-chosen run id (`run --id`) whose id already names a run of another workflow: the id is taken,
 * and returning that run would hand the caller a run of a workflow it did not ask for. Nothing is written.
 */
export class RunIdTakenError extends LedgerflowError {
  /** `message`: said instead of the caller's fix (an event's or a slot's run id, which nobody chooses). */
  constructor(runId: string, workflowId: string, takenBy: string, message?: string) {
    super(
      'LF_RUN_ID_TAKEN',
      message ??
        `run id ${runId} is taken by a run of workflow ${takenBy}, not ${workflowId}: choose another id (run ids are unique across workflows in a store)`,
      { runId, workflowId, takenBy },
    );
  }
}

/**
 * A start of a workflow with `concurrency: { on_limit: refuse }` when its limit (for that key) is reached: refused,
 * nothing written. Retry later, or use on_limit: queue to have such starts wait in QUEUED.
 */
export class ConcurrencyLimitError extends LedgerflowError {
  constructor(workflowId: string, limit: number, key: string | null, holders: number) {
    super(
      'LF_CONCURRENCY_LIMIT',
      `workflow ${workflowId} already has ${holders} of its ${limit} run(s)${key !== null ? ` for key ${JSON.stringify(key)}` : ''} going (concurrency.on_limit: refuse): nothing was started; start it again once one settles, or set on_limit: queue to wait in QUEUED`,
      { workflowId, limit, key, holders },
    );
  }
}
