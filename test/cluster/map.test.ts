/** MAP over NATS: two engines share the run, a remote worker runs the items, never more than max_concurrency at once. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterClient, ClusterEngine, createWorker, type Worker } from '../../src/cluster/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';

const skipReason = inject('natsSkipReason');

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

describe.skipIf(!!skipReason)('MAP on NATS', () => {
  let server: NatsServer;
  let client: ClusterClient;
  const engines: ClusterEngine[] = [];
  const workers: Worker[] = [];
  let inFlight = 0;
  let most = 0;
  const calls: string[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    client = new ClusterClient(server.url);
    for (let i = 0; i < 2; i++) {
      const e = new ClusterEngine({ nats: server.url });
      await e.start();
      engines.push(e);
    }
    const w = createWorker({
      nats: server.url.replace('nats://', 'nats://worker:worker-dev-password@'),
      concurrency: 10,
      handlers: {
        scan_folder: async (i: Record<string, unknown>, ctx) => {
          calls.push(ctx.idempotencyKey);
          inFlight++;
          most = Math.max(most, inFlight);
          try {
            // Held until more items could have started, were the limit not kept.
            await new Promise((r) => setTimeout(r, 30));
            if (i.path === '/flaky' && ctx.attempt === 1) throw new Error('first try fails');
            return { path: i.path, at: i.at };
          } finally { inFlight--; }
        },
        total: async (i: Record<string, unknown>) => ({ n: (i.results as unknown[]).length }),
      },
    });
    await w.start();
    workers.push(w);
  }, 30_000);

  afterAll(async () => {
    for (const w of workers) await w.stop();
    for (const e of engines) await e.stop();
    await client?.close();
    await server?.dispose();
  });

  it('runs every item on a remote worker, never more than max_concurrency at once, retrying an item alone', async () => {
    await client.deploy(fan);
    const folders = Array.from({ length: 12 }, (_, i) => (i === 5 ? '/flaky' : `/f${i}`));
    const { runId } = await client.start('cluster-map', { folders });
    const done = await client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.total!.output).toEqual({ n: 12 });
    expect(done.tasks.scan_each!.output).toEqual({ results: folders.map((path, at) => ({ path, at })) });
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
    expect(calls.filter((k) => k.startsWith(`${runId}/scan_each[5]/`))).toEqual([`${runId}/scan_each[5]/1`, `${runId}/scan_each[5]/2`]);
    const events = await client.store.read(runId);
    expect(events.filter((e) => e.type === 'task.completed' && e.data.task === 'scan_each')).toHaveLength(12);
    expect(replayRun(events).divergence).toBeNull();
  }, 30_000);
});
