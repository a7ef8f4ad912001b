import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWorker, ensureCluster, STREAMS, subjects, type TaskMessage } from '../../src/cluster/index.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { sleep, waitFor } from '../store/helpers.js';

const skipReason = inject('natsSkipReason');

const attempt = (runId: string): TaskMessage => ({
  runId, workflowId: 'wf', version: 1, taskId: 'slow', attempt: 1, handler: 'slow', input: { n: 21 },
  task: { name: 'slow', type: 'SIMPLE', output: { names: [], values: {} } },
});

/**
 * A nats-server killed mid-run may lose its consumers' ack state (written behind the messages),
 * and then hands a worker an attempt again as a first delivery. Publishing the same task message
 * twice more makes exactly those deliveries.
 */
describe.skipIf(!!skipReason)('a worker handed an attempt it already holds or has finished', () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    await ensureCluster(await nc.jetstreamManager());
  }, 30_000);

  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it('runs it once: a delivery while it runs is held and answered with it, one after it finished gets the same outcome again', async () => {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const worker = createWorker({
      nats: nc,
      handlers: { slow: async (input, ctx) => { runs.push(ctx.idempotencyKey); await gate; return { n: Number(input.n) * 2 }; } },
    });
    await worker.start();
    const pendingTasks = async () => (await jsm.streams.info(STREAMS.tasks.name)).state.messages;
    try {
      const task = attempt('run-twice');
      await js.publish(subjects.task('default', 'slow'), JSON.stringify(task));
      await waitFor(() => runs.length === 1, 5000, 'the first delivery to start');
      await js.publish(subjects.task('default', 'slow'), JSON.stringify(task));
      await sleep(300); // taken by the worker while the first delivery still runs
      expect(runs).toEqual(['run-twice/slow/1']);
      release();
      // Both deliveries are acknowledged once the attempt ends (a work queue drops acknowledged messages).
      for (let i = 0; i < 50 && (await pendingTasks()) > 0; i++) await sleep(100);
      expect(await pendingTasks()).toBe(0);

      await js.publish(subjects.task('default', 'slow'), JSON.stringify(task));
      for (let i = 0; i < 50 && (await pendingTasks()) > 0; i++) await sleep(100);
      expect(await pendingTasks()).toBe(0);
      expect(runs).toEqual(['run-twice/slow/1']);

      // One outcome reached the engines' input queue: the repeat carried the same message id.
      const inputs = await jsm.streams.info(STREAMS.inputs.name, { subjects_filter: subjects.input('run-twice') } as never);
      expect(inputs.state.messages).toBe(1);
      const result = await jsm.streams.getMessage(STREAMS.inputs.name, { last_by_subj: subjects.input('run-twice') });
      expect(result.json()).toMatchObject({ type: 'task.completed', runId: 'run-twice', data: { task: 'slow', attempt: 1, output: { n: 42 } } });
      expect(worker.stats).toMatchObject({ completed: 1, lost: 0 });
    } finally {
      release();
      await worker.stop();
    }
  }, 30_000);
});
