/**
 * Notifications on NATS JetStream (real nats-server): the engine that commits
 * a run's COMPLETED publishes on lf.notify.<workflow>.COMPLETED with the
 * notification's id as Nats-Msg-Id, a subscriber receives it, and the run's
 * history notes it; a webhook that refuses (HTTP 400, not worth another try)
 * is dead-lettered on lf.dlq.notifications and noted as such.
 */
import { createServer, type Server } from 'node:http';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterQueue } from '../../src/cluster/index.js';
import { DEFAULT_DELIVERY, NotificationBodySchema, webhookKey } from '../../src/notify/index.js';
import { createMetrics, type LedgerflowMetrics } from '../../src/metrics/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

const workflow = def(`
workflow:
  id: notify-nats
  notifications:
    - on: COMPLETED
      nats: true
  tasks:
    - { id: pause, type: WAIT, duration: 10ms }
`);

/** Waits for a sign-off and a signal from its start (recorded by the client: the engine delivers what the history owes). */
const gated = def(`
workflow:
  id: notify-nats-waiting
  notifications:
    - on: WAITING
      nats: true
  tasks:
    - { id: sign_off, type: HUMAN, approvers: [alice] }
    - { id: hold, type: WAIT, event: dock_ready }
`);

describe.skipIf(noNats)('notifications over NATS', () => {
  const c = useCluster();
  let http: Server;
  let hook = '';
  let nc: NatsConnection;
  let metrics: LedgerflowMetrics;
  const heard: Msg[] = [];

  beforeAll(async () => {
    http = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400).end('no such hook'));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    c.defer(() => new Promise((r) => http.close(r)));
    const addr = http.address();
    hook = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/gone`;
    nc = await c.connect();
    const sub = nc.subscribe('lf.notify.>');
    void (async () => {
      for await (const m of sub) heard.push(m);
    })();
    metrics = createMetrics();
    // A global rule besides the definition's: every run's COMPLETED also goes to a webhook that refuses it.
    await c.addEngine({
      schedules: false,
      notifications: {
        rules: [{ on: ['COMPLETED'], nats: false, webhook: hook }],
        delivery: { ...DEFAULT_DELIVERY, attempts: 3, backoffMs: 20, timeoutMs: 2000 },
      },
      ...metrics.hooks,
    });
  });

  it('publishes COMPLETED on lf.notify.<workflow>.COMPLETED (msg id = its id), notes it, and dead-letters a refusing webhook', async () => {
    await c.client.deploy(workflow);
    const { runId } = await c.client.start('notify-nats', {});
    expect((await c.runs.wait(runId, { timeoutMs: 15_000 })).status).toBe('COMPLETED');
    const events = await waitFor(
      'both notes',
      async () => {
        const all = await c.client.store.read(runId);
        return all.filter((e) => e.type.startsWith('notification.')).length === 2 ? all : null;
      },
      { timeout: 15_000 },
    );
    const completed = events.find((e) => e.state.status === 'COMPLETED')!;
    const id = `${runId}/${completed.seq}/COMPLETED`;
    const msg = heard.find((m) => m.headers?.get('Nats-Msg-Id') === id);
    expect(msg?.subject).toBe('lf.notify.notify-nats.COMPLETED');
    expect(NotificationBodySchema.parse(msg!.json())).toEqual({
      id,
      runId,
      workflowId: 'notify-nats',
      version: 1,
      status: 'COMPLETED',
      seq: completed.seq,
      time: completed.time,
    });
    const notes = events.filter((e) => e.type.startsWith('notification.'));
    expect(notes.map((e) => [e.type, e.data])).toEqual(
      expect.arrayContaining([
        [
          'notification.sent',
          expect.objectContaining({ id, target: 'nats:lf.notify.notify-nats.COMPLETED', attempts: 1 }),
        ],
        // 400 will not change with another try: given up at once.
        [
          'notification.dead_lettered',
          expect.objectContaining({ id, target: webhookKey(hook), attempts: 1, error: 'HTTP 400 Bad Request' }),
        ],
      ]),
    );
    expect(replayRun(events).divergence).toBeNull();
    const summary = (await c.client.store.listRuns()).find((r) => r.runId === runId);
    expect(summary?.completedAt).toBe(completed.time);
    const letters = await new DeadLetterQueue(await jetstreamManager(nc), jetstream(nc)).list('notifications');
    expect(letters).toHaveLength(1);
    expect(letters[0]!.letter).toMatchObject({ runId, stage: 'notification' });
    expect(letters[0]!.letter!.reason).toMatch(/HTTP 400/);
    expect(letters[0]!.replayable).toBe(false);
    // The engine's metrics count both deliveries from the notes it appended.
    const text = await metrics.text();
    expect(text).toContain('ledgerflow_notifications_total{workflow="notify-nats",on="COMPLETED",outcome="sent"} 1');
    expect(text).toContain(
      'ledgerflow_notifications_total{workflow="notify-nats",on="COMPLETED",outcome="dead_lettered"} 1',
    );
  }, 60_000);

  it('a WAITING message names the tasks waiting and for whom: the approvers of a HUMAN task, the signal of a WAIT', async () => {
    await c.client.deploy(gated);
    const { runId } = await c.client.start('notify-nats-waiting', {});
    expect((await c.runs.wait(runId, { timeoutMs: 15_000, orWaiting: true })).status).toBe('WAITING');
    const msg = await waitFor(
      'the WAITING message',
      () => heard.find((m) => m.subject === 'lf.notify.notify-nats-waiting.WAITING'),
      { timeout: 15_000 },
    );
    expect(NotificationBodySchema.parse(msg.json())).toMatchObject({
      runId,
      status: 'WAITING',
      waiting: [
        { task: 'sign_off', approvers: ['alice'] },
        { task: 'hold', signal: 'dock_ready' },
      ],
    });
  }, 30_000);
});
