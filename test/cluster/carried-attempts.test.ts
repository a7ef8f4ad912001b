/**
 * A run's next attempt handed over in the answer to a worker's report
 * (docs/nats.md, "The next attempt comes back with the answer"): a worker
 * that finishes an attempt says which handlers it takes next (header
 * Lf-Takes), and the engine that records the outcome answers with the run's
 * next attempt for one of them, signed as an offer, instead of offering it to
 * any worker. On the production nats.conf:
 *
 * - a chain on one worker is offered once (its first step), every later step
 *   comes back with the answer, and the run completes as before;
 * - a worker that does not serve the next step's handler gets a plain answer,
 *   and the step is offered to the worker that does;
 * - an attempt handed over that way and never run (its worker gone before it
 *   started it) is queued once its engine stops hearing of it, and runs
 *   elsewhere, once;
 * - the attempt in the answer is sealed for the reporting worker's session
 *   (Lf-Session, Lf-Attempt-Mac), not signed: that worker's seal verifies,
 *   another worker's does not.
 */
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { headers } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { subjects } from '../../src/cluster/index.js';
import { offerGroup } from '../../src/cluster/transport/subjects.js';
import { TaskMessage } from '../../src/cluster/transport/messages.js';
import { REPORT_RECORDED_HEADER, TAKES_NEXT_HEADER } from '../../src/cluster/transport/report-headers.js';
import { ATTEMPT_SIG_HEADER, AttemptVerifier } from '../../src/cluster/transport/attempt-keys.js';
import { ATTEMPT_MAC_HEADER, SESSION_HEADER } from '../../src/cluster/transport/attempt-sessions.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const chain = def(`
workflow:
  id: carried-chain
  name: Three steps on one worker
  version: 1
  tasks:
    - { id: first, type: SIMPLE }
    - { id: second, type: SIMPLE, depends_on: [first] }
    - { id: third, type: SIMPLE, depends_on: [second] }
