/**
 * What an error means to its caller is its kind (src/errors/codes.ts): the CLI's exit code and
 * the API's status are read from it, and a NATS permissions violation is known by the client's
 * fields, never by the words of a message.
 */
import { describe, expect, it } from 'vitest';
import { NoRespondersError, PermissionViolationError, RequestError, TimeoutError } from '@nats-io/nats-core';
import {
  judgedApprovalRefusal,
  type LedgerflowError,
  RunNotFoundError,
  StoreError,
  StoreUnusableError,
  errorMessage,
  permissionDenied,
} from '../../src/errors/index.js';
import { storeFailure, toStoreError } from '../../src/store/jetstream/codec.js';
import { toHttpError } from '../../src/server/errors.js';
import { exitCodeForError, exitCodeForThrown } from '../../src/cli/render/exit.js';

/** The client's error for `-ERR 'Permissions Violation for Publish to "subject"'`, as it makes it. */
function violation(subject: string): PermissionViolationError {
  return new PermissionViolationError(`Permissions Violation for Publish to "${subject}"`, 'publish', subject);
}

describe('permissionDenied', () => {
  it("names the subject of the client's permissions violation, through the errors that wrap it", () => {
    expect(permissionDenied(violation('lf.control.alice.r1'))).toBe('lf.control.alice.r1');
    const wrapped = toStoreError(violation('$JS.API.STREAM.MSG.GET.LF_EVENTS'), 'read run r1', {});
    expect(wrapped).toMatchObject({
      code: 'LF_STORE',
      kind: 'permission',
      meta: { forbidden: '$JS.API.STREAM.MSG.GET.LF_EVENTS' },
    });
    expect(permissionDenied(new Error('outer', { cause: wrapped }))).toBe('$JS.API.STREAM.MSG.GET.LF_EVENTS');
  });

  it('is not fooled by a message that only says "permission" (a file system refusal, a handler\'s words)', () => {
    expect(permissionDenied(new Error("EACCES: permission denied, open '/srv/store/runs/r1.jsonl'"))).toBeNull();
    expect(
      permissionDenied(new StoreError('cannot write: Permissions Violation for Publish to "x" (quoted by a user)')),
    ).toBeNull();
    expect(storeFailure('read run r1: no reply', {}, new Error('timeout')).kind).toBe('unavailable');
  });
});

describe('the kind decides the exit code and the HTTP status', () => {
  const cases: [string, LedgerflowError, number, number, string][] = [
    ['a run that does not exist', new RunNotFoundError('r1'), 2, 404, 'LF_RUN_NOT_FOUND'],
    [
      'a decision on a settled run',
      judgedApprovalRefusal({
        runId: 'r1',
        taskId: 'ok',
        by: 'alice',
        decision: 'approved',
        reason: 'the run has settled',
        kept: false,
        notApprover: false,
      }),
      2,
      409,
      'LF_APPROVAL_REFUSED',
    ],
    [
      'a decision by someone who is not an approver',
      judgedApprovalRefusal({
        runId: 'r1',
        taskId: 'ok',
        by: 'mallory',
        decision: 'approved',
        reason: 'not an approver',
        kept: true,
        notApprover: true,
      }),
      2,
      403,
      'LF_APPROVAL_REFUSED',
    ],
    ['a store that cannot be used', new StoreUnusableError('--store is a file'), 2, 503, 'LF_STORE_UNUSABLE'],
    ['NATS not answering', new StoreError('no reply from nats-server'), 1, 503, 'LF_STORE'],
    [
      'NATS refusing the user a subject',
      toStoreError(violation('lf.inputs.bob.r1'), 'start', {}),
      2,
      403,
      'LF_FORBIDDEN',
    ],
  ];
  for (const [what, err, exit, status, code] of cases) {
    it(`${what}: exit ${exit}, HTTP ${status} ${code}`, () => {
      expect(exitCodeForError(err)).toBe(exit);
      const http = toHttpError(err);
      expect(http.status).toBe(status);
      expect(http.body.error.code).toBe(code);
    });
  }

  it('says the subject NATS refused, and nothing of an unexpected error but that it happened', () => {
    expect(toHttpError(toStoreError(violation('lf.inputs.bob.r1'), 'start', {})).body.error.subject).toBe(
      'lf.inputs.bob.r1',
    );
    expect(toHttpError(new TypeError("Cannot read properties of undefined (reading 'x')"))).toEqual({
      status: 500,
      body: { error: { code: 'LF_INTERNAL', message: 'internal error: see the server log' } },
    });
    expect(exitCodeForError(new TypeError('x'))).toBe(1);
  });
});

describe('errorMessage', () => {
  it('says what was thrown, whatever it was', () => {
    expect(errorMessage(new Error('disk full'))).toBe('disk full');
    expect(errorMessage('a string')).toBe('a string');
    expect(errorMessage({ message: 'an object with a message' })).toBe('an object with a message');
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage(42)).toBe('42');
  });
});

describe('a NATS client error that reaches an edge', () => {
  /** What a JetStream request that got no answer throws: the client's RequestError around its TimeoutError. */
  const timedOut = () => new RequestError('timeout', { cause: new TimeoutError() });

  it('is a 503 LF_NATS_TIMEOUT with Retry-After from the API, never LF_INTERNAL, when the server did not answer in time', () => {
    for (const err of [timedOut(), new TimeoutError()]) {
      const r = toHttpError(err);
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('LF_NATS_TIMEOUT');
      expect(r.body.error.message).toMatch(/did not answer in time.*try again/i);
      expect(r.retryAfter).toBeGreaterThan(0);
    }
  });

  it("is a 403 naming the subject when NATS refused it, a 503 LF_NATS_ERROR otherwise; an error of nobody's is still LF_INTERNAL", () => {
    expect(toHttpError(violation('lf.control.alice.r1'))).toMatchObject({
      status: 403,
      body: { error: { code: 'LF_FORBIDDEN', subject: 'lf.control.alice.r1' } },
    });
    const other = toHttpError(new RequestError('no responders', { cause: new NoRespondersError('$JS.API.INFO') }));
    expect(other).toMatchObject({ status: 503, body: { error: { code: 'LF_NATS_ERROR' } } });
    expect(other.retryAfter).toBeUndefined();
    expect(toHttpError(new TypeError('x is undefined'))).toMatchObject({
      status: 500,
      body: { error: { code: 'LF_INTERNAL' } },
    });
  });

  it('exits 1 from a command with the same words, no stack trace', () => {
    const said: string[] = [];
    const code = exitCodeForThrown(timedOut(), { out: (t) => said.push(t), err: (t) => said.push(t) }, true);
    expect(code).toBe(1);
    expect(JSON.parse(said[0]!)).toMatchObject({ error: { code: 'LF_NATS_TIMEOUT' } });
    expect(said.join('\n')).not.toMatch(/\n\s+at /);
  });
});
