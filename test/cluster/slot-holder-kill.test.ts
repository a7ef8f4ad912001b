/**
 * A task's concurrency slot survives the loss of the worker running its holder
 * (docs/limits.md#task-concurrency-and-rate-limits: "A slot is never lost"):
 * the worker running the only slot's attempt is SIGKILLed, another worker runs
 * that attempt again under the same slot (task.restarted, no retry used), and
 * the run waiting for the slot starts only once the holder's attempt completed.
 * Engine and workers are OS processes of the built CLI on a real nats-server.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { noNats } from '../helpers/cluster.js';
import { HANDLERS, readMarkers } from '../helpers/cluster-run.js';
import { deploy, startChaosCluster } from '../helpers/chaos-cluster.js';
import { mostAtOnce } from '../helpers/task-limits.js';
import { waitFor } from '../helpers/wait.js';

const SLOT = join(ROOT, 'test', 'fixtures', 'cluster-slot.yaml');

describe.skipIf(noNats)("a task concurrency slot when its holder's worker is killed", () => {
  it('kill -9 of the worker running the only slot: the attempt runs again under that slot, and the waiting run starts after it completed', async () => {
    const c = await startChaosCluster();
    await deploy(c, SLOT);
    await c.launch('engine', ['--nats', c.url, 'engine'], { LEDGERFLOW_NATS_TASK_ACK_WAIT: '2s' });
    const workerArgs = [
      '--nats',
      c.as('worker'),
      'worker',
      '--handlers',
      HANDLERS,
      '--ack-wait',
      '2s',
      '--concurrency',
      '4',
    ];
    const a = await c.launch('worker-a', workerArgs);

    const holder = await c.client.start('cluster-slot', { ms: 2500 });
    await waitFor(
      'the holder running in worker A',
      () => readMarkers(c.markers).some((m) => m.runId === holder.runId && m.what === 'start' && m.pid === a.pid),
      { timeout: 20_000, detail: c.logs },
    );
    const waiter = await c.client.start('cluster-slot', { ms: 100 });
    await waitFor(
      'the second run to wait for the slot',
      async () => (await c.runs.status(waiter.runId))?.tasks.hold?.waitingFor === 'concurrency limit 1',
      { timeout: 20_000, detail: c.logs },
    );

    await a.kill('SIGKILL');
    const b = await c.launch('worker-b', workerArgs);

    for (const r of [holder, waiter]) {
      const view = await c.runs.wait(r.runId, { timeoutMs: 60_000 });
      expect(view.status, c.logs()).toBe('COMPLETED');
      expect(view.tasks.hold).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    }
    const [h, w] = await Promise.all([c.client.store.read(holder.runId), c.client.store.read(waiter.runId)]);
    // The holder's attempt was reported lost and run again by B as the same attempt: no retry, no second task.started.
    expect(h.filter((e) => e.type === 'task.restarted').map((e) => e.data)).toEqual([
      expect.objectContaining({ task: 'hold', attempt: 1, restart: 1, reason: 'worker_lost' }),
    ]);
    expect(h.filter((e) => e.type === 'task.started')).toHaveLength(1);
    // Never two attempts of `hold` at once, counted from the histories: the waiter started after the holder completed.
    expect(mostAtOnce([h, w], 'hold')).toBe(1);
    const holderDone = Date.parse(h.find((e) => e.type === 'task.completed')!.time);
    const waiterStart = Date.parse(w.find((e) => e.type === 'task.started')!.time);
    expect(waiterStart).toBeGreaterThanOrEqual(holderDone);
    // B ran both: the holder's attempt again, then the waiter's.
    const byB = readMarkers(c.markers)
      .filter((m) => m.pid === b.pid && m.what === 'start')
      .map((m) => m.runId);
    expect(byB).toEqual([holder.runId, waiter.runId]);
  }, 120_000);
});
