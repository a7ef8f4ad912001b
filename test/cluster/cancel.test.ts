/**
 * Cancel over NATS, what only NATS has: run control on
 * lf.control.<user>.<runId> like pause; the engine that takes it publishes
 * the step's effects (a queued attempt settled as aborted in the attempt
 * ledger); a settled run is refused with a verdict (CancelRefusedError, nothing
 * recorded); workers may not publish it. What a cancel does to a run (who and
 * why recorded, its tasks and child runs cancelled, a paused run cancelled) is
 * the executor contract's (test/executor/contract.ts), on both executors. Real
 * nats-server.
 */
import { describe, expect, it } from 'vitest';
import { ATTEMPTS_BUCKET } from '../../src/cluster/transport/attempts.js';
import { ledgerKeyOf } from '../helpers/attempts.js';
import { CancelRefusedError } from '../../src/errors/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';

const quick = def(`
workflow:
  id: cluster-quick
  name: Quick
  version: 1
  tasks:
    - { id: only, type: SIMPLE }
`);

const unclaimed = def(`
workflow:
  id: cluster-cancel-unclaimed
  name: An attempt no worker here runs
  version: 1
  tasks:
    - { id: nobody_runs_this, type: SIMPLE }
`);

const person = def(`
workflow:
  id: cluster-cancel-person
  name: Waits for a person
  version: 1
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`);

describe.skipIf(noNats)('cancel over NATS', () => {
  const c = useCluster({ engines: 2, handlers: { only: async () => ({}) }, deploy: [quick, unclaimed, person] });

  it("the engine publishes the step's effects: an attempt still queued (no worker here runs its handler) is settled as aborted in the attempt ledger, so no worker runs it later", async () => {
    const { runId } = await c.client.start('cluster-cancel-unclaimed', {});
    await waitFor('the attempt to be dispatched', async () =>
      (await c.client.store.read(runId)).some((e) => e.type === 'task.started'),
    );
    expect(await c.clientAs('commander').cancel(runId, { waitMs: 20_000 })).toMatchObject({
      recorded: true,
      status: 'CANCELLED',
    });
    const nc = await c.client.store.connection();
    const ledger = await new Kvm(jetstream(nc)).create(ATTEMPTS_BUCKET, { bindOnly: true });
    const key = await ledgerKeyOf(nc, runId, 'nobody_runs_this', 1);
    await expect
      .poll(async () => (await ledger.get(key))?.json())
      .toMatchObject({ worker: 'engine', finished: 'aborted' });
  }, 60_000);

  it('a cancel of a completed run is refused with a verdict (CancelRefusedError with its status) and records nothing', async () => {
    const { runId } = await c.client.start('cluster-quick', {});
    expect((await c.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe('COMPLETED');
    const settled = (await c.client.store.read(runId)).length;
    const refused = await c
      .clientAs('commander')
      .cancel(runId, { reason: 'too late', waitMs: 20_000 })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(CancelRefusedError);
    expect(refused).toMatchObject({ code: 'LF_CANCEL_REFUSED', meta: { runId, status: 'COMPLETED', by: 'commander' } });
    expect((refused as Error).message).toMatch(
      /cannot cancel run \S+: the run is already COMPLETED; nothing was recorded/,
    );
    expect(await c.client.store.read(runId)).toHaveLength(settled);
  }, 60_000);

  it('a worker cannot cancel: the server refuses lf.control to it, nothing recorded', async () => {
    const { runId } = await c.client.start('cluster-cancel-person', {});
    await waitFor('the run to wait for a person', async () => (await c.runs.status(runId))?.status === 'WAITING');
    const err = await c
      .clientAs('worker')
      .cancel(runId, { waitMs: 2000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelRefusedError);
    expect((err as Error).message).toMatch(/NATS user worker may not cancel runs.*[Pp]ermission/s);
    expect((await c.client.store.read(runId)).some((e) => e.type === 'run.cancelled')).toBe(false);
  }, 60_000);
});
