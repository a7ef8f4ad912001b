/**
 * Every error the API answers with, in one place: `{ error: { code, message, field? } }` and its HTTP status. Typed
 * ledgerflow errors keep their stable code; anything unexpected is a 500 whose body says nothing of the stack.
 */
import { HTTPException } from 'hono/http-exception';
import {
  ERROR_KINDS,
  LedgerflowError,
  NATS_RETRY_AFTER_S,
  kindOf,
  natsFailure,
  permissionDenied,
  type ErrorCode,
} from '../errors/index.js';

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string; subject?: string };
}

/** An error the server raises itself (auth, CSRF, content type, body size, not found, too many sign-ins). */
export class ApiError extends LedgerflowError {
  constructor(
    readonly status: 401 | 403 | 404 | 409 | 413 | 415 | 400 | 421 | 429 | 501 | 503,
    code: ErrorCode,
    message: string,
    meta: { field?: string; subject?: string } = {},
  ) {
    super(code, message, meta);
  }
}

/**
 * `message` with every place under `root` (the embedded store's folder) said as `<store>/…`: a client of the API learns
 * nothing of the server's file system from an error (the server's log keeps the path).
 */
export function withoutRoot(message: string, root: string | undefined): string {
  return root ? message.split(root).join('<store>') : message;
}

/** `retryAfter`: seconds to send as Retry-After, when the same request may well succeed then (a NATS server that did not answer in time). */
export function toHttpError(
  thrown: unknown,
  storeRoot?: string,
): { status: number; body: ApiErrorBody; retryAfter?: number } {
  const { status, body, retryAfter } = httpErrorOf(thrown);
  return {
    status,
    body: { error: { ...body.error, message: withoutRoot(body.error.message, storeRoot) } },
    ...(retryAfter ? { retryAfter } : {}),
  };
}

function httpErrorOf(err: unknown): { status: number; body: ApiErrorBody; retryAfter?: number } {
  if (err instanceof ApiError) {
    const { field, subject } = err.meta as { field?: string; subject?: string };
    return {
      status: err.status,
      body: {
        error: { code: err.code, message: err.message, ...(field ? { field } : {}), ...(subject ? { subject } : {}) },
      },
    };
  }
  if (err instanceof HTTPException) {
    return {
      status: err.status,
      body: {
        error: {
          code: err.status === 413 ? 'LF_BODY_TOO_LARGE' : 'LF_HTTP',
          message: err.message || 'request refused',
        },
      },
    };
  }
  if (err instanceof LedgerflowError) {
    const field = typeof err.meta.field === 'string' ? err.meta.field : undefined;
    // A NATS permissions violation is said as LF_FORBIDDEN with the subject refused, whatever it interrupted.
    const forbidden = permissionDenied(err);
    if (forbidden !== null) {
      return {
        status: 403,
        body: { error: { code: 'LF_FORBIDDEN', message: err.message, ...(forbidden ? { subject: forbidden } : {}) } },
      };
    }
    return {
      status: ERROR_KINDS[err.kind].http,
      body: { error: { code: err.code, message: err.message, ...(field ? { field } : {}) } },
    };
  }
  // The NATS client's own errors (a request that timed out on a busy server, a refused subject): said by name, not as internal.
  const refused = permissionDenied(err);
  if (refused !== null)
    return {
      status: 403,
      body: {
        error: {
          code: 'LF_FORBIDDEN',
          message: err instanceof Error ? err.message : String(err),
          ...(refused ? { subject: refused } : {}),
        },
      },
    };
  const nats = natsFailure(err);
  if (nats) {
    const kind = kindOf(nats.code);
    return {
      status: ERROR_KINDS[kind].http,
      body: { error: nats },
      ...(nats.code === 'LF_NATS_TIMEOUT' ? { retryAfter: NATS_RETRY_AFTER_S } : {}),
    };
  }
  return { status: 500, body: { error: { code: 'LF_INTERNAL', message: 'internal error: see the server log' } } };
}
