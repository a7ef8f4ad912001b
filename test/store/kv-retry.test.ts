/**
 * The store's own KV requests (admission locks, shared documents) and a passing server failure: a `start`
 * beside an engine that was creating LF_ADMISSION failed with a bare "503" (CI, nats-concurrency). A request
 * the server surely did not carry out is asked again; a timed-out write is not (it may have been stored, and
 * a compare-and-set applied twice counts twice); what is not passing is a StoreError naming the bucket.
 */
import { NoRespondersError, PermissionViolationError, RequestError, TimeoutError } from '@nats-io/nats-core';
import { JetStreamApiError } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { kvRetrying } from '../../src/store/jetstream/kv-retry.js';

/** The client's errors: no responders (a 503 status) as a request gives it, and a request's timeout. */
const clientError = (code: '503' | 'TIMEOUT'): Error =>
  code === '503'
    ? new RequestError("no responders: '$KV.LF_ADMISSION.x'", { cause: new NoRespondersError('$KV.LF_ADMISSION.x') })
    : new TimeoutError();

const failing = (codes: ('503' | 'TIMEOUT')[], value: number) => {
  let calls = 0;
  return {
    op: async () => {
      const code = codes[calls++];
      if (code) throw clientError(code);
      return value;
    },
    calls: () => calls,
  };
};

describe('kvRetrying', () => {
  it('asks again after no responders (503) and returns what the request then gives', async () => {
    const f = failing(['503', '503'], 7);
    await expect(kvRetrying('KV LF_ADMISSION', f.op, { write: true })).resolves.toBe(7);
    expect(f.calls()).toBe(3);
  });

  it('asks a timed-out read again, but not a timed-out write', async () => {
    const read = failing(['TIMEOUT'], 1);
    await expect(kvRetrying('KV LF_TASK_GATES', read.op)).resolves.toBe(1);
    const write = failing(['TIMEOUT'], 1);
    const err = await kvRetrying('lock x in KV LF_ADMISSION', write.op, { write: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/^lock x in KV LF_ADMISSION: no reply from nats-server in time/);
    expect(write.calls()).toBe(1);
  });

  it('gives a lost compare-and-set back as it is, and anything else as a StoreError', async () => {
    const lost = new JetStreamApiError({ code: 400, err_code: 10071, description: 'wrong last sequence: 4' });
    const passes = (err: unknown) => /wrong last sequence/.test((err as Error).message);
    await expect(
      kvRetrying(
        'x',
        async () => {
          throw lost;
        },
        { passes },
      ),
    ).rejects.toBe(lost);
    const other = await kvRetrying('KV LF_ADMISSION', async () => {
      throw new PermissionViolationError(
        'Permissions Violation for Publish to "$KV.LF_ADMISSION.x"',
        'publish',
        '$KV.LF_ADMISSION.x',
      );
    }).catch((e: unknown) => e);
    expect(err(other)).toMatch(/^KV LF_ADMISSION: permissions violation/);
  });

  it('stops asking once its budget is spent', async () => {
    const f = failing(Array(1000).fill('503'), 0);
    const e = await kvRetrying('KV LF_ADMISSION', f.op, { budgetMs: 150 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreError);
    expect(f.calls()).toBeGreaterThan(1);
  });
});

const err = (e: unknown) => (e instanceof StoreError ? e.message : String(e));
