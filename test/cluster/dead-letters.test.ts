/**
 * Poison messages, against a real nats-server: a message too big to
 * copy into a dead letter is dead-lettered once, as a reference and a bounded
 * excerpt, and the engine goes on serving; a message whose processing always
 * fails is dead-lettered after `maxDeliver` deliveries, with growing delays in
 * between; deliveries past a worker's bound are dead-lettered unrun; the
 * dead-letter stream is bounded, also when it was created without bounds.
 */
import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DeadLetterQueue,
  DLQ_DEFAULTS,
  ensureCluster,
  EXCERPT_BYTES,
  STREAMS,
  subjects,
  taskStream,
} from '../../src/cluster/index.js';
import { ENGINE_CONSUMERS } from '../../src/cluster/transport/subjects.js';
import { ensureWorkerConsumer } from '../../src/cluster/transport/setup.js';
import { loadEventTypes } from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { noNats, testCluster, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { ROOT } from '../helpers/cli.js';

const encoder = new TextEncoder();

const gate = def(`
workflow:
  id: dlq-gate
  name: One task, then a person
  version: 1
  tasks:
    - { id: prepare, type: SIMPLE }
    - { id: sign, type: HUMAN, depends_on: [prepare], approvers: [alice] }
`);

const quick = def(`
workflow:
  id: dlq-quick
  name: One task
  version: 1
  tasks:
    - { id: prepare, type: SIMPLE }
`);

/**
 * A body of about `bytes` bytes: JSON whose one field is long quoted text. Its
 * quotes are escaped once in the body and again in a dead letter that copies
 * the body as text, so the copy would not fit the server's max payload (8 MB).
 */
const huge = (bytes: number, fields: Record<string, unknown>, key: string) => {
  const filler = 'she said "no" ';
  return encoder.encode(JSON.stringify({ ...fields, [key]: filler.repeat(Math.floor(bytes / (filler.length + 2))) }));
};

/** Every message of LF_DLQ with its stored size. */
async function stored(jsm: JetStreamManager): Promise<{ subject: string; bytes: number }[]> {
  const out = [];
  const { state } = await jsm.streams.info(STREAMS.dlq.name);
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(STREAMS.dlq.name, { seq }).catch(() => null);
    if (m) out.push({ subject: m.subject, bytes: m.data.byteLength });
  }
  return out;
}

