/**
 * Concurrency limits and priority on NATS (docs/limits.md#concurrency-limits-and-priority):
 * the slot decisions are taken under the KV lock every engine and client shares, a settle on
 * any engine admits, and the loss of an engine loses no slot. Real nats-server, two engines.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { Engine } from '../../src/local/index.js';
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
    await waitFor(
      'the first run to wait for a person',
      async () => (await c.runs.status(holder.runId))?.status === 'WAITING',
    );
    const normal = await c.client.start('cluster-limited', {});
    const urgent = await c.client.start('cluster-limited', {}, { priority: 90 });
    expect([normal.status, urgent.status]).toEqual(['QUEUED', 'QUEUED']);
    // A resume (a person's) does not let a queued run go.
    expect(await c.clientAs('alice').resume(urgent.runId, { waitMs: 20_000 })).toMatchObject({ changed: false });
    // A QUEUED run has not begun: an approval is refused (the refusal kept in its history), and it stays QUEUED.
    await expect(
      c.clientAs('alice').decide(normal.runId, 'sign', 'approved', 'alice', undefined, { waitMs: 20_000 }),
    ).rejects.toThrow(/QUEUED for a concurrency slot and has not begun/);
    expect((await c.runs.status(normal.runId))?.status).toBe('QUEUED');

    // The loss of one engine: the other carries on (the slot table is the logs, the lock a KV entry).
    await c.stopEngine(c.engines[0]!);
    const decided = await c
      .clientAs('alice')
      .decide(holder.runId, 'sign', 'approved', 'alice', undefined, { waitMs: 20_000 });
    expect(decided).toBeTruthy();
    await waitFor(
      'the urgent run to be admitted',
      async () => (await c.runs.status(urgent.runId))?.status === 'WAITING',
      { timeout: 30_000 },
    );
    expect((await c.runs.status(normal.runId))?.status).toBe('QUEUED');
    const types = (await c.client.store.read(urgent.runId)).map((e) => e.type);
    expect(types).toEqual(['run.started', 'run.queued', 'run.admitted']);

    expect(await c.clientAs('alice').cancel(urgent.runId, { waitMs: 20_000 })).toMatchObject({
      recorded: true,
      status: 'CANCELLED',
    });
    await waitFor(
      'the normal run to be admitted',
      async () => (await c.runs.status(normal.runId))?.status === 'WAITING',
      { timeout: 30_000 },
    );
    expect((await c.client.store.read(normal.runId)).map((e) => e.type)).toEqual([
      'run.started',
      'run.queued',
      'approval.refused',
      'run.admitted',
    ]);
  }, 120_000);

  it('on_limit: refuse: a start beyond the limit for its key throws LF_CONCURRENCY_LIMIT and writes nothing; another key starts', async () => {
    await c.client.start('cluster-refusing', { customer: 'acme' });
    const before = (await c.client.store.listRuns({ workflowId: 'cluster-refusing' })).length;
    await expect(c.client.start('cluster-refusing', { customer: 'acme' })).rejects.toMatchObject({
      code: 'LF_CONCURRENCY_LIMIT',
    });
    expect((await c.client.store.listRuns({ workflowId: 'cluster-refusing' })).length).toBe(before);
    expect((await c.client.start('cluster-refusing', { customer: 'globex' })).status).not.toBe('QUEUED');
  }, 60_000);
});

const crashy = def(`
workflow:
  id: cluster-limited-crash
  version: 1
  concurrency: { limit: 1 }
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`);

describe.skipIf(noNats)('concurrency limits over NATS: an engine SIGKILLed between a settle and its admission', () => {
  const ACK_WAIT_MS = 2000;
  const c = useCluster({
    engines: 0,
    deploy: [crashy],
    engine: { settings: { engineAckWaitMs: ACK_WAIT_MS } },
    client: { cluster: { engineAckWaitMs: ACK_WAIT_MS } },
  });

  it("the engine dies right after appending the holder's settle (before admitting, before acking); a second engine admits the queued run", async () => {
    // The only engine is a process that kills itself (SIGKILL) the moment a commit settles a run of the workflow.
    const script = join(ROOT, 'test', 'fixtures', 'admission', 'engine-dies-after-settle.mjs');
    const child = spawn(
      process.execPath,
      [
        script,
        pathToFileURL(join(ROOT, 'dist', 'cluster', 'index.js')).href,
        c.url,
        'cluster-limited-crash',
        String(ACK_WAIT_MS),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<NodeJS.Signals | number | null>((r) =>
      child.once('exit', (code, signal) => r(signal ?? code)),
    );
    try {
      await waitFor('the dying engine to take work', () => /^engine \d+ takes work/m.test(out), {
        timeout: 30_000,
        detail: () => out,
      });
      const holder = await c.client.start('cluster-limited-crash', {});
      await waitFor(
        'the holder to wait for a person',
        async () => (await c.runs.status(holder.runId))?.status === 'WAITING',
        { timeout: 30_000 },
      );
      const queued = await c.client.start('cluster-limited-crash', {}, { priority: 60 });
      expect(queued.status).toBe('QUEUED');

      await c.clientAs('alice').decide(holder.runId, 'sign', 'approved', 'alice');
      expect(await exited).toBe('SIGKILL');
      // The crash point: the settle is in the log, the queued run is not admitted.
      expect((await c.runs.status(holder.runId))?.status).toBe('COMPLETED');
      expect((await c.runs.status(queued.runId))?.status).toBe('QUEUED');

      // Another engine takes over: the approval the dead one never acked comes back to it, and the slot is found free.
      await c.addEngine();
      await waitFor(
        'the queued run to be admitted',
        async () => (await c.runs.status(queued.runId))?.status === 'WAITING',
        { timeout: 60_000 },
      );
      const view = await c.runs.status(queued.runId);
      expect(view?.queue).toMatchObject({ priority: 60, limit: 1, key: null, admittedAt: expect.any(String) });
      expect((await c.client.store.read(queued.runId)).map((e) => e.type)).toEqual([
        'run.started',
        'run.queued',
        'run.admitted',
      ]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});

const stalledAfterRefusal = def(`
workflow:
  id: cluster-limited-refused
  version: 1
  concurrency: { limit: 1 }
  tasks:
    - { id: work, type: SIMPLE }
    - { id: sign, type: HUMAN, approvers: [alice] }
`);

const stalled = def(`
workflow:
  id: cluster-limited-stalled
  version: 1
  concurrency: { limit: 1 }
  tasks:
    - { id: work, type: SIMPLE }
`);

describe.skipIf(noNats)('concurrency limits over NATS: a run admitted whose kick was lost', () => {
  const c = useCluster({ engines: 0, deploy: [stalled, stalledAfterRefusal] });
  // Every engine of the file logs here: one a test started still sweeps in the next, and may be the one that kicks.
  const logs: string[] = [];

  it("an engine's admission sweep kicks a run admitted by an engine that died before its kick", async () => {
    const first = await c.addEngine();
    const holder = await c.client.start('cluster-limited-stalled', {});
    await waitFor(
      'the holder to start its task (no worker yet)',
      async () => (await c.runs.status(holder.runId))?.tasks.work?.status === 'IN_PROGRESS',
      { timeout: 30_000 },
    );
    const queued = await c.client.start('cluster-limited-stalled', {});
    expect(queued.status).toBe('QUEUED');
    await c.stopEngine(first);
    // The crash point, written as the dying engine left it: the holder cancelled and the queued run admitted
    // (run.admitted, seq 3) by a process that never kicked it (an in-process Engine on the same log publishes no kick).
    const local = new Engine({ store: c.client.store });
    await local.cancel(holder.runId, { by: 'test', reason: 'the settle of an engine about to die' });
    expect(await local.commits.takeAdmitted()).toEqual([queued.runId]);
    expect((await c.client.store.read(queued.runId)).map((e) => e.type)).toEqual([
      'run.started',
      'run.queued',
      'run.admitted',
    ]);

    // Another engine's sweep kicks it: its task starts, and a worker runs it.
    await c.addEngine({ admissionSweepMs: 300, log: (l) => logs.push(l) });
    await c.addWorker({ handlers: { work: async () => ({ done: true }) } });
    await waitFor(
      'the admitted run to complete',
      async () => (await c.runs.status(queued.runId))?.status === 'COMPLETED',
      { timeout: 30_000, detail: () => logs.join('\n') },
    );
    expect(logs.some((l) => l.includes(`run ${queued.runId} kicked by the admission sweep`))).toBe(true);
  }, 90_000);

  it('the sweep also kicks a run admitted after an input it refused while QUEUED (run.admitted not its third event)', async () => {
    const local = new Engine({ store: c.client.store });
    const holder = { runId: await local.start(stalledAfterRefusal, {}) };
    const queued = { runId: await local.start(stalledAfterRefusal, {}) };
    expect((await local.status(queued.runId)).status).toBe('QUEUED');
    // An approval while QUEUED is refused and kept in its history (seq 3); then the holder settles and it is admitted (seq 4), unkicked.
    await expect(local.decide(queued.runId, 'sign', 'approved', 'alice')).rejects.toThrow(/QUEUED/);
    await local.cancel(holder.runId, { by: 'test', reason: 'the settle of an engine about to die' });
    expect(await local.commits.takeAdmitted()).toEqual([queued.runId]);
    expect((await c.client.store.read(queued.runId)).map((e) => e.type)).toEqual([
      'run.started',
      'run.queued',
      'approval.refused',
      'run.admitted',
    ]);

    await c.addEngine({ admissionSweepMs: 300, log: (l) => logs.push(l) });
    await c.addWorker({ handlers: { work: async () => ({ done: true }) } });
    await waitFor(
      'the admitted run to start its task',
      async () => (await c.runs.status(queued.runId))?.tasks.work?.status === 'COMPLETED',
      { timeout: 30_000, detail: () => logs.join('\n') },
    );
    expect(logs.some((l) => l.includes(`run ${queued.runId} kicked by the admission sweep`))).toBe(true);
  }, 90_000);
});
