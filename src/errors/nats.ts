/**
 * A NATS client error that reached an edge (the CLI's exit, the HTTP API), said as what the server answered, with a
 * stable code, never as a stack trace or an internal error: a JetStream request that timed out on a busy server is
 * LF_NATS_TIMEOUT (try again), a full store LF_NATS_STORAGE_FULL, anything else the client raised LF_NATS_ERROR. Told
 * by the error's class name (and `cause`s): no client is loaded, so the CLI's exit path and errors/index.ts import it.
 */
import type { ErrorCode } from './codes.js';

/** JetStream's API error code for a request its storage limits cannot take. */
const JS_INSUFFICIENT_RESOURCES = 10047;

/** How deep to follow `cause` (a RequestError wraps its TimeoutError). */
const MAX_CAUSES = 8;

/** The names of the NATS client's error classes (@nats-io/nats-core's `errors`, @nats-io/jetstream's `jserrors`). */
const NATS_ERRORS = new Set([
  'AuthorizationError',
  'ClosedConnectionError',
  'ConnectionError',
  'DrainingConnectionError',
  'InvalidArgumentError',
  'InvalidOperationError',
  'InvalidSubjectError',
  'NoResponders',
  'PermissionViolationError',
  'ProtocolError',
  'RequestError',
  'TimeoutError',
  'UserAuthenticationExpiredError',
  'JetStreamError',
  'JetStreamStatusError',
  'JetStreamApiError',
  'JetStreamNotEnabled',
  'ConsumerNotFoundError',
  'StreamNotFoundError',
  'InvalidNameError',
]);

/** Seconds a caller of the HTTP API is told to wait (Retry-After) before asking again after a timeout. */
export const NATS_RETRY_AFTER_S = 2;

function timedOut(err: Error): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < MAX_CAUSES && e instanceof Error; depth++, e = e.cause) {
    if (e.name === 'TimeoutError') return true;
  }
  return false;
}

/** What `thrown` means when it is a NATS client error; null when it is not one. */
export function natsFailure(thrown: unknown): { code: ErrorCode; message: string } | null {
  if (!(thrown instanceof Error) || !NATS_ERRORS.has(thrown.name)) return null;
  // A JetStreamApiError's `code` is the API's err_code.
  const apiCode =
    thrown.name.endsWith('ApiError') || thrown.name.endsWith('NotFoundError')
      ? (thrown as Error & { code?: unknown }).code
      : undefined;
  if (apiCode === JS_INSUFFICIENT_RESOURCES || /insufficient (storage )?resources/i.test(thrown.message)) {
    return {
      code: 'LF_NATS_STORAGE_FULL',
      message: `the NATS server's storage is full (JetStream: ${thrown.message}); nothing was recorded. Free space on the server, or raise its JetStream limits (max_file_store, the account's limits), then try again`,
    };
  }
  if (timedOut(thrown)) {
    return {
      code: 'LF_NATS_TIMEOUT',
      message: `the NATS server did not answer in time (${thrown.message}): it is busy or unreachable. Try again in a few seconds; \`ledgerflow doctor\` shows whether it is up`,
    };
  }
  return { code: 'LF_NATS_ERROR', message: `the NATS server refused or failed the request: ${thrown.message}` };
}