describe.skipIf(noNats)('poison messages', () => {
  const c = useCluster({ engines: 1, engine: { eventTypes: loadEventTypes(`${ROOT}/events`) }, deploy: [gate, quick] });
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const handlers = { prepare: async () => ({ ready: true }) };
  beforeAll(async () => {
    admin = await c.connect();
    jsm = await jetstreamManager(admin);
  });

  it('a 7.5 MB approval and a 7.5 MB trigger event are dead-lettered once, as a reference and a 4 KiB excerpt, and the engine goes on serving', async () => {
    const worker = await c.addWorker({ nats: c.url, handlers });
    try {
      const { runId } = await c.client.start('dlq-gate', {});
      expect((await c.runs.wait(runId, { orWaiting: true, timeoutMs: 15_000 })).status).toBe('WAITING');
      const js = jetstream(admin);
      const approval = huge(7.5 * 1024 * 1024, { decision: 'approved' }, 'comment');
      const event = huge(
        7.5 * 1024 * 1024,
        { id: 'big-1', type: 'revenue_milestone', time: new Date().toISOString() },
        'data',
      );
      const approvalAck = await js.publish(subjects.approval(runId, 'sign', 'alice'), approval);
      const eventAck = await js.publish(subjects.trigger('revenue_milestone'), event);

      const [a] = await waitFor(
        'the approval in lf.dlq.approvals',
        async () => {
          const l = await deadLetters(jsm, 'approvals');
          return l.length > 0 ? l : undefined;
        },
        { timeout: 20_000 },
      );
      const [t] = await waitFor(
        'the event in lf.dlq.triggers',
        async () => {
          const l = await deadLetters(jsm, 'triggers');
          return l.length > 0 ? l : undefined;
        },
        { timeout: 20_000 },
      );
      for (const [letter, body, ack] of [
        [a, approval, approvalAck],
        [t, event, eventAck],
      ] as const) {
        expect(letter).toMatchObject({
          source: { stream: ack.stream, seq: ack.seq, deliveries: 1 },
          size: body.byteLength,
          sha256: createHash('sha256').update(body).digest('hex'),
          truncated: true,
          reason: expect.stringMatching(/not kept .*cannot be replayed/),
        });
        expect(letter!.raw).toBeUndefined();
        expect((letter!.excerpt as string).length).toBe(EXCERPT_BYTES);
      }
      expect(a!.reason).toMatch(/^malformed approval on lf\.approvals\./);

      // Not a loop: a normal run after them completes, and nothing more was dead-lettered or retried.
      const { runId: next } = await c.client.start('dlq-quick', {});
      expect((await c.runs.wait(next, { timeoutMs: 15_000 })).status).toBe('COMPLETED');
      expect(await deadLetters(jsm, 'approvals')).toHaveLength(1);
      expect(await deadLetters(jsm, 'triggers')).toHaveLength(1);
      expect(c.engines[0]!.stats).toMatchObject({ deadLetters: 2, retries: 0 });
      // Each dead letter is small in the stream: the excerpt and the reference, not a copy.
      for (const m of await stored(jsm)) expect(m.bytes).toBeLessThan(16 * 1024);
      // And the poison messages left their work queues (nothing waits to be delivered again).
      await waitFor(
        'the poison messages gone from their queues',
        async () =>
          (await jsm.streams.info(STREAMS.approvals.name)).state.messages +
            (await jsm.streams.info(STREAMS.triggers.name)).state.messages ===
          0,
      );
      // The run the approval was for still waits for a real one.
      expect((await c.runs.status(runId))!.tasks.sign!.status).toBe('PENDING_APPROVAL');
    } finally {
      await c.stopWorker(worker);
    }
  }, 60_000);

  it("deliveries of a task attempt past the workers' bound are dead-lettered without running it, and the attempt reported failed", async () => {
    // Two workers took the attempt and died (their deliveries timed out); the bound here is 2.
    const settings = { taskAckWaitMs: 300, taskMaxDeliver: 2 };
    const durable = await ensureWorkerConsumer(jsm, 'poison', 'prepare', settings);
    const js = jetstream(admin);
    const task = {
      runId: 'dlq-nosuchrun',
      workflowId: 'dlq-gate',
      version: 1,
      taskId: 'prepare',
      attempt: 1,
      handler: 'prepare',
      input: {},
      token: 't',
      task: { name: 'prepare', type: 'SIMPLE', output: { names: [], values: {} } },
    };
    const ack = await js.publish(subjects.task('poison', 'prepare'), encoder.encode(JSON.stringify(task)));
    const consumer = await js.consumers.get(taskStream('poison').name, durable);
    for (let dead = 0; dead < 2; ) {
      const m = await consumer.next({ expires: 2000 });
      if (m) dead++; // taken and never answered: the ack wait passes
    }
    let ran = 0;
    const worker = await c.addWorker({
      nats: c.url,
      queue: 'poison',
      settings,
      handlers: {
        prepare: async () => {
          ran++;
          return {};
        },
      },
    });
    try {
      // Under the worker's own user (anonymous here: it connects without credentials), the one dead-letter subject a worker may write.
      const [letter] = await waitFor(
        'the attempt in lf.dlq.tasks.anonymous',
        async () => {
          const l = (await deadLetters(jsm, 'tasks.anonymous')).filter(
            (d) => (d.source as { seq: number } | undefined)?.seq === ack.seq,
          );
          return l.length > 0 ? l : undefined;
        },
        { timeout: 15_000 },
      );
      expect(letter).toMatchObject({
        runId: 'dlq-nosuchrun',
        taskId: 'prepare',
        source: { stream: 'LF_TASKS_poison', deliveries: 3 },
        reason: expect.stringMatching(/delivered 3 times \(the bound is 2\)/),
      });
      expect(letter!.raw).toBe(JSON.stringify(task)); // small: kept whole
      expect(ran).toBe(0);
      // And reported failed (retryable), so a run would not wait on it: this one's engine refuses it (no such run, a made-up token).
      await waitFor(
        'the failure reported to the engines',
        async () =>
          (await deadLetters(jsm, 'inputs')).some(
            (d) => String(d.raw ?? '').includes('LF_ATTEMPT_UNDELIVERABLE') && d.runId === 'dlq-nosuchrun',
          ) || undefined,
        { timeout: 15_000 },
      );
      await waitFor(
        'the attempt gone from its queue',
        async () =>
          (await jsm.consumers.info(taskStream('poison').name, durable)).num_pending +
            (await jsm.consumers.info(taskStream('poison').name, durable)).num_ack_pending ===
          0,
      );
    } finally {
      await c.stopWorker(worker);
    }
  }, 30_000);
});