`);
const handlers = {
  first: async () => ({ one: 1 }),
  second: async () => ({ two: 2 }),
  third: async () => ({ three: 3 }),
};

describe.skipIf(noNats)('the next attempt handed over in the answer to a report', () => {
  const c = useCluster({
    engines: 1,
    production: true,
    deploy: [chain],
    engine: { settings: { taskAckWaitMs: 1500 } },
  });

  /** Counts offers (lf.offer.>) while `body` runs. */
  const offersDuring = async (body: () => Promise<void>): Promise<number> => {
    const admin: NatsConnection = await c.connect();
    let offers = 0;
    const sub = admin.subscribe('lf.offer.>', {
      callback: () => {
        offers++;
      },
    });
    await admin.flush();
    try {
      await body();
      await admin.flush();
    } finally {
      sub.unsubscribe();
    }
    return offers;
  };

  /**
   * As a worker would by hand (no worker runs yet): takes first's offer of a new run, then reports it asking
   * for `second` in the answer (with `session`, the worker's session key); the run and that answer.
   */
  const firstReportedByHand = async (
    asWorker: NatsConnection,
    session?: string,
  ): Promise<{ runId: string; answer: Msg }> => {
    let offered: TaskMessage | undefined;
    const sub = asWorker.subscribe(subjects.offer('default', 'first'), {
      queue: offerGroup('default'),
      callback: (_e, o) => {
        offered = TaskMessage.parse(JSON.parse(new TextDecoder().decode(o.data)));
        o.respond(new TextEncoder().encode(JSON.stringify({ taken: true })));
      },
    });
    await asWorker.flush();
    const { runId } = await c.client.start('carried-chain', {});
    const task = await waitFor('first to be offered', () => offered);
    sub.unsubscribe();
    const h = headers();
    h.set(TAKES_NEXT_HEADER, 'second');
    if (session) h.set(SESSION_HEADER, session);
    const outcome = {
      type: 'task.completed',
      runId,
      time: new Date().toISOString(),
      token: task.token,
      data: { task: 'first', attempt: 1, output: { one: 1 } },
    };
    const answer: Msg = await asWorker.request(
      subjects.directReport('worker', 'default', runId, task.reportTo),
      new TextEncoder().encode(JSON.stringify(outcome)),
      { timeout: 5000, headers: h },
    );
    return { runId, answer };
  };

  it('a chain on one worker is offered once; each next step comes back with the answer', async () => {
    const worker = await c.addWorker({ handlers });
    const engine = c.engines[0]!;
    const carriedBefore = engine.stats.carried;
    const requeuedBefore = engine.stats.requeued;
    try {
      const offers = await offersDuring(async () => {
        const { runId } = await c.client.start('carried-chain', {});
        const done = await c.runs.wait(runId, { timeoutMs: 20_000 });
        expect(done.status).toBe('COMPLETED');
        const events = await c.client.store.read(runId);
        expect(events.filter((e) => e.type === 'task.completed').map((e) => e.data.task)).toEqual([
          'first',
          'second',
          'third',
        ]);
      });
      expect(offers).toBe(1);
      expect(engine.stats.carried - carriedBefore).toBe(2);
      // Each carried attempt verified and ran at once: none waited out its lease to be queued and restarted.
      expect(engine.stats.requeued - requeuedBefore).toBe(0);
    } finally {
      await c.stopWorker(worker);
    }
  }, 30_000);

  it("a worker without the next step's handler gets a plain answer: the step is offered to the one that has it", async () => {
    const engine = c.engines[0]!;
    const carriedBefore = engine.stats.carried;
    const w1 = await c.addWorker({ handlers: { first: handlers.first, third: handlers.third } });
    const w2 = await c.addWorker({ handlers: { second: handlers.second } });
    try {
      const offers = await offersDuring(async () => {
        const { runId } = await c.client.start('carried-chain', {});
        expect((await c.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe('COMPLETED');
      });
      // first offered to w1, second to w2 (w1 does not serve it), third to w1 (w2 does not serve it).
      expect(offers).toBe(3);
      expect(engine.stats.carried - carriedBefore).toBe(0);
    } finally {
      await c.stopWorker(w1);
      await c.stopWorker(w2);
    }
  }, 30_000);

  it("the attempt in the answer is sealed for the reporting worker's session: its seal verifies there, not for another worker", async () => {
    const asWorker: NatsConnection = await c.connect('worker');
    // The engines' keys as a worker reads them (nats.conf: LF_KEYS attempts and attempts-exchange, by key).
    const open = () => AttemptVerifier.open(asWorker, { stopped: () => false, log: () => {} });
    const [mine, another] = [(await open())!, (await open())!];
    expect(mine.session).not.toBeNull();
    const { runId, answer } = await firstReportedByHand(asWorker, mine.session!.header);
    expect(answer.headers?.get(REPORT_RECORDED_HEADER)).toBe('1');
    expect(answer.headers?.get(ATTEMPT_SIG_HEADER)).toBe('');
    expect(answer.headers?.get(ATTEMPT_MAC_HEADER)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mine.verify(answer.data, answer.headers)).toBe(true);
    expect(another.verify(answer.data, answer.headers)).toBe(false);
    // Run it as that worker would, so the run goes on: second's outcome, then third from a worker.
    const second = TaskMessage.parse(JSON.parse(new TextDecoder().decode(answer.data)));
    const out2 = {
      type: 'task.completed',
      runId,
      time: new Date().toISOString(),
      token: second.token,
      data: { task: 'second', attempt: 1, output: { two: 2 } },
    };
    await asWorker.request(
      subjects.directReport('worker', 'default', runId, second.reportTo),
      new TextEncoder().encode(JSON.stringify(out2)),
      { timeout: 5000 },
    );
    const worker = await c.addWorker({ handlers });
    try {
      expect((await c.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe('COMPLETED');
    } finally {
      await c.stopWorker(worker);
    }
  }, 30_000);

  it('an attempt handed over in an answer and never run is queued once its engine stops hearing of it, and runs elsewhere once', async () => {
    const asWorker: NatsConnection = await c.connect('worker');
    // No worker runs yet: take first's offer as a worker would, then report it asking for `second`.
    const { runId, answer } = await firstReportedByHand(asWorker);
    expect(answer.headers?.get(REPORT_RECORDED_HEADER)).toBe('1');
    const carried = TaskMessage.parse(JSON.parse(new TextDecoder().decode(answer.data)));
    expect(carried).toMatchObject({ runId, taskId: 'second', handler: 'second', attempt: 1 });
    expect(typeof carried.reportTo).toBe('string');
    // That worker is gone: nothing heartbeats the attempt. A worker started now gets it from the queue after the lease.
    const ran: string[] = [];
    const worker = await c.addWorker({
      handlers: {
        ...handlers,
        second: async () => {
          ran.push('second');
          return { two: 2 };
        },
      },
    });
    try {
      expect((await c.runs.wait(runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
      expect(ran).toEqual(['second']);
      const events = await c.client.store.read(runId);
      expect(events.filter((e) => e.type === 'task.completed').map((e) => e.data.task)).toEqual([
        'first',
        'second',
        'third',
      ]);
      // As for any worker lost before it claimed an attempt (docs/nats.md): recorded as a restart of it.
      expect(events.filter((e) => e.type === 'task.restarted').map((e) => e.data.task)).toEqual(['second']);
    } finally {
      await c.stopWorker(worker);
    }
  }, 45_000);
});
