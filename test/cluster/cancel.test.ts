/**
 * Cancel over NATS: run control on lf.control.<user>.<runId> like pause. The
 * engine that takes it records run.cancelled with the user as `by` through its
 * normal step, so the step's effects go out: attempts aborted, the child runs
 * of SUB_WORKFLOW attempts cancelled. A settled run is refused with a verdict
 * (nothing recorded); workers may not publish it. Real nats-server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ATTEMPTS_BUCKET } from '../../src/cluster/attempts.js';
import { ledgerKeyOf } from '../helpers/attempts.js';
import { CancelRefusedError } from '../../src/errors/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { gate, waitFor } from '../helpers/wait.js';

const cancellable = def(`
workflow:
  id: cluster-cancellable
  name: Cancellable over NATS
  version: 1
  tasks:
    - { id: first, type: SIMPLE }
    - { id: second, type: SIMPLE, depends_on: [first] }
`);

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

const parent = def(`
workflow:
  id: cluster-cancel-parent
  name: Parent of a child that waits for a person
  version: 1
  tasks:
    - { id: call, type: SUB_WORKFLOW, workflow: cluster-cancel-person }
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
  const calls: string[] = [];
  const held = gate();
  const c = useCluster({
    engines: 2,
    handlers: {
      first: async () => { calls.push('first'); await held.opened; return {}; },
      second: async () => { calls.push('second'); return {}; },
      only: async () => ({}),
    },
    deploy: [cancellable, quick, unclaimed, parent, person],
  });
  // A held handler must not hold up the fixture's stop.
  afterAll(() => held.open());

  it('commander cancels a run an engine owns while its attempt runs: recorded by commander with the reason, its tasks cancelled; a second cancel is refused', async () => {
    const { runId } = await c.client.start('cluster-cancellable', {});
    await waitFor('the first attempt to run on the worker', () => calls.includes('first'));

    const cancelled = await c.clientAs('commander').cancel(runId, { reason: 'obsolete', waitMs: 20_000 });
    expect(cancelled).toMatchObject({ recorded: true, status: 'CANCELLED' });
    const log = await c.client.store.read(runId);
    const ev = log.find((e) => e.type === 'run.cancelled')!;
    expect(ev.data).toEqual({ by: 'commander', reason: 'obsolete' });
    expect(cancelled.seq).toBe(log.at(-1)!.seq);
    const view = await c.client.status(runId);
    expect(view!.status).toBe('CANCELLED');
    expect(view!.tasks.first!.status).toBe('CANCELLED');
    expect(view!.tasks.second!.status).toBe('CANCELLED');
    expect(replayRun(log).divergence).toBeNull();
    // Cancelled already: a second cancel is refused with a verdict, nothing recorded.
    await expect(c.clientAs('commander').cancel(runId, { waitMs: 20_000 })).rejects.toThrow(/cannot cancel run \S+: the run is already CANCELLED; nothing was recorded/);
    expect(await c.client.store.read(runId)).toHaveLength(log.length);
    held.open();
  }, 60_000);

  it('the engine publishes the step\'s effects: an attempt still queued (no worker here runs its handler) is settled as aborted in the attempt ledger, so no worker runs it later', async () => {
    const { runId } = await c.client.start('cluster-cancel-unclaimed', {});
    await waitFor('the attempt to be dispatched', async () => (await c.client.store.read(runId)).some((e) => e.type === 'task.started'));
    expect(await c.clientAs('commander').cancel(runId, { waitMs: 20_000 })).toMatchObject({ recorded: true, status: 'CANCELLED' });
    const nc = await c.client.store.connection();
    const ledger = await nc.jetstream().views.kv(ATTEMPTS_BUCKET, { bindOnly: true });
    const key = await ledgerKeyOf(nc, runId, 'nobody_runs_this', 1);
    await expect.poll(async () => (await ledger.get(key))?.json()).toMatchObject({ worker: 'engine', finished: 'aborted' });
  }, 60_000);

  it('a cancel of a completed run is refused with a verdict (CancelRefusedError with its status) and records nothing', async () => {
    const { runId } = await c.client.start('cluster-quick', {});
    expect((await c.client.wait(runId, { timeoutMs: 20_000 })).status).toBe('COMPLETED');
    const settled = (await c.client.store.read(runId)).length;
    const refused = await c.clientAs('commander').cancel(runId, { reason: 'too late', waitMs: 20_000 }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(CancelRefusedError);
    expect(refused).toMatchObject({ code: 'LF_CANCEL_REFUSED', meta: { runId, status: 'COMPLETED', by: 'commander' } });
    expect((refused as Error).message).toMatch(/cannot cancel run \S+: the run is already COMPLETED; nothing was recorded/);
    expect(await c.client.store.read(runId)).toHaveLength(settled);
  }, 60_000);

  it('a paused run can be cancelled: its queued attempt aborted, the run CANCELLED', async () => {
    const { runId } = await c.client.start('cluster-cancel-unclaimed', {});
    await waitFor('the attempt to be dispatched', async () => (await c.client.store.read(runId)).some((e) => e.type === 'task.started'));
    expect(await c.clientAs('commander').pause(runId, { waitMs: 20_000 })).toMatchObject({ recorded: true, status: 'PAUSED' });
    expect(await c.clientAs('commander').cancel(runId, { reason: 'paused for good', waitMs: 20_000 })).toMatchObject({ recorded: true, status: 'CANCELLED' });
    const log = await c.client.store.read(runId);
    expect(log.map((e) => e.type).filter((t) => t.startsWith('run.'))).toEqual(['run.started', 'run.paused', 'run.cancelled']);
    expect(replayRun(log).divergence).toBeNull();
  }, 60_000);

  it('a worker cannot cancel: the server refuses lf.control to it, nothing recorded', async () => {
    const { runId } = await c.client.start('cluster-cancel-person', {});
    await waitFor('the run to wait for a person', async () => (await c.client.status(runId))?.status === 'WAITING');
    const err = await c.clientAs('worker').cancel(runId, { waitMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelRefusedError);
    expect((err as Error).message).toMatch(/NATS user worker may not cancel runs.*[Pp]ermission/s);
    expect((await c.client.store.read(runId)).some((e) => e.type === 'run.cancelled')).toBe(false);
  }, 60_000);

  it('cancelling a parent whose SUB_WORKFLOW child waits for a person cancels the child too', async () => {
    const { runId } = await c.client.start('cluster-cancel-parent', {});
    const childId = `${runId}-call-1`;
    await waitFor('the child to wait for its approval', async () => (await c.client.status(childId))?.status === 'WAITING', { timeout: 20_000 });

    expect(await c.clientAs('commander').cancel(runId, { reason: 'not needed', waitMs: 20_000 })).toMatchObject({ recorded: true, status: 'CANCELLED' });
    await waitFor('the child is cancelled', async () => (await c.client.status(childId))?.status === 'CANCELLED', { timeout: 20_000 });
    const childLog = await c.client.store.read(childId);
    expect(childLog.find((e) => e.type === 'run.cancelled')!.data).toMatchObject({ by: `run ${runId}` });
    expect((await c.client.store.read(runId)).find((e) => e.type === 'run.cancelled')!.data).toEqual({ by: 'commander', reason: 'not needed' });
    expect(replayRun(childLog).divergence).toBeNull();
  }, 60_000);
});