describe.skipIf(noNats)('a message whose processing always fails', () => {
  it('is dead-lettered after maxDeliver deliveries, retried with a growing delay in between', async () => {
    const c = await testCluster();
    const admin = await c.connect();
    const logs: string[] = [];
    await c.client.deploy(quick);
    // A run recorded while no engine runs, whose log then gets a message that is not a commit: every load of it fails.
    const { runId } = await c.client.start('dlq-quick', {});
    const bad = await jetstream(admin).publish(`lf.events.dlq-quick.${runId}`, encoder.encode('not a commit'));
    const engine = await c.addEngine({
      settings: { maxDeliver: 3, firstRetryMs: 100, maxRetryMs: 1000 },
      log: (l) => logs.push(l),
    });
    const jsm = await jetstreamManager(admin);
    const [letter] = await waitFor(
      'the kick in lf.dlq.inputs',
      async () => {
        const l = await deadLetters(jsm, 'inputs');
        return l.length > 0 ? l : undefined;
      },
      { timeout: 20_000, detail: () => logs.join('\n') },
    );
    expect(letter).toMatchObject({
      source: { stream: 'LF_INPUTS', subject: subjects.input('anonymous', runId), deliveries: 3 },
      reason: expect.stringMatching(
        new RegExp(
          `^gave up after 3 deliveries \\(the bound is 3\\); the last failed with: LF_EVENTS message ${bad.seq} .*corrupt commit`,
        ),
      ),
    });
    // A start's kick says the run is new, and carries the commit the start appended (the engine folds it unread).
    expect(JSON.parse(String(letter!.raw))).toMatchObject({
      type: 'kick',
      runId,
      started: true,
      first: {
        position: 1,
        subject: `lf.events.dlq-quick.${runId}`,
        commit: { events: [{ seq: 1, type: 'run.started' }] },
      },
    });
    expect(engine.stats).toMatchObject({ deadLetters: 1, retries: 2 });
    // The delays grew: 100 ms, then 200 ms.
    expect(
      logs
        .filter((l) => /trying again in/.test(l))
        .map((l) => /delivery (\d) of 3, trying again in (\d+) ms/.exec(l)?.slice(1)),
    ).toEqual([
      ['1', '100'],
      ['2', '200'],
    ]);
    // Terminated after the dead letter was written: it leaves its work queue.
    await waitFor(
      'the kick gone from LF_INPUTS',
      async () => (await jsm.streams.info(STREAMS.inputs.name)).state.messages === 0,
    );
    // The server's own bound: a few deliveries past the engine's, a last resort.
    expect((await jsm.consumers.info(STREAMS.inputs.name, ENGINE_CONSUMERS.inputs)).config.max_deliver).toBe(8);
  }, 60_000);
});

