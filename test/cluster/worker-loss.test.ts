/**
 * A lost worker is the infrastructure failing, not the task: on a real
 * nats-server with an engine, an attempt whose worker stopped answering is
 * reported lost (task.lost, as a worker reports it) and runs again as the
 * same attempt, with the same idempotency key, without using up a retry of a
 * task that has none — until the cap on restarts, after which the loss fails
 * the attempt (LF_ATTEMPT_LOST). A killed worker process is the chaos test's.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { beforeAll, describe, expect, it } from 'vitest';
import { subjects, taskStream } from '../../src/cluster/index.js';
import { ATTEMPTS_BUCKET, AttemptLedger } from '../../src/cluster/transport/attempts.js';
import { TaskMessage } from '../../src/cluster/transport/messages.js';
import { ensureWorkerConsumer } from '../../src/cluster/transport/setup.js';
import { MAX_RESTARTS, replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { ledgerKeyOf } from '../helpers/attempts.js';
import { waitFor } from '../helpers/wait.js';
import { Kvm } from '@nats-io/kv';

const once = def(`
workflow:
  id: loss-once
  name: One task, no retry policy
  version: 1
  tasks:
    - { id: export, type: SIMPLE, timeout: 1h }
`);

describe.skipIf(noNats)('a lost worker does not fail the task', () => {
  const c = useCluster({ engines: 1, deploy: [once] });
  let asWorker: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    asWorker = await c.connect('worker');
    jsm = await c.jsm();
    await ensureWorkerConsumer(jsm, 'default', 'export');
  });

  /** Takes the next attempt of `export` from the queue, as a worker would, and acks it (this test plays the workers). */
  async function takeAttempt(): Promise<TaskMessage> {
    const consumer = await jetstream(asWorker).consumers.get(taskStream('default').name, 'w_default_export');
    const m = await waitFor(
      'an attempt of export in the queue',
      async () => (await consumer.next({ expires: 1000 })) ?? undefined,
    );
    m.ack();
    return TaskMessage.parse(JSON.parse(new TextDecoder().decode(m.data)));
  }

  function reportLost(task: TaskMessage, lost: string): Promise<unknown> {
    const body = {
      type: 'task.lost',
      runId: task.runId,
      time: new Date().toISOString(),
      token: task.token,
      data: { task: task.taskId, attempt: task.attempt, restart: task.restart ?? 0, lost },
    };
    return jetstream(asWorker).publish(
      subjects.report('worker', 'default', task.runId),
      new TextEncoder().encode(JSON.stringify(body)),
      { msgID: `${task.runId}/${task.taskId}/${task.attempt}/lost-${task.restart ?? 0}` },
    );
  }

  it('runs the same attempt again (same idempotency key, no retry used), its timeout counted from the restart; then completes', async () => {
    const { runId } = await c.client.start('loss-once', {});
    const first = await takeAttempt();
    expect(first).toMatchObject({ runId, taskId: 'export', attempt: 1 });
    expect(first.restart).toBeUndefined();
    await reportLost(first, 'host-a/101/aaaaaa');

    const again = await takeAttempt();
    expect(again).toMatchObject({ runId, taskId: 'export', attempt: 1, restart: 1, token: first.token });
    // Its deadline is an hour from the restart, not from the first start.
    expect(Date.parse(again.deadline!)).toBeGreaterThan(Date.parse(first.deadline!));

    const done = {
      type: 'task.completed',
      runId,
      time: new Date().toISOString(),
      token: again.token,
      data: { task: 'export', attempt: 1, output: { rows: 7 } },
    };
    await jetstream(asWorker).publish(
      subjects.report('worker', 'default', runId),
      new TextEncoder().encode(JSON.stringify(done)),
    );
    const view = await c.runs.wait(runId, { timeoutMs: 15_000 });
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.export).toMatchObject({ status: 'COMPLETED', attempts: 1, output: { rows: 7 } });

    const events = await c.client.store.read(runId);
    expect(events.map((e) => e.type)).toEqual(['run.started', 'task.started', 'task.restarted', 'task.completed']);
    expect(events[2]!.data).toEqual({
      task: 'export',
      attempt: 1,
      restart: 1,
      reason: 'worker_lost',
      lost: 'host-a/101/aaaaaa',
      by: 'worker',
    });
    expect(replayRun(events).divergence).toBeNull();
  }, 30_000);

  it('when the lost run reports after all, before the restarted one started, the restarted run is dropped unrun', async () => {
    const { runId } = await c.client.start('loss-once', {});
    const first = await takeAttempt();
    await reportLost(first, 'host-slow/7/cccccc');
    await waitFor('the restart', async () =>
      (await c.client.store.read(runId)).some((e) => e.type === 'task.restarted'),
    );
    // The "lost" worker was only slow: its outcome comes, and counts.
    const done = {
      type: 'task.completed',
      runId,
      time: new Date().toISOString(),
      token: first.token,
      data: { task: 'export', attempt: 1, output: { rows: 1 } },
    };
    await jetstream(asWorker).publish(
      subjects.report('worker', 'default', runId),
      new TextEncoder().encode(JSON.stringify(done)),
    );
    expect((await c.runs.wait(runId, { timeoutMs: 15_000 })).status).toBe('COMPLETED');
    // The engine settled the restarted run in the attempt ledger: the worker it goes to drops it without running it.
    const ledger = await new Kvm(jetstream(await c.client.store.connection())).create(ATTEMPTS_BUCKET, {
      bindOnly: true,
    });
    const key = await ledgerKeyOf(await c.client.store.connection(), runId, 'export', 1, 1);
    await expect
      .poll(async () => (await ledger.get(key))?.json())
      .toMatchObject({ worker: 'engine', finished: 'aborted' });
    // The restarted run is named by its own claim token: the worker handed the first run (it has the attempt's token) cannot name it.
    expect(key).not.toBe(AttemptLedger.key('default', runId, 'export', 1, 1, first.token));
    const ran: string[] = [];
    const worker = await c.addWorker({
      handlers: {
        export: async (_i, ctx) => {
          ran.push(ctx.idempotencyKey);
          return {};
        },
      },
    });
    await expect.poll(async () => (await jsm.streams.info(taskStream('default').name)).state.messages).toBe(0);
    expect(ran).toEqual([]);
    await c.stopWorker(worker);
  }, 30_000);

  it(`a loss reported twice is recorded once; after ${MAX_RESTARTS} restarts the next loss fails the attempt (LF_ATTEMPT_LOST)`, async () => {
    const { runId } = await c.client.start('loss-once', {});
    let task = await takeAttempt();
    for (let restart = 1; restart <= MAX_RESTARTS; restart++) {
      await reportLost(task, `host-${restart}`);
      // The same loss from a second worker (another message id): stale once the first is recorded.
      const dup = {
        type: 'task.lost',
        runId,
        time: new Date().toISOString(),
        token: task.token,
        data: { task: 'export', attempt: 1, restart: restart - 1, lost: `host-${restart}` },
      };
      await jetstream(asWorker).publish(
        subjects.report('worker', 'default', runId),
        new TextEncoder().encode(JSON.stringify(dup)),
      );
      task = await takeAttempt();
      expect(task).toMatchObject({ attempt: 1, restart });
    }
    await reportLost(task, 'host-last');
    const view = await c.runs.wait(runId, { timeoutMs: 15_000 });
    expect(view.status).toBe('FAILED');
    expect(view.tasks.export!.error).toMatchObject({ code: 'LF_ATTEMPT_LOST', retryable: true });
    const events = await c.client.store.read(runId);
    expect(
      events.filter((e) => e.type === 'task.restarted').map((e) => e.type === 'task.restarted' && e.data.restart),
    ).toEqual([1, 2, 3]);
    expect(replayRun(events).divergence).toBeNull();
  }, 30_000);
});
