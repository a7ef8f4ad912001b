/** Pause and resume over NATS: inputs any engine takes, recorded with the sender; nothing starts while paused. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterClient, ClusterEngine, createWorker, type Worker } from '../../src/cluster/index.js';
import { PauseRefusedError } from '../../src/errors/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

const skipReason = inject('natsSkipReason');

const pausable = def(`
workflow:
  id: cluster-pausable
  name: Pausable over NATS
  version: 1
  tasks:
    - { id: first, type: SIMPLE }
    - { id: left, type: SIMPLE, depends_on: [first] }
    - { id: right, type: SIMPLE, depends_on: [first] }
`);

describe.skipIf(!!skipReason)('pause and resume over NATS', () => {
  let server: NatsServer;
  let client: ClusterClient;
  const engines: ClusterEngine[] = [];
  let worker: Worker;
  const calls: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });

  beforeAll(async () => {
    server = await startNatsServer();
    const as = (user: string) => server.url.replace('nats://', `nats://${user}:${user}-dev-password@`);
    client = new ClusterClient(as('engine'));
    for (let i = 0; i < 2; i++) {
      const e = new ClusterEngine({ nats: server.url });
      await e.start();
      engines.push(e);
    }
    worker = createWorker({
      nats: as('worker'),
      handlers: {
        first: async () => { calls.push('first'); await gate; return { ok: true }; },
        left: async () => { calls.push('left'); return {}; },
        right: async () => { calls.push('right'); return {}; },
      },
    });
    await worker.start();
  }, 30_000);

  afterAll(async () => {
    release?.();
    await worker?.stop();
    for (const e of engines) await e.stop();
    await client?.close();
    await server?.dispose();
  });

  it('pauses an engine-owned run through the client: the running attempt is recorded, nothing new starts; resume completes it', async () => {
    await client.deploy(pausable);
    const { runId } = await client.start('cluster-pausable', {});
    await waitFor('the first attempt to run on the worker', () => calls.includes('first'));

    const paused = await client.pause(runId, { reason: 'maintenance' });
    expect(paused.recorded).toBe(true);
    expect(paused.view.status).toBe('PAUSED');
    // Paused already: refused before anything is published.
    await expect(client.pause(runId)).rejects.toThrow(PauseRefusedError);
    await expect(client.pause(runId)).rejects.toThrow(/already paused/);

    release();
    // The completion and any start it leads to are one commit: once it is in the log, nothing else was started.
    const events = await waitFor('first to be recorded as completed', async () => {
      const evs = await client.store.read(runId);
      return evs.some((e) => e.type === 'task.completed' && e.data.task === 'first') ? evs : null;
    });
    expect(events.filter((e) => e.type === 'task.started').map((e) => e.data.task)).toEqual(['first']);
    expect(events.at(-1)!.state.status).toBe('PAUSED');
    const view = await client.status(runId);
    expect(view!.tasks.left!.status).toBe('SCHEDULED');

    const resumed = await client.resume(runId);
    expect(resumed).toMatchObject({ changed: true, recorded: true });
    const done = await client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    expect(calls.sort()).toEqual(['first', 'left', 'right']);
    expect((await client.resume(runId)).changed).toBe(false);
    await expect(client.pause(runId)).rejects.toThrow(/already COMPLETED/);

    const log = await client.store.read(runId);
    expect(log.find((e) => e.type === 'run.paused')!.data).toEqual({ by: 'engine', reason: 'maintenance' });
    expect(log.find((e) => e.type === 'run.resumed')!.data).toEqual({ by: 'engine' });
    const types = log.map((e) => (e.type === 'task.started' ? `started ${e.data.task}` : e.type));
    const at = types.indexOf('run.resumed');
    expect(types.slice(at, at + 3)).toEqual(['run.resumed', 'started left', 'started right']);
    expect(replayRun(log).divergence).toBeNull();
  }, 60_000);
});
