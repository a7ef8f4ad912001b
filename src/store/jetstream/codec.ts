/**
 * How the JetStream store maps the port onto the server: subjects, message ids and headers, decoding (and validating)
 * what is read, and turning the client's errors into ledgerflow errors. Internal to src/store.
 */
import { createHash } from 'node:crypto';
import type { MsgHdrs } from '@nats-io/nats-core';
import {
  AuthorizationError,
  InvalidArgumentError,
  JetStreamApiError,
  NoRespondersError,
  RequestError,
  TimeoutError,
  headers,
} from './nats-lib.js';
import type { Commit } from '../../events/index.js';
import { parseStoredCommit } from '../common.js';
import type { HeaderFields } from './publisher.js';
import { CorruptRunError, LedgerflowError, StoreError, permissionDenied, type JsonSafe } from '../../errors/index.js';

/** The server's answer to a wrong `expect.lastSubjectSequence`. */
export const ERR_WRONG_LAST_SEQUENCE = 10071;
export const ERR_STREAM_NOT_FOUND = 10059;
export const ERR_STREAM_NAME_IN_USE = 10058;
export const ERR_NO_MESSAGE_FOUND = 10037;
/** JetStream temporarily unavailable (e.g. while a restarted server recovers its streams). */
const ERR_JS_UNAVAILABLE = 10008;

/**
 * An expectation no subject can meet (stream sequences never get near 2^53): publishing with it lets the server answer
 * "duplicate" for a dedup id it has seen, and otherwise refuse without writing.
 */
export const NEVER_SEQ = Number.MAX_SAFE_INTEGER;

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export function isSubjectToken(s: string): boolean {
  return TOKEN.test(s);
}

export function runSubject(prefix: string, workflowId: string, runId: string): string {
  return `${prefix}.${workflowId}.${runId}`;
}

/** Every subject a run id could live on, whatever its workflow. */
export function anyRunSubject(prefix: string, runId: string): string {
  return `${prefix}.*.${runId}`;
}

/** `{ workflowId, runId }` of a run subject, or null for anything else on the stream. */
export function parseRunSubject(prefix: string, subject: string): { workflowId: string; runId: string } | null {
  if (!subject.startsWith(prefix + '.')) return null;
  const rest = subject.slice(prefix.length + 1).split('.');
  if (rest.length !== 2 || !isSubjectToken(rest[0]!) || !isSubjectToken(rest[1]!)) return null;
  return { workflowId: rest[0]!, runId: rest[1]! };
}

/**
 * The Nats-Msg-Id of a commit. JetStream deduplicates across the whole stream, the port per run: the run id is part of
 * the id. A dedup id that cannot be a header value as it is (control characters, very long) is hashed.
 */
export function msgIdOf(runId: string, dedupId: string): string {
  if (/^[\x21-\x7e]{1,200}$/.test(dedupId)) return `${runId}/${dedupId}`;
  return `${runId}/sha256:${createHash('sha256').update(dedupId, 'utf8').digest('base64url')}`;
}

/** Headers that let tools (`nats stream view`, `nats stream get`) see what a message holds without parsing it: as the store's publisher takes them. */
export function commitHeaderFields(runId: string, firstSeq: number, lastSeq: number): HeaderFields {
  return [
    ['Lf-Run-Id', runId],
    ['Lf-First-Seq', String(firstSeq)],
    ['Lf-Last-Seq', String(lastSeq)],
  ];
}

/** commitHeaderFields as a MsgHdrs, for nats.js's own `js.publish` (the bench's baselines publish as the store does). */
export function commitHeaders(runId: string, firstSeq: number, lastSeq: number): MsgHdrs {
  // append, not set: on a new object they do the same, and set first looks for a value to delete.
  const h = headers();
  h.append('Lf-Run-Id', runId);
  h.append('Lf-First-Seq', String(firstSeq));
  h.append('Lf-Last-Seq', String(lastSeq));
  return h;
}

/**
 * An archive's purge marker (compare-purge.ts): the message whose `Nats-Rollup: sub` replaced a run's messages as it
 * moved to the archive, on the run's subject for a moment (or until recovery, after a kill). Never a commit: its body
 * is not JSON (a commit's starts with `{`), and its header lets headers-only readers pass it too.
 */
