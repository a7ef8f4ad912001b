/**
 * Typed errors with stable codes. Every error ledgerflow raises on purpose is a LedgerflowError: `code` is stable
 * (scripts match on it), `message` is for people, `meta` is JSON-safe so `--json` and HTTP can print it as it is.
 */
import type { ErrorCode } from './codes.js';
import { LedgerflowError, type ErrorOptions, type JsonSafe } from './base.js';

export { ERROR_CODES, ERROR_KINDS, kindOf, type ErrorCode, type ErrorKind } from './codes.js';
export { errorMessage } from './message.js';
export { clippedValue, quoteNames, quoteValue, someNames } from './quote.js';
export { permissionDenied } from './permission.js';
export { NATS_RETRY_AFTER_S, natsFailure } from './nats.js';
export { LedgerflowError, type ErrorOptions, type JsonSafe } from './base.js';
export { BlobAlteredError, BlobMissingError, BlobNotLoadedError, type BlobPlace } from './blobs.js';
export {
  DeadLetterNotFoundError,
  DeadLetterNotReplayableError,
  InputError,
  NotificationsConfigError,
  UsageError,
  UsersFileError,
} from './usage.js';
export {
  ApprovalRefusedError,
  AuthorityError,
  CancelRefusedError,
  ConcurrencyLimitError,
  judgedApprovalRefusal,
  PauseRefusedError,
  RetryRefusedError,
  ForkRefusedError,
  RunIdTakenError,
  SignalRefusedError,
} from './refusals.js';

/**
 * Encryption at rest (docs/security.md): a data key that is not 32 bytes (LF_DATA_KEY_INVALID), a key a stored value
 * was sealed with that no provider has (LF_DATA_KEY_MISSING), a sealed value that does not open with its key: changed
 * after it was written, or a different key under the same id (LF_DECRYPT_FAILED). Meta names the key id and the run,
 * never a value.
 */
export class DataKeyError extends LedgerflowError {}

/** A problem found in a definition, with its place in the source. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code: ErrorCode;
  message: string;
  /** Path into the raw YAML document, e.g. ['workflow', 'tasks', 3, 'depends_on', 0]. */
  path: (string | number)[];
  file?: string;
  line?: number;
  col?: number;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file ?? '<definition>'}:${d.line ?? 1}:${d.col ?? 1}`;
  return `${where}: ${d.severity}: ${d.message}`;
}

/** The definition does not validate; `diagnostics` holds every problem found, not only the first. */
export class DefinitionError extends LedgerflowError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], file?: string) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(
      'LF_DEFINITION_INVALID',
      `${file ?? 'definition'} is invalid (${errors.length} error${errors.length === 1 ? '' : 's'}):\n` +
        diagnostics.map(formatDiagnostic).join('\n'),
      { file: file ?? null, diagnostics: diagnostics as unknown as JsonSafe },
    );
    this.diagnostics = diagnostics;
  }
}

/** An expression or template that cannot be parsed or evaluated. `column` is 1-based inside the text. */
export class ExpressionError extends LedgerflowError {
  constructor(message: string, meta: { text: string; column?: number; reason?: string }) {
    super('LF_EXPRESSION_INVALID', message, meta);
  }
}

export class RunNotFoundError extends LedgerflowError {
  constructor(runId: string) {
    super('LF_RUN_NOT_FOUND', `run ${runId} does not exist in this store`, { runId });
  }
}

/** `restore` of a run the archive does not hold: it is live (or never was). */
export class RunNotArchivedError extends LedgerflowError {
  constructor(runId: string, live: boolean) {
    super(
      'LF_RUN_NOT_ARCHIVED',
      live
        ? `run ${runId} is not archived: it is live (\`ledgerflow status ${runId}\`); nothing to restore`
        : `run ${runId} is not archived, nor live: no run of that id in this store (check the id with \`ledgerflow archive list\` and \`ledgerflow list\`)`,
      { runId, live },
    );
  }
}

