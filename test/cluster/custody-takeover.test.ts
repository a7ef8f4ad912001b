/**
 * Custody of an attempt offered straight to a worker moves with the worker's
 * liveness, not with the engine that offered it. What the
 * three-node test once caught: engine A offers `first`, its worker runs it,
 * and engine B reconciles the run (A's held message redelivered to it, or any
 * reconcile: here a kick B takes). B cannot tell the offered attempt from one
 * never handed out and puts it on the queue; a second worker pulls it (or the
 * first one does, and holds it with the attempt it runs) and
 * finds the first worker's claim in LF_ATTEMPTS (written at the first
 * worker's first heartbeat, or when the second asks: deferred-claims.test.ts).
 * The first worker refreshes
 * that claim while it runs the attempt, so the second one holds the delivery
 * instead of reporting the attempt lost: nothing restarts, and `first` runs
 * once. A claim nobody refreshes any more (its worker died) still goes stale,
 * and that attempt runs again as task.restarted (direct-dispatch.test.ts).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { ATTEMPTS_BUCKET, subjects, taskStream } from '../../src/cluster/index.js';
import { encode } from '../../src/cluster/transport/messages.js';
import { replayRun } from '../../src/runtime/index.js';
import { twoSteps } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { ledgerKeyOf } from '../helpers/attempts.js';
import { gate, waitFor } from '../helpers/wait.js';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';

const two = twoSteps('custody-two');

describe.skipIf(noNats)('an offered attempt while another engine reconciles its run', () => {
  const logs: string[] = [];
  // A 1.5 s task ack wait: the workers refresh their claims every 500 ms, and a claim unrefreshed for 1.5 s is stale.
  const c = useCluster({
    engines: 2,
    production: true,
    deploy: [two],
    engine: { directDispatch: true, settings: { taskAckWaitMs: 1500 }, log: (l) => logs.push(`ENGINE ${l}`) },
  });

  it('is queued by the engine that did not offer it, and the worker that pulls it waits on the live claim: it runs once, nothing restarts', async () => {
    const jsm = await c.jsm();
    const admin: NatsConnection = await c.connect();
    const release = gate();
    const started = gate();
    const ran: string[] = [];
    const first = await c.addWorker({
      directOffers: true,
      settings: { taskAckWaitMs: 1500 },
      log: (l) => logs.push(`W1 ${l}`),
      handlers: {
        first: async () => {
          ran.push('first by W1');
          started.open();
          await release.opened;
          return { one: 1 };
        },
      },
    });
    const { runId } = await c.client.start('custody-two', {});
    await started.opened;
    // A second worker, taking only from the queue: the one a requeued copy of `first` goes to.
    const second = await c.addWorker({
      settings: { taskAckWaitMs: 1500 },
      log: (l) => logs.push(`W2 ${l}`),
      handlers: {
        first: async () => {
          ran.push('first by W2');
          return { one: 2 };
        },
        second: async () => ({ two: 2 }),
      },
    });
    const queued = async () => (await jsm.streams.info(taskStream('default').name)).state.messages;
    const before = await queued();
    // Kicks (each its own message) until the engine that did not offer `first` reconciles the run and queues it.
    await waitFor(
      'the other engine to queue the offered attempt',
      async () => {
        await jetstream(admin).publish(subjects.input('engine', runId), encode({ type: 'kick', runId }));
        return (await queued()) > before || logs.some((l) => l.startsWith('W2') && l.includes(runId));
      },
      { timeout: 20_000, detail: () => logs.join('\n') },
    );
    // Held past the stale window (three refresh periods of 500 ms): the claim seen rewritten again and again while W2
    // holds its copy. Before the fix W2 reported the attempt lost at once, and the engine's restart ran it a second time.
    const kv = await new Kvm(jetstream(admin)).create(ATTEMPTS_BUCKET, { bindOnly: true });
    const key = await ledgerKeyOf(admin, runId, 'first', 1);
    const seen = new Set<number>();
    await waitFor(
      'the claim rewritten five times, or first run a second time',
      async () => {
        // No claim yet until W2 asks about the attempt W1 runs unclaimed (an offered attempt is claimed when asked about).
        const claim = await kv.get(key);
        if (claim) seen.add(claim.revision);
        return seen.size >= 5 || ran.length > 1;
      },
      { timeout: 15_000, detail: () => logs.join('\n') },
    );
    expect(ran, logs.join('\n')).toEqual(['first by W1']);
    // W2 pulled the copy and waits on W1's live claim; or W1, which pulls from the queue too, got the copy itself and
    // holds it with the attempt it runs (which worker's pull the server serves first is a race): either way, held.
    await waitFor(
      'the copy to be held: by W2 on the live claim, or by W1 with its attempt',
      () =>
        logs.some(
          (l) =>
            l.includes(runId) &&
            ((l.startsWith('W2') && /still runs it/.test(l)) ||
              (l.startsWith('W1') && /while this worker runs it/.test(l))),
        ),
      { timeout: 10_000, detail: () => logs.join('\n') },
    );
    release.open();
    const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
    expect(view.status, logs.join('\n')).toBe('COMPLETED');
    expect(ran, logs.join('\n')).toEqual(['first by W1']);
    const events = await c.client.store.read(runId);
    expect(
      events.map((e) => e.type),
      logs.join('\n'),
    ).toEqual(['run.started', 'task.started', 'task.completed', 'task.started', 'task.completed']);
    expect(replayRun(events).divergence).toBeNull();
    await c.stopWorker(first);
    await c.stopWorker(second);
  }, 60_000);
});
