/**
 * Concurrency limits and priority on NATS (docs/language.md#concurrency-limits-and-priority):
 * the slot decisions are taken under the KV lock every engine and client shares, a settle on
 * any engine admits, and the loss of an engine loses no slot. Real nats-server, two engines.
 */
import { describe, expect, it } from 'vitest';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const limited = def(`
workflow:
  id: cluster-limited
  version: 1
  concurrency: { limit: 1 }
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`);

const refusing = def(`
workflow:
  id: cluster-refusing
  version: 1
  input:
    required: [customer]
  concurrency: { limit: 1, key: "\${workflow.input.customer}", on_limit: refuse }
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`);

describe.skipIf(noNats)('concurrency limits over NATS, two engines', () => {
  const c = useCluster({ engines: 2, deploy: [limited, refusing] });

  it('starts beyond the limit are QUEUED; with one engine lost, approving the holder admits the higher priority one, and cancelling that admits the next', async () => {
    const holder = await c.client.start('cluster-limited', {});
    await waitFor('the first run to wait for a person', async () => (await c.client.status(holder.runId))?.status === 'WAITING');
    const normal = await c.client.start('cluster-limited', {});
    const urgent = await c.client.start('cluster-limited', {}, { priority: 90 });
    expect([normal.status, urgent.status]).toEqual(['QUEUED', 'QUEUED']);
    // A resume (a person's) does not let a queued run go.
    expect(await c.clientAs('alice').resume(urgent.runId, { waitMs: 20_000 })).toMatchObject({ changed: false });
    // A QUEUED run has not begun: an approval is refused (the refusal kept in its history), and it stays QUEUED.
    await expect(c.clientAs('alice').decide(normal.runId, 'sign', 'alice', 'approved', undefined, { waitMs: 20_000 }))
      .rejects.toThrow(/QUEUED for a concurrency slot and has not begun/);
    expect((await c.client.status(normal.runId))?.status).toBe('QUEUED');

    // The loss of one engine: the other carries on (the slot table is the logs, the lock a KV entry).
    await c.stopEngine(c.engines[0]!);
    const decided = await c.clientAs('alice').decide(holder.runId, 'sign', 'alice', 'approved', undefined, { waitMs: 20_000 });
    expect(decided).toBeTruthy();
    await waitFor('the urgent run to be admitted', async () => (await c.client.status(urgent.runId))?.status === 'WAITING', { timeout: 30_000 });
    expect((await c.client.status(normal.runId))?.status).toBe('QUEUED');
    const types = (await c.client.store.read(urgent.runId)).map((e) => e.type);
    expect(types).toEqual(['run.started', 'run.queued', 'run.admitted']);

    expect(await c.clientAs('alice').cancel(urgent.runId, { waitMs: 20_000 })).toMatchObject({ recorded: true, status: 'CANCELLED' });
    await waitFor('the normal run to be admitted', async () => (await c.client.status(normal.runId))?.status === 'WAITING', { timeout: 30_000 });
    expect((await c.client.store.read(normal.runId)).map((e) => e.type)).toEqual(['run.started', 'run.queued', 'approval.refused', 'run.admitted']);
  }, 120_000);

  it('on_limit: refuse: a start beyond the limit for its key throws LF_CONCURRENCY_LIMIT and writes nothing; another key starts', async () => {
    await c.client.start('cluster-refusing', { customer: 'acme' });
    const before = (await c.client.store.listRuns({ workflowId: 'cluster-refusing' })).length;
    await expect(c.client.start('cluster-refusing', { customer: 'acme' })).rejects.toMatchObject({ code: 'LF_CONCURRENCY_LIMIT' });
    expect((await c.client.store.listRuns({ workflowId: 'cluster-refusing' })).length).toBe(before);
    expect((await c.client.start('cluster-refusing', { customer: 'globex' })).status).not.toBe('QUEUED');
  }, 60_000);
});
