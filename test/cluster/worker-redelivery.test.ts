import { headers, type NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { AttemptTokens } from '../../src/cluster/transport/attempt-tokens.js';
import { ATTEMPT_SIG_HEADER, publishAttemptKey } from '../../src/cluster/transport/attempt-keys.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ATTEMPTS_BUCKET,
  createWorker,
  ensureCluster,
  STREAMS,
  subjects,
  taskStream,
  type TaskMessage,
} from '../../src/cluster/index.js';
import { AttemptLedger } from '../../src/cluster/transport/attempts.js';
import { ensureWorkerConsumer } from '../../src/cluster/transport/setup.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { gate, waitFor } from '../helpers/wait.js';
import { Kvm } from '@nats-io/kv';

const attempt = (runId: string, handler = 'slow'): TaskMessage => ({
  runId,
  workflowId: 'wf',
  version: 1,
  taskId: handler,
  attempt: 1,
  handler,
  input: { n: 21 },
  token: 'no-engine-checks-it-here',
  task: { name: handler, type: 'SIMPLE', output: { names: [], values: {} } },
});

/**
 * A nats-server killed mid-run may lose its consumers' ack state (written behind the messages),
 * and then hands a worker an attempt again as a first delivery. Publishing the same task message
 * twice more makes exactly those deliveries.
 */
