/**
 * A hostile `worker` user beside an honest one, on a real nats-server: it
 * pre-claims the attempts of runs whose ids it can predict (event-started),
 * overwrites ledger keys it can learn, reports outcomes with made-up tokens,
 * writes dead letters aimed at approvals and control, and tries to take over
 * a queue it was not given. The runs it targets still complete, each handler
 * ran once per attempt, and no event in any log carries what it forged.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterClient, ClusterEngine, createWorker, type Worker } from '../../src/cluster/index.js';
import { runIdForEvent } from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { FORGED_MARK, forgedRecords, startHostileWorker, type HostileWorker } from '../helpers/hostile-worker.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

const TASKS = ['fetch', 'score', 'notify'];
const targeted = def(`
workflow:
  id: hostile-target
  version: 1
  triggers:
    - event: hostile_lead
      input: { lead: "\${event.data.lead}" }
  input:
    required: [lead]
  tasks:
    - { id: fetch, type: SIMPLE }
    - { id: score, type: SIMPLE, depends_on: [fetch] }
    - { id: notify, type: SIMPLE, depends_on: [score] }
`);

describe.skipIf(!!inject('natsSkipReason'))('a hostile worker beside an honest one', () => {
  let server: NatsServer;
  let engine: ClusterEngine;
  let worker: Worker;
  let client: ClusterClient;
  let hostile: HostileWorker | undefined;
  const asWorker = () => server.url.replace('nats://', 'nats://worker:worker-dev-password@');
  const calls = new Map<string, number>();
  const handler = (name: string) => async (_input: unknown, ctx: { runId: string; attempt: number }) => {
    const key = `${ctx.runId}/${name}/${ctx.attempt}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    return { done: name };
  };

  beforeAll(async () => {
    server = await startNatsServer();
    engine = new ClusterEngine({ nats: server.url });
    await engine.start();
    client = new ClusterClient(server.url);
    await client.deploy(targeted);
    worker = createWorker({ nats: asWorker(), handlers: Object.fromEntries(TASKS.map((t) => [t, handler(t)])) as never });
    await worker.start();
  }, 60_000);

  afterAll(async () => {
    await hostile?.stop();
    await worker?.stop();
    await client?.close();
    await engine?.stop();
    await server?.dispose();
  });

  it('strands no run and forges no record: the runs it targets complete, each attempt ran once', async () => {
    const eventIds = Array.from({ length: 6 }, (_, i) => `lead-${i}-${Date.now()}`);
    const runIds = eventIds.map((id) => runIdForEvent(id, 'hostile-target'));
    hostile = await startHostileWorker({ url: asWorker(), targets: () => runIds, tasks: TASKS, queues: ['vault'], everyMs: 50 });
    // Its pre-claims are in before any of these runs exists: the ids of event-started runs are predictable.
    await waitFor('the hostile worker has pre-claimed every target', () => (hostile!.report.rounds >= 1 ? hostile!.report : null), { timeout: 30_000 });
    for (const [i, id] of eventIds.entries()) await client.emit({ id, type: 'hostile_lead', source: 'test', time: new Date().toISOString(), data: { lead: `L${i}` } }, { waitMs: 0 });

    for (const runId of runIds) {
      const st = await waitFor(`run ${runId} settled`, async () => {
        const events = await client.store.read(runId);
        const status = events.at(-1)?.state.status;
        return status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED' ? status : null;
      }, { timeout: 30_000, interval: 200, detail: () => `hostile report: ${JSON.stringify(hostile?.report.attacks)}` });
      expect(st, `run ${runId}`).toBe('COMPLETED');
    }
    const report = await hostile.stop();
    hostile = undefined;
    for (const runId of runIds) {
      const events = await client.store.read(runId);
      expect(forgedRecords(events), `run ${runId}`).toEqual([]);
      for (const task of TASKS) expect(calls.get(`${runId}/${task}/1`), `${runId}/${task}`).toBe(1);
    }
    // What it could not do at all, nats.conf refused; what the server stored, the engine refused.
    expect(report.attacks['consumer.take-queue']?.accepted ?? 0).toBe(0);
    expect(report.attacks['queue.pull-other']?.refused).toBe(report.attacks['queue.pull-other']?.tries);
    // Some attacks get past the server (what nats.conf lets a worker publish): the engine's checks refused those.
    expect(report.attacks['input.forged-outcome']?.accepted).toBeGreaterThan(0);
    expect(report.attacks['ledger.preclaim-finished']?.accepted).toBeGreaterThan(0);
    expect(JSON.stringify(report)).not.toContain(FORGED_MARK);
  }, 120_000);
});
