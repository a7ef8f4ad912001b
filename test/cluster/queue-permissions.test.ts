/**
 * A worker user reaches only the queues nats.conf gives it, tried
 * against a nats-server started from the production nats.conf: each queue is
 * its own stream LF_TASKS_<queue>, and `worker` (given `default`) may neither
 * pull from `vault`'s consumer nor ack one of its attempts; nats.conf's
 * `vault` user runs them, and the run completes. A worker waits, saying so,
 * while its queue's stream is not there yet, or while its user may not read it.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { beforeAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { createWorker, taskStream } from '../../src/cluster/index.js';
import { workerConsumerName } from '../../src/cluster/transport/subjects.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

/** One task of the `default` queue, then one of `vault`. */
const signed = def(`
workflow:
  id: queues-signed
  version: 1
  tasks:
    - { id: prepare, type: SIMPLE }
    - { id: sign, type: SIMPLE, queue: vault, depends_on: [prepare] }
`);

const enc = new TextEncoder();

describe.skipIf(noNats)('a worker user and the queues nats.conf gives it', () => {
  const vaultStream = taskStream('vault').name;
  const vaultConsumer = workerConsumerName('vault', 'sign');
  // The honest `default` worker: runs `prepare`.
  const c = useCluster({
    production: true,
    engines: 1,
    handlers: { prepare: async () => ({ ready: true }) },
    deploy: [signed],
  });
  let admin: NatsConnection;
  let asWorker: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    admin = await c.connect();
    jsm = await jetstreamManager(admin);
    asWorker = await c.connect('worker');
  });

  it('a worker of a queue whose stream does not exist yet waits, and says it waits for the stream', async () => {
    const lines: string[] = [];
    const early = createWorker({
      nats: c.as('vault'),
      queue: 'vault',
      handlers: { sign: async () => ({ signed: true }) },
      log: (l) => lines.push(l),
    });
    await early.start();
    try {
      await waitFor(
        'the waiting line',
        () => lines.find((l) => l.includes(`waiting for stream ${vaultStream} of queue vault`)),
        { detail: () => lines.join('\n') },
      );
    } finally {
      await early.stop();
    }
  });

  it('`worker` (given `default`) may not pull from, nor ack an attempt of, the `vault` queue; the `vault` user runs it and the run completes', async () => {
    const { runId } = await c.client.start('queues-signed', {});
    // `prepare` runs on `default`; then the engine hands `sign` out on `vault`, making its stream and consumer.
    await waitFor(
      'sign handed out on vault',
      async () => (await jsm.consumers.info(vaultStream, vaultConsumer).catch(() => null))?.num_pending === 1,
      { timeout: 15_000 },
    );

    // Pull: the server refuses the request (nats.conf grants $JS.API.CONSUMER.MSG.NEXT.LF_TASKS_default.* only).
    await expect(jetstream(asWorker).consumers.get(vaultStream, vaultConsumer)).rejects.toThrow(/permission/i);
    await expect(
      asWorker.request(
        `$JS.API.CONSUMER.MSG.NEXT.${vaultStream}.${vaultConsumer}`,
        enc.encode(JSON.stringify({ batch: 1, expires: 1_000_000_000 })),
        { timeout: 3000 },
      ),
    ).rejects.toThrow(/permission/i);
    expect((await jsm.consumers.info(vaultStream, vaultConsumer)).num_pending, 'nothing was handed to it').toBe(1);

    // Ack: with the attempt's own ack subject ($JS.ACK.LF_TASKS_vault.…), taken here as the engine user.
    const held = await (await jetstream(admin).consumers.get(vaultStream, vaultConsumer)).next({ expires: 5000 });
    expect(held?.subject).toBe(`lf.q.vault.sign`);
    const ackSubject = (held as unknown as { reply: string }).reply;
    expect(ackSubject).toMatch(new RegExp(`^\\$JS\\.ACK\\.${vaultStream}\\.${vaultConsumer}\\.`));
    await expect(asWorker.request(ackSubject, enc.encode('+ACK'), { timeout: 3000 })).rejects.toThrow(/permission/i);
    expect(
      (await jsm.consumers.info(vaultStream, vaultConsumer)).num_ack_pending,
      'the refused ack left the attempt where it was',
    ).toBe(1);
    held!.nak();

    // Its own queue's worker, nats.conf's `vault` user, runs it.
    const vault = createWorker({
      nats: c.as('vault'),
      queue: 'vault',
      handlers: { sign: async () => ({ signed: 'by the vault' }) },
    });
    await vault.start();
    try {
      const view = await c.runs.wait(runId, { timeoutMs: 15_000 });
      expect(view.status).toBe('COMPLETED');
      expect(view.tasks.sign!.output).toEqual({ signed: 'by the vault' });
      const outcomes = (await c.client.store.read(runId))
        .filter((e) => e.type === 'task.completed')
        .map((e) => {
          const d = e.data as { task: string; by?: string };
          return [d.task, d.by];
        });
      expect(outcomes).toEqual([
        ['prepare', 'worker'],
        ['sign', 'vault'],
      ]);
      expect(vault.stats.completed).toBe(1);
    } finally {
      await vault.stop();
    }
  }, 40_000);

  it('a worker whose user may not read its queue waits, and says what nats.conf must give it; it runs nothing', async () => {
    const { runId } = await c.client.start('queues-signed', {});
    await waitFor(
      'sign handed out on vault',
      async () => (await jsm.consumers.info(vaultStream, vaultConsumer).catch(() => null))?.num_pending === 1,
      { timeout: 15_000 },
    );
    const lines: string[] = [];
    const wrong = createWorker({
      nats: c.as('worker'),
      queue: 'vault',
      handlers: { sign: async () => ({ signed: 'by the wrong user' }) },
      log: (l) => lines.push(l),
    });
    await wrong.start();
    try {
      const line = await waitFor(
        'the waiting line',
        () => lines.find((l) => l.startsWith('waiting: NATS user worker may not read queue vault')),
        { detail: () => lines.join('\n') },
      );
      expect(line).toContain(`"$JS.API.CONSUMER.MSG.NEXT.${vaultStream}.*"`);
      expect(line).toContain(`"$JS.ACK.${vaultStream}.>"`);
      expect(wrong.stats).toEqual({ completed: 0, failed: 0, lost: 0 });
      expect((await jsm.consumers.info(vaultStream, vaultConsumer)).num_pending).toBe(1);
    } finally {
      await wrong.stop();
    }
    // Left for its own worker.
    const vault = createWorker({
      nats: c.as('vault'),
      queue: 'vault',
      handlers: { sign: async () => ({ signed: 'by the vault' }) },
    });
    await vault.start();
    try {
      expect((await c.runs.wait(runId, { timeoutMs: 15_000 })).status).toBe('COMPLETED');
    } finally {
      await vault.stop();
    }
  }, 40_000);
});