/**
 * A commit to a run the archive took while the commit was decided (its append expected the run's end, and the live log
 * has nothing of it now): nothing was written. Not retried as a conflict: the run is settled and out of the live log.
 */
export class RunArchivedError extends LedgerflowError {
  constructor(runId: string, expectedSeq: number) {
    super(
      'LF_RUN_ARCHIVED',
      `run ${runId} was moved to the archive: nothing is appended to an archived run (this commit expected it at ${expectedSeq}); \`ledgerflow restore ${runId}\` brings it back into the live log`,
      { runId, expectedSeq },
    );
  }
}

/** Another writer appended to the run since we read it: reload and retry. */
export class AppendConflictError extends LedgerflowError {
  constructor(runId: string, expectedSeq: number, actualSeq: number) {
    super('LF_APPEND_CONFLICT', `run ${runId} moved on: expected last sequence ${expectedSeq}, found ${actualSeq}`, {
      runId,
      expectedSeq,
      actualSeq,
    });
  }
}

/**
 * A run's commit lost to other writers too many times in a row (each time one appended first). Nothing of this commit
 * was written; the caller may try again later. Seen only when many processes write one run at once.
 */
export class CommitContendedError extends LedgerflowError {
  constructor(runId: string, rounds: number, options?: ErrorOptions) {
    super(
      'LF_COMMIT_CONTENDED',
      `run ${runId}: ${rounds} commits in a row found that another writer had appended first; nothing of this one was written (try again)`,
      { runId, rounds },
      options,
    );
  }
}

export class StoreError extends LedgerflowError {
  constructor(
    message: string,
    meta: Record<string, JsonSafe | undefined> = {},
    options?: ErrorOptions,
    code: ErrorCode = 'LF_STORE',
  ) {
    super(code, message, meta, options);
  }
}

/**
 * The store's place cannot be used as it is (a disk full, a read-only file system, no permission, a path that is a
 * file): the message names the fix; nothing was recorded. Not a bug, so no stack trace; the CLI exits 2.
 */
export class StoreUnusableError extends StoreError {
  constructor(message: string, meta: Record<string, JsonSafe | undefined> = {}, options?: ErrorOptions) {
    super(message, meta, options, 'LF_STORE_UNUSABLE');
  }
}

/**
 * A stored line or message that is not a valid commit of its run: that run cannot be read, other runs can (list and
 * replay --all report it and go on). `where` is the run's file, or the stream message; `reason` what is wrong.
 */
export class CorruptRunError extends StoreError {
  readonly runId: string;
  readonly where: string;
  readonly reason: string;
  constructor(
    message: string,
    runId: string,
    where: string,
    reason: string,
    meta: Record<string, JsonSafe | undefined> = {},
    options?: ErrorOptions,
  ) {
    super(message, { ...meta, runId, reason }, options);
    this.runId = runId;
    this.where = where;
    this.reason = reason;
  }
}

/** A run's log that does not begin with run.started (cut, or written by hand): it cannot be folded. */
export class RunNotStartedError extends LedgerflowError {
  constructor(got: string | undefined, runId?: string) {
    super(
      'LF_CORRUPT_RUN',
      `${runId === undefined ? 'a run' : `run ${runId}`} does not begin with run.started (its first event is ${got ?? 'missing'})`,
      { runId, got: got ?? null },
    );
  }
}

/** Another process drives the run now (the file store's run lease): one driver per run at a time. */
export class RunBusyError extends LedgerflowError {
  constructor(runId: string, holder: { pid: number | null; host: string | null; since: string | null }, lease: string) {
    const who = `pid ${holder.pid ?? '?'} on host ${holder.host ?? '?'} since ${holder.since ?? '?'}`;
    super(
      'LF_RUN_BUSY',
      `run ${runId} is being driven by another process (${who}); wait for it to stop, or, if no such process exists any more, delete ${lease}`,
      { runId, pid: holder.pid, host: holder.host, since: holder.since, lease },
    );
  }
}

