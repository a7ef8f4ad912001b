/**
 * Retry from failed over NATS: ClusterClient.retry records the new run's start
 * (reusing what completed) and the engines drive it with the workers; `ledgerflow
 * retry --nats` prints the new run's id. Real nats-server, engine and worker.
 */
import { describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/cluster/index.js';
import { RetryRefusedError, RunNotFoundError } from '../../src/errors/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { cli } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const chain = def(`
workflow:
  id: cluster-retry
  name: Retry over NATS
  version: 1
  tasks:
    - { id: one, type: SIMPLE }
    - { id: two, type: SIMPLE, depends_on: [one] }
    - { id: three, type: SIMPLE, depends_on: [two] }
    - { id: four, type: SIMPLE, depends_on: [three] }
`);

/** A run that waits for a sign-off once `one` is done: active, so not retryable. */
const gated = def(`
workflow:
  id: cluster-retry-gated
  name: Retry refused while waiting
  version: 1
  tasks:
    - { id: one, type: SIMPLE }
    - { id: sign_off, type: HUMAN, depends_on: [one], approvers: [alice] }
`);

describe.skipIf(noNats)('retry from failed over NATS', () => {
  const calls: string[] = [];
  let broken = true;
  const step = (id: string) => async () => {
    calls.push(id);
    if (id === 'three' && broken) throw new Error('the disk was full');
    return { id };
  };
  const c = useCluster({ engines: 1, handlers: { one: step('one'), two: step('two'), three: step('three'), four: step('four') } });

  it('the engines drive the retry: tasks 1 and 2 are reused, 3 and 4 run; a COMPLETED run is refused; the CLI prints the new id', async () => {
    await c.client.deploy(chain);
    const { runId } = await c.client.start('cluster-retry', {});
    const failed = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(failed.status).toBe('FAILED');
    expect(calls).toEqual(['one', 'two', 'three']);

    broken = false;
    const { runId: retryId } = await c.client.retry(runId);
    const done = await c.client.wait(retryId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    expect(calls).toEqual(['one', 'two', 'three', 'three', 'four']);
    expect(done.retryOf).toEqual({ runId, reused: ['one', 'two'] });
    const log = await c.client.store.read(retryId);
    expect(log.filter((e) => e.type === 'task.completed' && e.data.reused?.runId === runId).map((e) => e.type === 'task.completed' && e.data.task)).toEqual(['one', 'two']);
    const report = replayRun(log);
    expect(report.divergence).toBeNull();
    const { retryOf: _retryOf, ...plain } = done;
    expect(report.view).toEqual(plain);

    await expect(c.client.retry(retryId)).rejects.toThrow(RetryRefusedError);

    // The CLI over NATS: prints the new run's id at once; the engines drive it (three fails again: nothing to change that).
    broken = true;
    const r = await cli(['--nats', c.url, 'retry', runId, '--json']);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as { runId: string; retryOf: string };
    expect(printed.retryOf).toBe(runId);
    const again = await c.client.wait(printed.runId, { timeoutMs: 20_000 });
    expect(again.status).toBe('FAILED');
    expect(calls.slice(5)).toEqual(['three']);
    const refused = await cli(['--nats', c.url, 'retry', retryId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/only a FAILED or CANCELLED run can be retried/);
  }, 60_000);

  it('refuses a run that has not settled (a second run of it would fork its work) and a run id the store does not know; neither records a start', async () => {
    await c.client.deploy(gated);
    const { runId } = await c.client.start('cluster-retry-gated', {});
    expect((await c.client.wait(runId, { timeoutMs: 20_000, orWaiting: true })).status).toBe('WAITING');
    const runsBefore = (await c.client.store.listRuns()).length;
    const err = await c.client.retry(runId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryRefusedError);
    expect((err as RetryRefusedError).message).toMatch(/it is WAITING and only a FAILED or CANCELLED run can be retried; it has not settled \(cancel it first/);
    expect((err as RetryRefusedError).meta).toEqual({ runId, status: 'WAITING' });
    await expect(c.client.retry('no-such-run')).rejects.toThrow(RunNotFoundError);
    expect((await c.client.store.listRuns()).length).toBe(runsBefore);
  }, 30_000);
});
