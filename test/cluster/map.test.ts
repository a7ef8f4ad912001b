/** MAP over NATS: two engines share the run, a remote worker runs the items, never more than max_concurrency at once. */
import { describe, expect, it } from 'vitest';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { gate } from '../helpers/wait.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const fan = def(`
workflow:
  id: cluster-map
  name: Map over NATS
  version: 1
  input:
    required: [folders]
  tasks:
    - id: scan_each
      type: MAP
      items: "\${workflow.input.folders}"
      handler: scan_folder
      input: { path: "\${item}", at: "\${index}" }
      max_concurrency: 3
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 100ms }
    - id: total
      type: SIMPLE
      depends_on: [scan_each]
      input: { results: "\${scan_each.output.results}" }
`);

describe.skipIf(noNats)('MAP on NATS', () => {
  let inFlight = 0;
  let most = 0;
  const calls: string[] = [];
  const threeInFlight = gate();
  const c = useCluster({
    engines: 2,
    worker: { concurrency: 10 },
    handlers: {
      scan_folder: async (i: Record<string, unknown>, ctx) => {
        calls.push(ctx.idempotencyKey);
        inFlight++;
        most = Math.max(most, inFlight);
        if (inFlight === 3) threeInFlight.open();
        try {
          // The first items are held until the limit is reached, so that the run really has items side by side.
          await threeInFlight.opened;
          if (i.path === '/flaky' && ctx.attempt === 1) throw new Error('first try fails');
          return { path: i.path, at: i.at };
        } finally { inFlight--; }
      },
      total: async (i: Record<string, unknown>) => ({ n: (i.results as unknown[]).length }),
    },
  });

  it('runs every item on a remote worker, never more than max_concurrency at once, retrying an item alone', async () => {
    await c.client.deploy(fan);
    const folders = Array.from({ length: 12 }, (_, i) => (i === 5 ? '/flaky' : `/f${i}`));
    const { runId } = await c.client.start('cluster-map', { folders });
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.total!.output).toEqual({ n: 12 });
    expect(done.tasks.scan_each!.output).toEqual({ results: folders.map((path, at) => ({ path, at })) });
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
    expect(calls.filter((k) => k.startsWith(`${runId}/scan_each[5]/`))).toEqual([`${runId}/scan_each[5]/1`, `${runId}/scan_each[5]/2`]);
    const events = await c.client.store.read(runId);
    expect(events.filter((e) => e.type === 'task.completed' && e.data.task === 'scan_each')).toHaveLength(12);
    expect(replayRun(events).divergence).toBeNull();
  }, 30_000);
});