export const ARCHIVE_MARKER_HEADER = 'Lf-Archive-Marker';
const MARKER_PREFIX = Buffer.from('lf-archive-marker ', 'utf8');

/** The marker's body: the prefix, then the move it belongs to. */
export function archiveMarkerBody(move: string): Uint8Array {
  return Buffer.concat([MARKER_PREFIX, Buffer.from(move, 'utf8')]);
}

/** Whether a message's body is an archive marker (its first byte tells a commit apart at once). */
export function isArchiveMarker(data: Uint8Array): boolean {
  if (data.length < MARKER_PREFIX.length || data[0] !== MARKER_PREFIX[0]) return false;
  for (let i = 1; i < MARKER_PREFIX.length; i++) if (data[i] !== MARKER_PREFIX[i]) return false;
  return true;
}

/**
 * isArchiveMarker for a consumer's message, which may be headers only (an empty body). A body, when there is one,
 * decides at once: the headers are read only for an empty one, because nats.js parses a message's headers on their
 * first read (a projection that asked every commit for them spent 2.4% of an engine's CPU there).
 */
export function isArchiveMarkerMsg(m: { data: Uint8Array; headers?: MsgHdrs | undefined }): boolean {
  return m.data.length > 0 ? isArchiveMarker(m.data) : m.headers?.has(ARCHIVE_MARKER_HEADER) === true;
}

const decoder = new TextDecoder();

/**
 * Parses and checks a stored commit: valid JSON, a valid commit (zod), all of `runId`, consecutive seqs. `prevSeq` is
 * the seq the previous commit of the run ended at (null when unknown). A bad message is a StoreError naming the stream
 * sequence, never skipped: skipping would silently rewrite history.
 */
export function decodeCommit(
  data: Uint8Array,
  runId: string,
  where: { stream: string; seq: number; subject: string },
  prevSeq: number | null,
): Commit {
  const fail = (why: string, cause?: unknown): never => {
    throw new CorruptRunError(
      `${where.stream} message ${where.seq} (${where.subject}): corrupt commit: ${why}`,
      runId,
      `${where.stream} message ${where.seq}`,
      why,
      { ...where },
      cause === undefined ? undefined : { cause },
    );
  };
  return parseStoredCommit(decoder.decode(data), runId, prevSeq, 'on the subject', fail);
}

/**
 * The next commit of a run read in stream order after one that ended at event seq `prevSeq` (null: the first read), or
 * null when it is a commit that lost a race: one starting at or before `prevSeq`, so written after another commit took
 * its seqs. nats-server checks an append's expected last subject sequence on a replicated stream only before
 * replicating it, so two appends with one expectation can both be stored (nats-server#4320, fixed within one leader's
 * term in 2.9.21; across a leader change still open, nats-server#8469). The first in stream order is the run's history;
 * the store tells the later one's writer it lost and deletes it (store.ts), and every reader skips it meanwhile. A gap
 * (a commit after prevSeq + 1) is corrupt, as ever.
 */
export function decodeNextCommit(
  data: Uint8Array,
  runId: string,
  where: { stream: string; seq: number; subject: string },
  prevSeq: number | null,
): Commit | null {
  const commit = decodeCommit(data, runId, where, null);
  if (prevSeq === null) return commit;
  const first = commit.events[0]!.seq;
  if (first <= prevSeq) return null;
  if (first !== prevSeq + 1) return decodeCommit(data, runId, where, prevSeq); // throws: names the gap
  return commit;
}

/** The JetStream API error code (`err_code`, e.g. 10071 wrong last sequence) of a JetStreamApiError; undefined for anything else. */
export function apiErrorCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

/** How deep to follow `cause` (the client wraps an error in one or two others). */
const MAX_CAUSES = 4;

/** Whether `err` or one of its causes is an instance of the client's error class `cls`. */
function hasCause(err: unknown, cls: abstract new (...args: never[]) => Error): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < MAX_CAUSES && e instanceof Error; depth++) {
    if (e instanceof cls) return true;
    e = (e as Error).cause;
  }
  return false;
}

/**
 * Whether a failed connect is the server's answer, not its absence: it refused the credentials, or the URL is not one.
 * What a process waiting for its server (cluster/admin/await-server.ts) throws at once instead of trying again.
 */
