/**
 * Every error the API answers with, in one place: `{ error: { code, message,
 * field? } }` and its HTTP status. Typed ledgerflow errors keep their stable
 * code; anything unexpected is a 500 whose body says nothing of the stack.
 */
import { HTTPException } from 'hono/http-exception';
import { LedgerflowError, RunNotFoundError, UsageError } from '../errors/index.js';

export interface ApiErrorBody { error: { code: string; message: string; field?: string; subject?: string } }

/** An error the server raises itself (auth, CSRF, content type, body size, not found, too many sign-ins). */
export class ApiError extends LedgerflowError {
  constructor(readonly status: 401 | 403 | 404 | 409 | 413 | 415 | 400 | 421 | 429 | 501 | 503, code: string, message: string, meta: { field?: string; subject?: string } = {}) {
    super(code, message, meta);
  }
}

/** Codes that mean "the run is not in a state that takes this action": 409 with the engine's reason. */
const CONFLICT_CODES = new Set(['LF_PAUSE_REFUSED', 'LF_CANCEL_REFUSED', 'LF_APPROVAL_REFUSED', 'LF_SIGNAL_REFUSED', 'LF_RETRY_REFUSED', 'LF_RUN_BUSY', 'LF_APPEND_CONFLICT', 'LF_RUN_ID_TAKEN']);

/**
 * The subject a NATS permissions violation names, if `message` reports one.
 * ClusterClient wraps it in a *RefusedError whose message keeps the server's
 * words ("Permissions Violation for Publish to lf.control.alice.x"): the typed
 * errors carry no flag for it, so this is the one place that reads the text.
 */
export function permissionSubject(message: string): string | null {
  if (!/permission/i.test(message)) return null;
  const m = /permissions violation for (?:publish|subscription) to "?([^\s"']+)/i.exec(message);
  return m?.[1] ?? '';
}

/**
 * `message` with every place under `root` (the embedded store's folder) said as `<store>/…`: a client
 * of the API learns nothing of the server's file system from an error (the server's log keeps the path).
 */
export function withoutRoot(message: string, root: string | undefined): string {
  return root ? message.split(root).join('<store>') : message;
}

export function toHttpError(thrown: unknown, storeRoot?: string): { status: number; body: ApiErrorBody } {
  const { status, body } = httpErrorOf(thrown);
  return { status, body: { error: { ...body.error, message: withoutRoot(body.error.message, storeRoot) } } };
}

function httpErrorOf(err: unknown): { status: number; body: ApiErrorBody } {
  if (err instanceof ApiError) {
    const { field, subject } = err.meta as { field?: string; subject?: string };
    return { status: err.status, body: { error: { code: err.code, message: err.message, ...(field ? { field } : {}), ...(subject ? { subject } : {}) } } };
  }
  if (err instanceof HTTPException) {
    return { status: err.status, body: { error: { code: err.status === 413 ? 'LF_BODY_TOO_LARGE' : 'LF_HTTP', message: err.message || 'request refused' } } };
  }
  if (err instanceof LedgerflowError) {
    const subject = permissionSubject(err.message);
    if (subject !== null) {
      return { status: 403, body: { error: { code: 'LF_FORBIDDEN', message: err.message, ...(subject ? { subject } : {}) } } };
    }
    const field = typeof err.meta.field === 'string' ? err.meta.field : undefined;
    // Not one of the task's approvers: forbidden whatever the run's state (the refusal is still in its history).
    const status = err.code === 'LF_APPROVAL_REFUSED' && err.meta.notApprover === true ? 403
      : err instanceof RunNotFoundError ? 404
      : CONFLICT_CODES.has(err.code) ? 409
      : err.code === 'LF_CONCURRENCY_LIMIT' ? 429
        : err.code === 'LF_DEFINITION_INVALID' || err instanceof UsageError || err.code === 'LF_RUN_CANNOT_START' || err.code === 'LF_UNSUPPORTED_TASK_TYPE' ? 400
          : err.code === 'LF_STORE' || err.code === 'LF_STORE_UNUSABLE' ? 503
            : 500;
    return { status, body: { error: { code: err.code, message: err.message, ...(field ? { field } : {}) } } };
  }
  return { status: 500, body: { error: { code: 'LF_INTERNAL', message: 'internal error: see the server log' } } };
}
