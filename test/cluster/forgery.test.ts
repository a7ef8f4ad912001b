/**
 * What each NATS user must not be able to do, tried for real against a
 * nats-server started from nats.conf and an engine: a worker cannot fire a
 * timer (and so cannot pass a person's approval deadline), cannot report an
 * attempt it was not handed, cannot set the time the engine records, and
 * cannot read the engines' secret; a timer message never fires before the
 * run's own record of the timer says it is due.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, subjects, taskStream } from '../../src/cluster/index.js';
import { ENGINE_BUCKET } from '../../src/cluster/transport/attempt-tokens.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { waitFor } from '../helpers/wait.js';
import { Kvm } from '@nats-io/kv';

const gated = def(`
workflow:
  id: forgery-gate
  name: A person's approval with a deadline that approves
  version: 1
  tasks:
    - { id: prepare, type: SIMPLE }
    - { id: sign, type: HUMAN, depends_on: [prepare], approvers: [alice], timeout: 1h, on_timeout: approve }
    - { id: pay, type: SIMPLE, depends_on: [sign] }
`);

describe.skipIf(noNats)('what a NATS user must not be able to do', () => {
  const c = useCluster({ engines: 1, deploy: [gated] });
  let asWorker: NatsConnection;
  let jsm: JetStreamManager;
  const handlers = { prepare: async () => ({ ready: true }), pay: async () => ({ paid: true }) };
  beforeAll(async () => {
    jsm = await c.jsm();
    asWorker = await c.connect('worker');
  });

  it('a worker cannot fire a timer, nor report an attempt it was not handed, and its clock is not what the engine records', async () => {
    await c.addWorker({ handlers });
    const { runId } = await c.client.start('forgery-gate', {});
    const waiting = await c.runs.wait(runId, { orWaiting: true, timeoutMs: 15_000 });
    expect(waiting.status).toBe('WAITING');

    const js = jetstream(asWorker);
    const send = (body: object) =>
      js.publish(subjects.report('worker', 'default', runId), new TextEncoder().encode(JSON.stringify(body)));
    // 1. The approval deadline, fired by a worker: with on_timeout approve it would pass alice's approval.
    await send({
      type: 'timer.fired',
      runId,
      time: new Date().toISOString(),
      data: { task: 'sign', timer: 'approval_timeout', attempt: 1 },
    });
    // 2. An outcome of an attempt this worker was never handed (pay has not even started), with a made-up token.
    await send({
      type: 'task.completed',
      runId,
      time: '2999-01-01T00:00:00.000Z',
      token: 'made-up',
      data: { task: 'pay', attempt: 1, output: { paid: 'by a forger' } },
    });
    // 3. And an outcome of a task it did run, replayed with another token.
    await send({
      type: 'task.completed',
      runId,
      time: '2999-01-01T00:00:00.000Z',
      token: 'x'.repeat(43),
      data: { task: 'prepare', attempt: 1, output: { ready: 'forged' } },
    });

    const letters = await waitFor('three refused inputs in lf.dlq.inputs', async () => {
      const l = await deadLetters(jsm, 'inputs');
      return l.length >= 3 ? l : undefined;
    });
    expect(letters.map((l) => String(l.reason))).toEqual([
      expect.stringMatching(/^malformed input on lf\.inputs\.worker\.default\.\S+: type: /),
      expect.stringMatching(/task\.completed of pay attempt 1 in run \S+ does not carry that attempt's token/),
      expect.stringMatching(/task\.completed of prepare attempt 1 in run \S+ does not carry that attempt's token/),
    ]);
    const still = await c.runs.status(runId);
    expect(still!.status).toBe('WAITING');
    expect(still!.tasks.sign!.status).toBe('PENDING_APPROVAL');
    expect(still!.tasks.prepare!.output).toEqual({ ready: true });
    expect(still!.tasks.pay!.status).toBe('PENDING');
    expect(c.engines[0]!.stats.forged).toBe(2);

    // The real worker's outcome was stamped by the engine's clock: no event of the run is in the future.
    const events = await c.client.store.read(runId);
    expect(events.every((e) => Date.parse(e.time) <= Date.now())).toBe(true);
    // And it names who reported it: the NATS user the server let publish it, not a name of the body's.
    const prepared = events.find((e) => e.type === 'task.completed' && e.data.task === 'prepare');
    expect(prepared?.data).toMatchObject({ by: 'worker' });
    expect(prepared?.data).not.toHaveProperty('unauthenticated');
    expect(replayRun(events).divergence).toBeNull();
  }, 30_000);

  it("a worker cannot report under another user's name, nor on the subject without a sender", async () => {
    const js = jetstream(asWorker);
    const body = new TextEncoder().encode(JSON.stringify({ type: 'kick', runId: 'some-run' }));
    await expect(js.publish(subjects.input('engine', 'some-run'), body)).rejects.toThrow(
      /permission|timeout|no responders/i,
    );
    await expect(js.publish(subjects.input('alice', 'some-run'), body)).rejects.toThrow(
      /permission|timeout|no responders/i,
    );
    await expect(js.publish(subjects.report('engine', 'default', 'some-run'), body)).rejects.toThrow(
      /permission|timeout|no responders/i,
    );
    await expect(js.publish(subjects.report('alice', 'default', 'some-run'), body)).rejects.toThrow(
      /permission|timeout|no responders/i,
    );
    await expect(js.publish('lf.inputs.some-run', body)).rejects.toThrow(/permission|timeout|no responders/i);
  });

  it("a body claiming who reported it is not believed: the subject's sender is recorded", async () => {
    await c.stopWorker(c.workers[0]!);
    const { runId } = await c.client.start('forgery-gate', {});
    // No worker runs prepare now: take its attempt from the queue as a worker would, and report it with a body that claims to be alice.
    const { TaskMessage } = await import('../../src/cluster/transport/messages.js');
    const consumer = await jetstream(asWorker).consumers.get(
      taskStream('default').name,
      await import('../../src/cluster/transport/setup.js').then((m) =>
        m.ensureWorkerConsumer(jsm, 'default', 'prepare'),
      ),
    );
    const m = await waitFor(
      "prepare's attempt in the queue",
      async () => (await consumer.next({ expires: 1000 })) ?? undefined,
    );
    const task = TaskMessage.parse(JSON.parse(new TextDecoder().decode(m.data)));
    m.ack();
    const report = {
      type: 'task.completed',
      runId,
      time: new Date().toISOString(),
      token: task.token,
      data: { task: 'prepare', attempt: 1, output: { ready: true }, by: 'alice', unauthenticated: true },
    };
    await jetstream(asWorker).publish(
      subjects.report('worker', 'default', runId),
      new TextEncoder().encode(JSON.stringify(report)),
    );
    const events = await waitFor('prepare to complete', async () => {
      const evs = await c.client.store.read(runId);
      return evs.some((e) => e.type === 'task.completed') ? evs : undefined;
    });
    const completed = events.find((e) => e.type === 'task.completed')!;
    expect(completed.data).toMatchObject({ task: 'prepare', by: 'worker' });
    expect(completed.data).not.toHaveProperty('unauthenticated');
    // Back to a running worker for the tests after this one.
    await c.addWorker({ handlers });
  }, 30_000);

  it("a worker cannot publish timer messages, nor read the engines' secret", async () => {
    const js = jetstream(asWorker);
    await expect(js.publish(subjects.timer('some-run'), new TextEncoder().encode('{}'))).rejects.toThrow(
      /permission|timeout|no responders/i,
    );
    await expect(
      new Kvm(js).create(ENGINE_BUCKET, { bindOnly: true }).then((kv) => kv.get('attempt-secret')),
    ).rejects.toThrow();
  });

  it("a timer message never fires before the run's own record says the timer is due", async () => {
    const { runId } = await c.client.start('forgery-gate', {});
    expect((await c.runs.wait(runId, { orWaiting: true, timeoutMs: 15_000 })).status).toBe('WAITING');
    // Even from the engine user, a timer message claiming to be due now is held back to the recorded due time (1 h away).
    const early = { runId, task: 'sign', kind: 'approval_timeout', attempt: 1, dueAt: new Date().toISOString() };
    const before = c.engines[0]!.stats.commits;
    await jetstream(await c.connect()).publish(subjects.timer(runId), new TextEncoder().encode(JSON.stringify(early)));
    // The engine takes it, finds it early and puts it back: it is redelivered, not acknowledged.
    await waitFor('the early timer held back', async () => {
      const info = await jsm.consumers.info(STREAMS.timers.name, 'timers');
      return info.num_redelivered + info.num_ack_pending > 0 ? true : undefined;
    });
    const view = await c.runs.status(runId);
    expect(view!.tasks.sign!.status).toBe('PENDING_APPROVAL');
    expect(c.engines[0]!.stats.commits).toBe(before);
  }, 30_000);

  it("an approver repeating a refused decision cannot grow a run's log: one refusal per person and task, none in a settled run", async () => {
    await c.addWorker({ handlers });
    const { runId } = await c.client.start('forgery-gate', {});
    expect((await c.runs.wait(runId, { orWaiting: true, timeoutMs: 15_000 })).status).toBe('WAITING');
    const bob = await c.connect('bob');
    const flood = async (n: number) => {
      const before = c.engines[0]!.stats.refused;
      for (let i = 0; i < n; i++)
        bob.publish(
          subjects.approval(runId, 'sign', 'bob'),
          new TextEncoder().encode(JSON.stringify({ decision: 'approved', comment: 'x'.repeat(2000) })),
        );
      await bob.flush();
      await waitFor(`${n} refusals judged`, () => c.engines[0]!.stats.refused >= before + n, { timeout: 20_000 });
    };
    await flood(200);
    const refusals = (await c.client.store.read(runId)).filter((e) => e.type === 'approval.refused');
    expect(refusals.map((e) => e.data.by)).toEqual(['bob']);

    const alice = await c.connect('alice');
    alice.publish(
      subjects.approval(runId, 'sign', 'alice'),
      new TextEncoder().encode(JSON.stringify({ decision: 'approved' })),
    );
    expect((await c.runs.wait(runId, { timeoutMs: 15_000 })).status).toBe('COMPLETED');
    const settled = (await c.client.store.read(runId)).length;
    await flood(50);
    expect((await c.client.store.read(runId)).length).toBe(settled);
  }, 60_000);
});
