/**
 * Outcomes handed straight to an engine (lf.reports.<sender>.<queue>.<runId>,
 * src/cluster/engine/direct-reports.ts): recorded once, in the run's log, with
 * nothing in LF_INPUTS and no finish mark in LF_ATTEMPTS; checked exactly as
 * on LF_INPUTS (the token, the queue, the sender the server proves); and
 * a worker may neither hand one over under another name nor listen to others'.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, subjects, taskStream } from '../../src/cluster/index.js';
import { ReportAnswer, TaskMessage } from '../../src/cluster/transport/messages.js';
import { ensureWorkerConsumer } from '../../src/cluster/transport/setup.js';
import { ATTEMPTS_BUCKET } from '../../src/cluster/transport/attempts.js';
import { twoSteps } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { jetstream } from '@nats-io/jetstream';

const two = twoSteps('direct-two');

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe.skipIf(noNats)('outcomes handed straight to an engine', () => {
  const c = useCluster({ engines: 1, production: true, deploy: [two] });
  let asWorker: NatsConnection;
  beforeAll(async () => {
    asWorker = await c.connect('worker');
  });

  it("are recorded in the run's log once, with nothing in LF_INPUTS and no finish mark in the attempt ledger", async () => {
    const jsm = await c.jsm();
    const inputsBefore = (await jsm.streams.info(STREAMS.inputs.name)).state.last_seq;
    const ledgerBefore = (await jsm.streams.info(`KV_${ATTEMPTS_BUCKET}`)).state.last_seq;
    const worker = await c.addWorker({
      handlers: { first: async () => ({ one: 1 }), second: async () => ({ two: 2 }) },
    });
    const { runId } = await c.client.start('direct-two', {});
    const done = await c.runs.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    const events = await c.client.store.read(runId);
    expect(events.filter((e) => e.type === 'task.completed').map((e) => [e.data.task, e.data.by])).toEqual([
      ['first', 'worker'],
      ['second', 'worker'],
    ]);
    // The kick is all LF_INPUTS got; the attempts, offered and short, left nothing in the ledger (claims are written when needed).
    try {
      expect((await jsm.streams.info(STREAMS.inputs.name)).state.last_seq - inputsBefore).toBe(1);
      expect(c.engines[0]!.stats.directReports).toBe(2);
      expect((await jsm.streams.info(`KV_${ATTEMPTS_BUCKET}`)).state.last_seq - ledgerBefore).toBe(0);
    } finally {
      await c.stopWorker(worker);
    }
  }, 30_000);

  it("count only with the attempt's token and on its queue; a worker may not hand one over under another name, nor listen to them", async () => {
    const jsm = await c.jsm();
    const { runId } = await c.client.start('direct-two', {});
    // No worker runs: take first's attempt from its queue as a worker would.
    const consumer = await jetstream(asWorker).consumers.get(
      taskStream('default').name,
      await ensureWorkerConsumer(jsm, 'default', 'first'),
    );
    const m = await waitFor(
      "first's attempt in the queue",
      async () => (await consumer.next({ expires: 1000 })) ?? undefined,
    );
    const task = TaskMessage.parse(JSON.parse(new TextDecoder().decode(m.data)));
    const outcome = (token: string, output: unknown) => ({
      type: 'task.completed',
      runId,
      time: new Date().toISOString(),
      token,
      data: { task: 'first', attempt: 1, output },
    });
    const ask = async (subject: string, body: unknown) =>
      ReportAnswer.parse(
        JSON.parse(new TextDecoder().decode((await asWorker.request(subject, enc(body), { timeout: 5000 })).data)),
      );

    // A made-up token: not recorded, and the answer says why.
    const forged = await ask(
      subjects.directReport('worker', 'default', runId),
      outcome('x'.repeat(43), { forged: true }),
    );
    expect(forged).toMatchObject({ recorded: false, reason: expect.stringMatching(/token/) });
    // A loss is not handed over this way.
    const lost = await ask(subjects.directReport('worker', 'default', runId), {
      type: 'task.lost',
      runId,
      time: new Date().toISOString(),
      token: task.token,
      data: { task: 'first', attempt: 1, restart: 0 },
    });
    expect(lost).toMatchObject({ recorded: false, reason: expect.stringMatching(/only an attempt's outcome/) });
    // Under another user's name, or for a queue it was not given: the server refuses the publish.
    await expect(
      asWorker.request(subjects.directReport('alice', 'default', runId), enc(outcome(task.token, {})), {
        timeout: 2000,
      }),
    ).rejects.toThrow(/permission|timeout/i);
    await expect(
      asWorker.request(subjects.directReport('worker', 'vault', runId), enc(outcome(task.token, {})), {
        timeout: 2000,
      }),
    ).rejects.toThrow(/permission|timeout/i);
    // A worker may not listen to other workers' outcomes (their tokens).
    const snoop = await c.connect('worker');
    const sub = snoop.subscribe('lf.reports.>');
    await expect(
      (async () => {
        for await (const _ of sub) {
          /* nothing may arrive */
        }
      })(),
    ).rejects.toThrow(/permission/i);
    await snoop.close().catch(() => undefined);

    let events = await c.client.store.read(runId);
    expect(events.some((e) => e.type === 'task.completed')).toBe(false);

    // The real outcome, with the token it was handed: recorded, by the sender the server proves.
    const real = await ask(subjects.directReport('worker', 'default', runId), outcome(task.token, { one: 1 }));
    expect(real).toEqual({ recorded: true });
    m.ack();
    events = await c.client.store.read(runId);
    expect(events.find((e) => e.type === 'task.completed')?.data).toMatchObject({
      task: 'first',
      output: { one: 1 },
      by: 'worker',
    });
    // Handed over again (its answer lost, say): recorded already, nothing appended.
    expect(await ask(subjects.directReport('worker', 'default', runId), outcome(task.token, { one: 1 }))).toEqual({
      recorded: true,
    });
    expect((await c.client.store.read(runId)).filter((e) => e.type === 'task.completed')).toHaveLength(1);
  }, 30_000);
});