describe.skipIf(noNats)('a worker handed an attempt again', () => {
  const c = useCluster();
  let nc: NatsConnection;
  let tokens: AttemptTokens;
  /** Queues an attempt as an engine does: signed (workers run no other). */
  const publishTask = (js: JetStreamClient, handler: string, task: TaskMessage) => {
    const data = new TextEncoder().encode(JSON.stringify(task));
    const h = headers();
    h.set(ATTEMPT_SIG_HEADER, tokens.sign(data));
    return js.publish(subjects.task('default', handler), data, { headers: h });
  };

  beforeAll(async () => {
    nc = await c.connect();
    const jsm = await jetstreamManager(nc);
    await ensureCluster(jsm);
    // No engine here: this test hands out (and signs) the attempts, so it makes their consumers and key, as an engine does (workers may not).
    tokens = await AttemptTokens.open(jetstream(nc));
    await publishAttemptKey(jetstream(nc), tokens);
    for (const handler of ['slow', 'other']) await ensureWorkerConsumer(jsm, 'default', handler);
  });

  it('runs it once: a delivery while it runs is held and answered with it, one after it finished gets the same outcome again', async () => {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const runs: string[] = [];
    const held = gate();
    const worker = createWorker({
      nats: c.as('worker'),
      handlers: {
        slow: async (input, ctx) => {
          runs.push(ctx.idempotencyKey);
          await held.opened;
          return { n: Number(input.n) * 2 };
        },
      },
    });
    await worker.start();
    const pendingTasks = async () => (await jsm.streams.info(taskStream('default').name)).state.messages;
    try {
      const task = attempt('run-twice');
      await publishTask(js, 'slow', task);
      await waitFor('the first delivery to start', () => runs.length === 1);
      await publishTask(js, 'slow', task);
      // The worker takes the second delivery while the first still runs, and holds both.
      await expect
        .poll(async () => (await jsm.consumers.info(taskStream('default').name, 'w_default_slow')).num_ack_pending)
        .toBe(2);
      expect(runs).toEqual(['run-twice/slow/1']);
      held.open();
      // Both deliveries are acknowledged once the attempt ends (a work queue drops acknowledged messages).
      await expect.poll(pendingTasks).toBe(0);

      await publishTask(js, 'slow', task);
      await expect.poll(pendingTasks).toBe(0);
      expect(runs).toEqual(['run-twice/slow/1']);

      // One outcome reached the engines' input queue: the repeat carried the same message id.
      const inputs = await jsm.streams.info(STREAMS.inputs.name, {
        subjects_filter: subjects.report('worker', 'default', 'run-twice'),
      } as never);
      expect(inputs.state.messages).toBe(1);
      const result = (await jsm.streams.getMessage(STREAMS.inputs.name, {
        last_by_subj: subjects.report('worker', 'default', 'run-twice'),
      }))!;
      expect(result.json()).toMatchObject({
        type: 'task.completed',
        runId: 'run-twice',
        data: { task: 'slow', attempt: 1, output: { n: 42 } },
      });
      expect(worker.stats).toMatchObject({ completed: 1, lost: 0 });
    } finally {
      held.open();
      await worker.stop();
    }
  }, 30_000);
  /** What the engines' input queue holds for a run: the outcomes workers reported. */
  async function reportedFor(runId: string): Promise<Record<string, unknown>[]> {
    const jsm = await jetstreamManager(nc);
    const out: Record<string, unknown>[] = [];
    for (let seq = 1; ; ) {
      const m = (await jsm.streams
        .getMessage(STREAMS.inputs.name, { next_by_subj: subjects.report('worker', 'default', runId), seq } as never)
        .catch(() => null))!;
      if (!m) return out;
      out.push(m.json());
      seq = m.seq + 1;
    }
  }

  it('by the ledger: one its own unfinished claim names runs; one claimed by another (taken, finished or aborted) is not run and not dropped either, but reported to the engine with what the ledger said', async () => {
    const js = jetstream(nc);
    const ledger = await new Kvm(js).create(ATTEMPTS_BUCKET, { bindOnly: true });
    const keyOf = (runId: string) => AttemptLedger.key('default', runId, 'other', 1, 0, attempt(runId, 'other').token);
    // Entries as another worker leaves them (a server that lost its ack state hands their attempts out as new).
    await ledger.create(
      keyOf('run-done'),
      JSON.stringify({ worker: 'elsewhere/1/aa', startedAt: new Date().toISOString(), finished: 'task.completed' }),
    );
    await ledger.create(
      keyOf('run-taken'),
      JSON.stringify({ worker: 'elsewhere/2/bb', startedAt: new Date().toISOString() }),
    );
    await ledger.create(
      keyOf('run-aborted'),
      JSON.stringify({ worker: 'engine', startedAt: new Date().toISOString(), finished: 'aborted' }),
    );
    const runs: string[] = [];
    const worker = createWorker({
      nats: c.as('worker'),
      handlers: {
        other: async (_i, ctx) => {
          runs.push(ctx.idempotencyKey);
          return {};
        },
      },
    });
    // This worker's own claim whose answer it never got (the connection dropped): still its attempt to run.
    await ledger.create(
      keyOf('run-mine'),
      JSON.stringify({ worker: worker.name, startedAt: new Date().toISOString() }),
    );
    await worker.start();
    try {
      for (const runId of ['run-done', 'run-taken', 'run-aborted', 'run-mine'])
        await publishTask(js, 'other', attempt(runId, 'other'));
      await waitFor(
        'three attempts reported to the engine, ours completed',
        () => worker.stats.lost === 3 && worker.stats.completed === 1,
      );
      // All four answered (a work queue drops what is acknowledged).
      const jsm = await jetstreamManager(nc);
      await expect.poll(async () => (await jsm.streams.info(taskStream('default').name)).state.messages).toBe(0);
      expect(runs).toEqual(['run-mine/other/1']);
      // Lost, not failed: the engine's log decides whether it runs again, without using up a retry.
      expect(await reportedFor('run-done')).toEqual([
        expect.objectContaining({
          type: 'task.lost',
          data: { task: 'other', attempt: 1, restart: 0, lost: 'elsewhere/1/aa', ledger: 'task.completed' },
        }),
      ]);
      expect(await reportedFor('run-taken')).toEqual([
        expect.objectContaining({
          type: 'task.lost',
          data: { task: 'other', attempt: 1, restart: 0, lost: 'elsewhere/2/bb', ledger: 'taken' },
        }),
      ]);
      expect(await reportedFor('run-aborted')).toEqual([
        expect.objectContaining({
          type: 'task.lost',
          data: { task: 'other', attempt: 1, restart: 0, lost: 'engine', ledger: 'aborted' },
        }),
      ]);
      expect((await jsm.consumers.info(taskStream('default').name, 'w_default_other')).num_ack_pending).toBe(0);
    } finally {
      await worker.stop();
    }
  }, 30_000);

  it('redelivered after its worker died before starting it (no claim in the ledger): it runs, as the same attempt, and the ledger marks it finished', async () => {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const durable = await ensureWorkerConsumer(jsm, 'default', 'quick', { taskAckWaitMs: 1000 });
    await publishTask(js, 'quick', attempt('run-orphan', 'quick'));
    // A worker that pulls the attempt and dies holding it, unstarted.
    const taken = await (await js.consumers.get(taskStream('default').name, durable)).next({ expires: 5000 });
    expect(taken?.info.deliveryCount).toBe(1);
    const runs: string[] = [];
    const worker = createWorker({
      nats: c.as('worker'),
      handlers: {
        quick: async (input, ctx) => {
          runs.push(ctx.idempotencyKey);
          return { n: Number(input.n) + 1 };
        },
      },
    });
    await worker.start();
    try {
      await waitFor('the redelivered attempt to run', () => runs.length === 1);
      expect(runs).toEqual(['run-orphan/quick/1']);
      await waitFor('its outcome', () => worker.stats.completed === 1);
      await expect
        .poll(() => reportedFor('run-orphan'))
        .toEqual([
          expect.objectContaining({ type: 'task.completed', data: { task: 'quick', attempt: 1, output: { n: 22 } } }),
        ]);
      expect(worker.stats.lost).toBe(0);
      const ledger = await new Kvm(js).create(ATTEMPTS_BUCKET, { bindOnly: true });
      const key = AttemptLedger.key('default', 'run-orphan', 'quick', 1, 0, attempt('run-orphan', 'quick').token);
      await expect
        .poll(async () => JSON.parse((await ledger.get(key))!.string()))
        .toMatchObject({ finished: 'task.completed' });
    } finally {
      await worker.stop();
    }
  }, 30_000);
});
