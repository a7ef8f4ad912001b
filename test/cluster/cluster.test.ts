import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterClient, ClusterEngine, createWorker, type Worker } from '../../src/cluster/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';

const skipReason = inject('natsSkipReason');
let serverUrl = '';
/** A URL that connects as one of nats.conf's users. */
const as = (user: string) => serverUrl.replace('nats://', `nats://${user}:${user}-dev-password@`);

const threeSteps = def(`
workflow:
  id: cluster-three
  name: Three steps
  version: 1
  input:
    required: [n]
  tasks:
    - { id: double, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
    - { id: flaky, type: SIMPLE, depends_on: [double], input: { n: "\${double.output.n}" }, retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 200ms } }
    - { id: sign, type: HUMAN, depends_on: [flaky], approvers: [alice] }
    - { id: report, type: SIMPLE, depends_on: [sign], input: { n: "\${flaky.output.n}" } }
`);

describe.skipIf(!!skipReason)('engines and workers sharing runs over NATS', () => {
  let server: NatsServer;
  let client: ClusterClient;
  const engines: ClusterEngine[] = [];
  const workers: Worker[] = [];
  const calls: string[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    serverUrl = server.url;
    client = new ClusterClient(server.url);
    for (let i = 0; i < 2; i++) {
      const e = new ClusterEngine({ nats: server.url });
      await e.start();
      engines.push(e);
    }
    // The worker connects as the restricted `worker` NATS user of nats.conf.
    const w = createWorker({
      nats: as('worker'),
      handlers: {
        double: async (i: Record<string, unknown>) => ({ n: Number(i.n) * 2 }),
        flaky: async (i: Record<string, unknown>, ctx) => { calls.push(`flaky:${ctx.idempotencyKey}`); if (ctx.attempt === 1) throw new Error('first try fails'); return { n: Number(i.n) + 1 }; },
        report: async (i: Record<string, unknown>) => ({ final: i.n }),
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

  it('deploys once, starts a run, retries over a durable timer, waits for an approval over NATS and completes', async () => {
    expect((await client.deploy(threeSteps)).changed).toBe(true);
    expect((await client.deploy(threeSteps)).changed).toBe(false);
    const { runId } = await client.start('cluster-three', { n: 5 });
    const waiting = await client.wait(runId, { orWaiting: true, timeoutMs: 10_000 });
    expect(waiting.status).toBe('WAITING');
    expect(waiting.tasks.flaky).toMatchObject({ status: 'COMPLETED', attempts: 2 });

    // bob is a NATS user but not an approver of `sign`: refused, and recorded.
    await new ClusterClient(as('bob')).decide(runId, 'sign', 'bob', 'approved');
    // alice cannot pass herself off as someone else: the server refuses the subject.
    await expect(new ClusterClient(as('alice')).decide(runId, 'sign', 'cfo', 'approved')).rejects.toThrow(/may not publish approvals under that name/);
    await new ClusterClient(as('alice')).decide(runId, 'sign', 'alice', 'approved', 'ok');
    const done = await client.wait(runId, { timeoutMs: 10_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.report!.output).toEqual({ final: 11 });
    const events = await client.store.read(runId);
    expect(events.filter((e) => e.type === 'approval.refused').map((e) => e.data)).toEqual([
      expect.objectContaining({ by: 'bob', reason: expect.stringContaining('bob is not an approver') }),
    ]);
    expect(replayRun(events).divergence).toBeNull();
  }, 30_000);
});