export function isConnectRefusal(err: unknown): boolean {
  return hasCause(err, AuthorizationError) || hasCause(err, InvalidArgumentError);
}

/**
 * No responders to a request: a 503 status (no stream takes the subject, JetStream not ready after a
 * restart). The client says it as a NoRespondersError, inside a RequestError (core requests), itself
 * inside a JetStreamNotEnabled (JetStream API calls and publishes).
 */
export function isNoResponders(err: unknown): boolean {
  return hasCause(err, NoRespondersError);
}

/**
 * Failures after which the request may or may not have been carried out: no reply in time, or the
 * connection lost while waiting (a RequestError of the client's own, neither a refusal nor no responders).
 * A connection closed by us is not: nothing will answer, and nothing should retry.
 */
export function isAmbiguous(err: unknown): boolean {
  if (err instanceof TimeoutError) return true;
  return (
    err instanceof RequestError &&
    !err.isNoResponders() &&
    permissionDenied(err) === null &&
    err.message !== 'connection closed'
  );
}

/** Failures worth retrying after a pause (the server restarting, a reconnect in progress). */
export function isTransient(err: unknown): boolean {
  if (isAmbiguous(err) || isNoResponders(err)) return true;
  return apiErrorCode(err) === ERR_JS_UNAVAILABLE;
}

/** What went wrong, in words, for a StoreError message (the raw error stays in `cause`). */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err instanceof JetStreamApiError) {
    const api = err.apiError();
    return `${api.description} (JetStream error ${api.err_code ?? api.code})`;
  }
  if (err instanceof TimeoutError) return 'no reply from nats-server in time';
  if (permissionDenied(err) !== null) return `permissions violation: ${err.message}`;
  if (isNoResponders(err)) return 'no responders (is JetStream enabled, and is the stream on this server?)';
  if (hasCause(err, AuthorizationError)) return 'authorization violation (check user and password)';
  if (err.name === 'ConnectionError' && /connection refused/i.test(err.message)) return 'connection refused';
  if (err.name === 'InvalidArgumentError' && /max_payload/.test(err.message))
    return "the commit is larger than the server's max_payload";
  return err.message;
}

/**
 * Why a connection to `servers` could not be made, as a StoreError (a message, never a stack trace):
 * a server that refuses connections without credentials, when none were given, is told what to give
 * (the shipped nats.conf refuses them); anything else is described (a wrong password:
 * "authorization violation (check user and password)"). Shared by every process's own connection.
 */
export function connectRefusal(
  err: unknown,
  servers: string,
  hasCredentials: boolean,
  meta: Record<string, JsonSafe | undefined> = {},
): LedgerflowError {
  if (!hasCredentials && hasCause(err, AuthorizationError)) {
    return new StoreError(
      `cannot use NATS JetStream at ${servers}: the server refuses connections without credentials; put a user in the URL, nats://<user>:<password>@host:port (nats.conf refuses them; nats-dev.conf, which \`ledgerflow dev\` starts by default, makes them the engine user)`,
      { servers, ...meta },
      { cause: err },
    );
  }
  return toStoreError(err, `cannot use NATS JetStream at ${servers}`, { servers, ...meta });
}

/** Ledgerflow errors pass through; anything else becomes a StoreError whose cause is the original. */
export function toStoreError(err: unknown, what: string, meta: Record<string, JsonSafe | undefined>): LedgerflowError {
  if (err instanceof LedgerflowError) return err;
  return storeFailure(`${what}: ${describe(err)}`, meta, err);
}

/**
 * A StoreError for a NATS failure `err`; a permissions violation is a
 * permission error naming the subject refused (`meta.forbidden`: exit 2, HTTP 403).
 */
export function storeFailure(message: string, meta: Record<string, JsonSafe | undefined>, err: unknown): StoreError {
  const forbidden = permissionDenied(err);
  return forbidden === null
    ? new StoreError(message, meta, { cause: err })
    : new StoreError(message, { ...meta, forbidden }, { cause: err, kind: 'permission' });
}

/** A run's messages as an archive's object holds them (jetstream/archive.ts): one body a line. */
export function archivedBodies(bytes: Uint8Array): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = bytes.indexOf(0x0a, at);
    bodies.push(bytes.subarray(at, end));
    at = end + 1;
  }
  return bodies;
}
