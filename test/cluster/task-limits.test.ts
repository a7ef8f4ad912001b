/**
 * Task concurrency and rate limits on NATS (docs/limits.md#task-concurrency-and-rate-limits,
 * docs/nats.md): the gate is a KV entry (LF_TASK_GATES) every engine changes by compare-and-set,
 * the waits durable messages any engine takes. Real nats-server, two engines, one worker that
 * would run eight attempts at once. The invariants are read from the runs' histories.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { untilAborted, waitFor } from '../helpers/wait.js';
import { mostAtOnce, mostStartsPer } from '../helpers/task-limits.js';

const limited = def(`
workflow:
  id: cluster-task-limited
  version: 1
  tasks:
    - id: push_contact
      type: SIMPLE
      concurrency: { limit: 2 }
`);

const held = def(`
workflow:
  id: cluster-task-held
  version: 1
  input:
    optional: [{ hold: false }]
  tasks:
    - id: hold_slot
      type: SIMPLE
      input: { hold: "\${workflow.input.hold}" }
      concurrency: { limit: 1 }
`);

const rated = def(`
workflow:
  id: cluster-task-rated
  version: 1
  input:
    required: [{ ids: { type: array } }]
  tasks:
    - id: each
      type: MAP
      items: "\${workflow.input.ids}"
      handler: push_contact
      max_concurrency: 15
      rate_limit: { limit: 5, per: 1s }
`);

describe.skipIf(noNats)('task concurrency and rate limits over NATS, two engines', () => {
  const c = useCluster({
    engines: 2,
    handlers: {
      push_contact: async () => {
        await sleep(400);
        return {};
      },
      // Holds its slot until the attempt is aborted (its run cancelled).
      hold_slot: async (i: Record<string, unknown>, ctx) => {
        if (i.hold === true) await untilAborted(ctx.signal);
        return {};
      },
    },
    worker: { concurrency: 8 },
    deploy: [limited, held, rated],
  });

  it('concurrency { limit: 2 }: six runs started at once never run more than two attempts at a time across the engines; waiting ones are SCHEDULED with what they wait for', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => c.client.start('cluster-task-limited', {})));
    await waitFor(
      'a run waiting for its slot',
      async () => {
        for (const r of runs)
          if ((await c.runs.status(r.runId))?.tasks.push_contact?.waitingFor === 'concurrency limit 2') return true;
        return false;
      },
      { timeout: 30_000, interval: 50 },
    );
    for (const r of runs)
      await waitFor(`run ${r.runId} to complete`, async () => (await c.runs.status(r.runId))?.status === 'COMPLETED', {
        timeout: 60_000,
      });
    const histories = await Promise.all(runs.map((r) => c.client.store.read(r.runId)));
    expect(mostAtOnce(histories, 'push_contact')).toBeLessThanOrEqual(2);
    for (const h of histories) expect(h.filter((e) => e.type === 'task.started')).toHaveLength(1);
  }, 120_000);

  it('the run holding the only slot is cancelled (from another client): the waiting run gets the slot and completes', async () => {
    const holder = await c.client.start('cluster-task-held', { hold: true });
    await waitFor(
      'the holder to run its attempt',
      async () => (await c.runs.status(holder.runId))?.tasks.hold_slot?.status === 'IN_PROGRESS',
      { timeout: 30_000 },
    );
    const waiter = await c.client.start('cluster-task-held', {});
    await waitFor(
      'the second run to wait for the slot',
      async () => (await c.runs.status(waiter.runId))?.tasks.hold_slot?.waitingFor === 'concurrency limit 1',
      { timeout: 30_000 },
    );
    expect(await c.clientAs('alice').cancel(holder.runId, { waitMs: 20_000 })).toMatchObject({
      recorded: true,
      status: 'CANCELLED',
    });
    await waitFor(
      'the waiting run to complete',
      async () => (await c.runs.status(waiter.runId))?.status === 'COMPLETED',
      { timeout: 60_000 },
    );
    expect(
      mostAtOnce([await c.client.store.read(holder.runId), await c.client.store.read(waiter.runId)], 'hold_slot'),
    ).toBe(1);
  }, 120_000);

  it('rate_limit { limit: 5, per: 1s } on a MAP, with one engine lost: 15 item attempts, no 1-second window holds more than 5 starts', async () => {
    const { runId } = await c.client.start('cluster-task-rated', { ids: Array.from({ length: 15 }, (_, i) => i) });
    await waitFor(
      'the first items to start',
      async () =>
        (await c.client.store.read(runId)).some((e) => e.type === 'task.started' && e.data.item !== undefined),
      { timeout: 30_000 },
    );
    // The waits are durable messages and the gate a KV entry: the other engine carries on.
    await c.stopEngine(c.engines[0]!);
    await waitFor('the run to complete', async () => (await c.runs.status(runId))?.status === 'COMPLETED', {
      timeout: 90_000,
    });
    const events = await c.client.store.read(runId);
    expect(events.filter((e) => e.type === 'task.started' && e.data.item !== undefined)).toHaveLength(15);
    expect(mostStartsPer(events, 'each', 1000, true)).toBeLessThanOrEqual(5);
  }, 150_000);
});
