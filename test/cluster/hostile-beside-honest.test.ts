/**
 * A hostile `worker` user beside an honest one, on a real nats-server: it
 * pre-claims the attempts of runs whose ids it can predict (event-started),
 * overwrites ledger keys it can learn, reports outcomes with made-up tokens,
 * writes dead letters aimed at approvals and control, and tries to take over
 * a queue it was not given. The runs it targets still complete, each handler
 * ran once per attempt, and no event in any log carries what it forged.
 */
import { describe, expect, it } from 'vitest';
import { runIdForEvent } from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { FORGED_MARK, forgedRecords, startHostileWorker } from '../helpers/hostile-worker.js';
import { noNats, useCluster } from '../helpers/cluster.js';
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

describe.skipIf(noNats)('a hostile worker beside an honest one', () => {
  const calls = new Map<string, number>();
  const handler = (name: string) => async (_input: unknown, ctx: { runId: string; attempt: number }) => {
    const key = `${ctx.runId}/${name}/${ctx.attempt}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    return { done: name };
  };
  const c = useCluster({
    engines: 1,
    deploy: [targeted],
    handlers: Object.fromEntries(TASKS.map((t) => [t, handler(t)])) as never,
  });

  it('strands no run and forges no record: the runs it targets complete, each attempt ran once', async () => {
    const eventIds = Array.from({ length: 6 }, (_, i) => `lead-${i}-${Date.now()}`);
    const runIds = eventIds.map((id) => runIdForEvent(id, 'hostile-target'));
    const hostile = await startHostileWorker({
      url: c.as('worker'),
      targets: () => runIds,
      tasks: TASKS,
      queues: ['vault'],
      everyMs: 50,
    });
    c.defer(() => hostile.stop());
    // Its pre-claims are in before any of these runs exists: the ids of event-started runs are predictable.
    await waitFor(
      'the hostile worker has pre-claimed every target',
      () => (hostile.report.rounds >= 1 ? hostile.report : null),
      { timeout: 30_000 },
    );
    for (const [i, id] of eventIds.entries())
      await c.client.emit(
        { id, type: 'hostile_lead', source: 'test', time: new Date().toISOString(), data: { lead: `L${i}` } },
        { waitMs: 0 },
      );

    for (const runId of runIds) {
      const st = await waitFor(
        `run ${runId} settled`,
        async () => {
          const events = await c.client.store.read(runId);
          const status = events.at(-1)?.state.status;
          return status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED' ? status : null;
        },
        { timeout: 30_000, interval: 200, detail: () => `hostile report: ${JSON.stringify(hostile.report.attacks)}` },
      );
      expect(st, `run ${runId}`).toBe('COMPLETED');
    }
    const report = await hostile.stop();
    for (const runId of runIds) {
      const events = await c.client.store.read(runId);
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