describe.skipIf(noNats)('the dead-letter stream LF_DLQ', () => {
  const c = useCluster();

  it('is created with limits (14 days, 256 MiB, 100,000 messages, oldest dropped)', async () => {
    const jsm = await c.jsm();
    await ensureCluster(jsm);
    const { config } = await jsm.streams.info(STREAMS.dlq.name);
    expect(config).toMatchObject({
      max_age: DLQ_DEFAULTS.maxAgeMs * 1e6,
      max_bytes: DLQ_DEFAULTS.maxBytes,
      max_msgs: DLQ_DEFAULTS.maxMsgs,
      discard: 'old',
    });
    expect(DLQ_DEFAULTS).toEqual({
      maxAgeMs: 14 * 24 * 3600_000,
      maxBytes: 256 * 1024 * 1024,
      maxBytesInMemory: 32 * 1024 * 1024,
      maxMsgs: 100_000,
    });
  });

  it('gets the limits when it exists without them (as made before), and so do consumers without a delivery bound', async () => {
    const jsm = await c.jsm();
    await jsm.streams.delete(STREAMS.dlq.name);
    await jsm.consumers.delete(STREAMS.approvals.name, ENGINE_CONSUMERS.approvals);
    // As ensureCluster made them before no limits, unlimited deliveries.
    await jsm.streams.add({ name: STREAMS.dlq.name, subjects: [...STREAMS.dlq.subjects] });
    await jsm.consumers.add(STREAMS.approvals.name, {
      durable_name: ENGINE_CONSUMERS.approvals,
      ack_policy: 'explicit' as never,
      max_deliver: -1,
    });
    const js = jetstream(await c.connect());
    for (let i = 0; i < 5; i++)
      await js.publish(subjects.dlq('inputs'), encoder.encode(`{"reason":"old ${i}","raw":""}`));

    await ensureCluster(jsm, { dlqMaxAgeMs: 3_600_000, dlqMaxMsgs: 3, maxDeliver: 7 });
    const { config, state } = await jsm.streams.info(STREAMS.dlq.name);
    expect(config).toMatchObject({
      max_age: 3_600_000 * 1e6,
      max_msgs: 3,
      max_bytes: DLQ_DEFAULTS.maxBytes,
      discard: 'old',
    });
    expect(state.messages).toBe(3); // the oldest went
    for (let i = 0; i < 5; i++)
      await js.publish(subjects.dlq('inputs'), encoder.encode(`{"reason":"new ${i}","raw":""}`));
    const kept = await deadLetters(jsm, 'inputs');
    expect(kept.map((l) => l.reason)).toEqual(['new 2', 'new 3', 'new 4']);
    expect((await jsm.consumers.info(STREAMS.approvals.name, ENGINE_CONSUMERS.approvals)).config.max_deliver).toBe(12);
  });

  it("an LF_DLQ made before workers' letters had a stream of their own (lf.dlq.>, workers' letters in it) is narrowed to the engines' subjects: workers' letters go to LF_DLQ_WORKERS, and the old ones are still listed", async () => {
    const jsm = await c.jsm();
    await jsm.streams.delete(STREAMS.dlq.name);
    await jsm.streams.delete(STREAMS.workerDlq.name).catch(() => undefined);
    await jsm.streams.add({ name: STREAMS.dlq.name, subjects: ['lf.dlq.>'] });
    const js = jetstream(await c.connect());
    const old = await js.publish('lf.dlq.tasks.worker', encoder.encode('{"reason":"written before","raw":""}'));
    expect(old.stream).toBe(STREAMS.dlq.name);

    await ensureCluster(jsm);
    expect((await jsm.streams.info(STREAMS.dlq.name)).config.subjects).toEqual(['lf.dlq.*']);
    const now = await js.publish('lf.dlq.tasks.worker', encoder.encode('{"reason":"written after","raw":""}'));
    expect(now.stream).toBe(STREAMS.workerDlq.name);
    expect(
      (await js.publish(subjects.dlq('inputs'), encoder.encode('{"reason":"an engine\'s","raw":""}'))).stream,
    ).toBe(STREAMS.dlq.name);
    const queue = new DeadLetterQueue(jsm, js);
    const listed = await queue.list('tasks');
    expect(listed.map((e) => [e.id, e.stream, e.subject])).toEqual([
      [String(old.seq), 'LF_DLQ', 'lf.dlq.tasks.worker'],
      [`w${now.seq}`, 'LF_DLQ_WORKERS', 'lf.dlq.tasks.worker'],
    ]);
    expect((await queue.show(String(old.seq))).writer).toEqual({ role: 'worker', user: 'worker' });
    expect(await queue.count('tasks')).toBe(2);
    expect(await queue.purge('tasks')).toBe(2);
    expect((await queue.list()).map((e) => e.kind)).toEqual(['inputs']);
  });
});
