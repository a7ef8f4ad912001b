/**
 * A worker's outcome carries a token only an engine hands out, for an attempt
 * of a run it had read: if the run then reads as empty (a node lost or still
 * catching up), the read failed, and the outcome must be tried again, not
 * dead-lettered at once as "run does not exist" (which left runs stuck on a
 * 3-node cluster under `npm run chaos`). Bounded like every retry: a run that
 * is really gone is dead-lettered after maxDeliver deliveries.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { subjects, taskStream } from '../../src/cluster/index.js';
import { TaskMessage } from '../../src/cluster/transport/messages.js';
import { ensureWorkerConsumer } from '../../src/cluster/transport/setup.js';
import { def } from '../helpers/engine.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

const one = def(`
workflow:
  id: empty-read
  name: One task
  version: 1
  tasks:
    - { id: export, type: SIMPLE }
`);

describe.skipIf(noNats)('an outcome for a run that reads as empty', () => {
  const settings = { maxDeliver: 3, firstRetryMs: 100, maxRetryMs: 400 };
  const c = useCluster({ engines: 1, engine: { settings }, deploy: [one] });
  beforeAll(async () => {
    await ensureWorkerConsumer(await c.jsm(), 'default', 'export');
  });

  it('is tried again (the read failed), and dead-lettered only at the delivery bound', async () => {
    const { runId } = await c.client.start('empty-read', {});
    const asWorker = await c.connect('worker');
    const consumer = await jetstream(asWorker).consumers.get(taskStream('default').name, 'w_default_export');
    const m = await waitFor(
      'the attempt in the queue',
      async () => (await consumer.next({ expires: 1000 })) ?? undefined,
    );
    m.ack();
    const task = TaskMessage.parse(JSON.parse(new TextDecoder().decode(m.data)));
    // The run's log reads as empty from now on, to an engine that has not cached it.
    await c.stopEngine(c.engines[0]!);
    const jsm = await jetstreamManager(await c.client.store.connection());
    await jsm.streams.purge('LF_EVENTS', { filter: `lf.events.empty-read.${runId}` });
    const done = {
      type: 'task.completed',
      runId,
      time: new Date().toISOString(),
      token: task.token,
      data: { task: 'export', attempt: 1, output: {} },
    };
    await jetstream(asWorker).publish(
      subjects.report('worker', 'default', runId),
      new TextEncoder().encode(JSON.stringify(done)),
    );
    const engine = await c.addEngine();
    const [letter] = await waitFor(
      'the outcome in lf.dlq.inputs',
      async () => {
        const l = (await deadLetters(jsm, 'inputs')).filter((d) => String(d.reason).includes(runId));
        return l.length > 0 ? l : undefined;
      },
      { timeout: 15_000 },
    );
    expect(letter).toMatchObject({
      source: { deliveries: 3 },
      reason: expect.stringMatching(/reads as empty, yet task\.completed of export carries a valid attempt token/),
    });
    expect(engine.stats.retries).toBe(2);
  }, 30_000);
});
