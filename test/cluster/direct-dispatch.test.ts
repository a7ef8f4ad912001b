/**
 * Attempts offered straight to an idle worker (src/cluster/engine/direct-dispatch.ts):
 * nothing goes through the queue's stream while a worker takes them; a short
 * one writes nothing to the attempt ledger (claims are written when needed,
 * deferred-claims.test.ts); and one whose worker dies holding it is queued by
 * its engine once it stops hearing of it, where the next worker finds the
 * claim, or no claim and no worker answering its ask, so it runs again as
 * task.restarted — never a second time unrecorded.
 */
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { taskStream } from '../../src/cluster/index.js';
import { ATTEMPTS_BUCKET } from '../../src/cluster/transport/attempts.js';
import { ENGINE_CONSUMERS, STREAMS } from '../../src/cluster/transport/subjects.js';
import { replayRun } from '../../src/runtime/index.js';
import { twoSteps } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { gate } from '../helpers/wait.js';

const two = twoSteps('offered-two');

describe.skipIf(noNats)('attempts offered straight to an idle worker', () => {
  // A short task ack wait: the engine's lease on an offered attempt, as the queue's redelivery is for a queued one.
  const c = useCluster({
    engines: 1,
    production: true,
    deploy: [two],
    engine: {
      directDispatch: true,
      settings: { taskAckWaitMs: 1500 },
      log: (l) => {
        if (process.env.LF_DBG) console.error('ENGINE', l);
      },
    },
  });

  it('go through no stream, write nothing to the attempt ledger (claims are written when needed: deferred-claims.test.ts), and complete the run', async () => {
    const jsm = await c.jsm();
    const worker = await c.addWorker({
      directOffers: true,
      handlers: { first: async () => ({ one: 1 }), second: async () => ({ two: 2 }) },
    });
    const stream = taskStream('default').name;
    const queuedBefore = await jsm.streams.info(stream).then(
      (i) => i.state.last_seq,
      () => 0,
    );
    const ledgerBefore = (await jsm.streams.info(`KV_${ATTEMPTS_BUCKET}`)).state.last_seq;
    const { runId } = await c.client.start('offered-two', {});
    const view = await c.runs.wait(runId, { timeoutMs: 20_000 });
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.second!.output).toEqual({ two: 2 });
    expect(
      await jsm.streams.info(stream).then(
        (i) => i.state.last_seq,
        () => 0,
      ),
    ).toBe(queuedBefore);
    // Short attempts, taken straight: no claims (nobody asked, none outlived its first heartbeat), no finish marks.
    expect((await jsm.streams.info(`KV_${ATTEMPTS_BUCKET}`)).state.last_seq - ledgerBefore).toBe(0);
    expect(c.engines[0]!.stats.handedOver).toBeGreaterThanOrEqual(2);
    await c.stopWorker(worker);
  }, 30_000);

  it('cannot be watched or taken by a user not given the queue, nor outside the queue group; a forged word that a worker still runs one counts for nothing', async () => {
    // Outside the queue group `w_default` (it would see every offer), and by a user of another queue.
    for (const [user, queue] of [
      ['worker', undefined],
      ['vault', 'w_default'],
      ['vault', undefined],
    ] as const) {
      const nc = await c.connect(user);
      const sub = nc.subscribe('lf.offer.default.>', queue ? { queue } : {});
      await expect(
        (async () => {
          for await (const _ of sub) {
            /* nothing may arrive */
          }
        })(),
      ).rejects.toThrow(/permission/i);
    }
    // The worker user may not send anything on lf.offer (only answer what it was offered).
    const asWorker = await c.connect('worker');
    await expect(
      asWorker.request('lf.offer.default.first', new TextEncoder().encode('{}'), { timeout: 2000 }),
    ).rejects.toThrow(/permission|timeout|no responders/i);
    // A task.held without the attempt's token keeps nothing held: the attempt whose worker went quiet is still queued and run.
    const started = gate();
    const quiet: NatsConnection = await c.connect('worker');
    const quietWorker = await c.addWorker({
      directOffers: true,
      nats: quiet,
      user: 'worker',
      handlers: {
        first: async () => {
          started.open();
          return new Promise(() => {});
        },
      },
    });
    const { runId } = await c.client.start('offered-two', {});
    await started.opened;
    await quiet.close();
    const forged = { type: 'task.held', runId, token: 'A'.repeat(43), data: { task: 'first', attempt: 1, restart: 0 } };
    const forging = setInterval(() => {
      for (const engine of [c.engines[0]!.reportName, 'x'])
        asWorker.publish(
          `lf.reports.worker.default.${runId}.${engine}`,
          new TextEncoder().encode(JSON.stringify(forged)),
        );
    }, 200);
    const honest = await c.addWorker({
      directOffers: true,
      handlers: { first: async () => ({ one: 1 }), second: async () => ({ two: 2 }) },
    });
    try {
      expect((await c.runs.wait(runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
    } finally {
      clearInterval(forging);
      await c.stopWorker(honest);
      // Its handler never returns: no grace to wait out.
      await c.stopWorker(quietWorker, { graceMs: 0 }).catch(() => undefined);
    }
  }, 60_000);

  it('one whose worker dies holding it is queued by its engine; the next worker finds it claimed (or, unclaimed, asks and hears nothing), and it runs again as task.restarted', async () => {
    const started = gate();
    const ran: string[] = [];
    // The worker that dies: its own connection, closed under it while the handler runs (its word stops).
    const doomed: NatsConnection = await c.connect('worker');
    const dying = await c.addWorker({
      directOffers: true,
      nats: doomed,
      user: 'worker',
      handlers: {
        first: async () => {
          ran.push('dying');
          started.open();
          return new Promise(() => {});
        },
      },
    });
    const { runId } = await c.client.start('offered-two', {});
    await started.opened;
    await doomed.close();
    await c.addWorker({
      directOffers: true,
      handlers: {
        first: async (_input, ctx) => {
          ran.push(`again:${ctx.idempotencyKey}`);
          return { one: 1 };
        },
        second: async () => ({ two: 2 }),
      },
    });
    const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
    expect(view.status).toBe('COMPLETED');
    expect(ran).toEqual(['dying', `again:${runId}/first/1`]);
    const events = await c.client.store.read(runId);
    expect(events.map((e) => e.type)).toEqual([
      'run.started',
      'task.started',
      'task.restarted',
      'task.completed',
      'task.started',
      'task.completed',
    ]);
    expect(events[2]!.data).toMatchObject({ task: 'first', attempt: 1, restart: 1, reason: 'worker_lost' });
    expect(c.engines[0]!.stats.requeued).toBeGreaterThanOrEqual(1);
    expect(replayRun(events).divergence).toBeNull();
    void dying;
  }, 45_000);
});

describe.skipIf(noNats)('the message behind an offered attempt', () => {
  // The engine's settings say 10 s; the consumer on the server says 1 s (set by an operator, or by another engine's settings).
  const c = useCluster({
    engines: 0,
    production: true,
    deploy: [two],
    engine: {
      directDispatch: true,
      log: (l) => {
        if (process.env.LF_DBG) console.error('ENGINE', l);
      },
    },
  });

  it('is kept within the ack wait the server has, not the one the engine was told: no other engine gets it while its attempt runs', async () => {
    const jsm = await c.jsm();
    const first = await c.addEngine();
    await jsm.consumers.update(STREAMS.inputs.name, ENGINE_CONSUMERS.inputs, { ack_wait: nanos(1000) });
    // The engine that runs the test reads the consumer as it is now.
    await c.stopEngine(first);
    const engine = await c.addEngine();
    await c.addWorker({
      directOffers: true,
      handlers: {
        first: async () => {
          await new Promise((r) => setTimeout(r, 3500));
          return { one: 1 };
        },
        second: async () => ({ two: 2 }),
      },
    });
    // Deliveries by the engines' consumer against messages stored: one more delivery than messages is a redelivery.
    const counts = async () => {
      const info = await jsm.consumers.info(STREAMS.inputs.name, ENGINE_CONSUMERS.inputs);
      return {
        deliveries: info.delivered.consumer_seq,
        messages: (await jsm.streams.info(STREAMS.inputs.name)).state.last_seq,
      };
    };
    const before = await counts();
    const { runId } = await c.client.start('offered-two', {});
    const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
    expect(view.status).toBe('COMPLETED');
    expect(engine.stats.handedOver).toBeGreaterThanOrEqual(1);
    // The run's kick, held while `first` ran (3.5 s) under a 1 s ack wait, was delivered once.
    const after = await counts();
    expect(after.deliveries - before.deliveries).toBe(after.messages - before.messages);
  }, 60_000);
});