/**
 * A run's log is shorter than what was once recorded of it (the run index saw it at a later event): events were lost
 * after they were written (a log cut or restored by hand). Driving it would run again work its lost events recorded as
 * done, so nothing drives or writes to it.
 */
export class RunLogDamagedError extends LedgerflowError {
  constructor(
    runId: string,
    damage: { recordedSeq: number; recordedStatus: string; foundSeq: number; index: string; file: string },
  ) {
    super(
      'LF_RUN_LOG_DAMAGED',
      `run ${runId}: its log ${damage.file} ends at event ${damage.foundSeq}, but ${damage.index.endsWith('journal') ? "the store's journal" : 'the run index'} (${damage.index}) recorded it ${damage.recordedStatus} at event ${damage.recordedSeq}: events were lost after they were written (a log cut or restored by hand), so it is not driven or written to. Inspect it with \`ledgerflow history ${runId}\`; put the whole log back from a copy, or, to accept the log as it is, \`ledgerflow reindex\` (the index then forgets the later events)`,
      { runId, ...damage },
    );
  }
}

export class UnsupportedTaskTypeError extends LedgerflowError {
  constructor(taskId: string, type: string) {
    super(
      'LF_UNSUPPORTED_TASK_TYPE',
      `task ${taskId} has type ${type}, which parses and validates but does not run yet in this version of ledgerflow`,
      { taskId, type },
    );
  }
}

/**
 * A TRANSFORM task's jq program failed (LF_JQ_ERROR, jq's own message), or its JavaScript (LF_JS_ERROR, LF_JS_TIMEOUT):
 * an error it raised at run time is retried as the task's retry_policy allows; a program that does not compile, or an
 * output over the limit (LF_OUTPUT_TOO_LARGE), fails the task at once.
 */
export class TransformError extends LedgerflowError {
  readonly retryable: boolean;
  constructor(
    taskId: string,
    message: string,
    opts: { retryable: boolean; code?: 'LF_JQ_ERROR' | 'LF_JS_ERROR' | 'LF_JS_TIMEOUT' | 'LF_OUTPUT_TOO_LARGE' },
  ) {
    super(opts.code ?? 'LF_JQ_ERROR', `task ${taskId}: ${message}`, { taskId });
    this.retryable = opts.retryable;
  }
}

/** The definition and input passed validation but the run's first state cannot be computed: nothing is recorded. */
export class RunCannotStartError extends LedgerflowError {
  constructor(workflowId: string, reason: string, options?: ErrorOptions) {
    super(
      'LF_RUN_CANNOT_START',
      `workflow ${workflowId} cannot start: ${reason}; nothing was recorded`,
      { workflowId, reason },
      options,
    );
  }
}

/** A handler module or handler that cannot be had (not found, not loadable, not given), with its own code. */
export class HandlerError extends LedgerflowError {}

/** An attempt of a step of ledgerflow's own (an EMIT, a failure handler's notify) failed: its code and whether a retry may help are recorded. */
export class AttemptFailedError extends LedgerflowError {
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, retryable: boolean) {
    super(code, message);
    this.retryable = retryable;
  }
}

/**
 * Thrown by a task handler to say that retrying cannot help (bad input, a business rule): the task fails at once
 * whatever its retry policy.
 */
export class NonRetryableError extends Error {
  readonly retryable = false;
  readonly code: string;
  constructor(message: string, code = 'NON_RETRYABLE') {
    super(message);
    this.name = 'NonRetryableError';
    this.code = code;
  }
}

/**
 * Thrown by a task handler (or the HTTP executor on a 429 or 503 with Retry-After) to say the attempt may succeed
 * later, and not before `retryAfterMs`: the next attempt waits the longer of that and the retry policy's delay (at most
 * an hour). Retrying still needs attempts left in the task's retry_policy.
 */
export class RetryAfterError extends Error {
  readonly retryable = true;
  constructor(
    message: string,
    readonly code: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'RetryAfterError';
  }
}
