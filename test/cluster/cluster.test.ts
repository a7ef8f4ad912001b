import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterClient, ClusterEngine, createWorker, type Worker } from '../../src/cluster/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

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
      expect.objectContaining({ by: 'bob', reason: expect.stringContaining('bob may not decide task sign') }),
    ]);
    expect(replayRun(events).divergence).toBeNull();
  }, 30_000);

  it('a HUMAN task that waits from the start of a run gets its deadline armed (the start commit is the client\'s, not an engine\'s)', async () => {
    const gate = def(`
workflow:
  id: cluster-gate-first
  name: Gate first
  version: 1
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice], timeout: 300ms, on_timeout: skip }
    - { id: report, type: SIMPLE, depends_on: [sign], trigger_rule: all_done }
`);
    await client.deploy(gate);
    const { runId } = await client.start('cluster-gate-first', {});
    // Nobody decides: the deadline fires, the task is skipped, and the run goes on to the end.
    const done = await client.wait(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.sign).toMatchObject({ status: 'SKIPPED' });
    const events = await client.store.read(runId);
    expect(events.map((e) => e.type)).toContain('timer.fired');
    expect(replayRun(events).divergence).toBeNull();
  }, 30_000);

  it('a run the fold cannot continue fails with the error on NATS, and the engines go on with other runs', async () => {
    const plain = def(`
workflow:
  id: cluster-unrunnable
  name: Unrunnable
  version: 1
  tasks:
    - { id: double, type: SIMPLE, input: { n: 1 } }
`);
    // A timeout no date can hold, as a validation bug would let through.
    const broken = { ...plain, tasks: plain.tasks.map((t) => ({ ...t, timeoutMs: 1e300 })) } as typeof plain;
    await client.deploy(broken);
    const { runId } = await client.start('cluster-unrunnable', {});
    const failed = await client.wait(runId, { timeoutMs: 15_000 });
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ code: 'LF_RUN_ERROR', message: expect.stringMatching(/task\.started of task double/) });
    expect(replayRun(await client.store.read(runId)).divergence).toBeNull();
    // The engines are still serving: another run completes.
    const { runId: next } = await client.start('cluster-three', { n: 1 });
    expect((await client.wait(next, { orWaiting: true, timeoutMs: 15_000 })).status).toBe('WAITING');
  }, 30_000);

  it('runs revenue_milestone from a business event published on NATS: CFO approval as the cfo NATS user, plan written by the worker', async () => {
    const { readFileSync, existsSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { loadDefinitionFile } = await import('../../src/api/index.js');
    const { loadHandlerModule } = await import('../../src/workers/index.js');
    const { loadEventTypes, runIdForEvent } = await import('../../src/triggers/index.js');
    const root = join(import.meta.dirname, '..', '..');
    const { definition } = loadDefinitionFile(join(root, 'definitions', 'revenue_milestone.yaml'));
    await client.deploy(definition);
    const engine = new ClusterEngine({ nats: server.url, eventTypes: loadEventTypes(join(root, 'events')) });
    await engine.start();
    const worker = createWorker({ nats: as('worker'), handlers: await loadHandlerModule(join(root, 'definitions', 'handlers', 'revenue.ts')) });
    await worker.start();
    const plan = join(root, '.ledgerflow', 'plans', 'EMEA-2026-10.yaml');
    rmSync(plan, { force: true });
    try {
      const id = `revenue-${Date.now()}`;
      await client.emit({ id, type: 'revenue_milestone', time: new Date().toISOString(), data: { month: '2026-10', revenue: 1250000, target: 1000000, currency: 'EUR', region: 'EMEA', operating_costs: 900000, previous_revenue: 1100000 } } as never);
      const runId = runIdForEvent(id, 'revenue_milestone');
      await waitFor('an engine to start the run the event triggers', () => client.status(runId));
      const waiting = await client.wait(runId, { orWaiting: true, timeoutMs: 15_000 });
      expect(waiting.tasks.approve_plan_change!.status).toBe('PENDING_APPROVAL');
      await new ClusterClient(as('cfo')).decide(runId, 'approve_plan_change', 'cfo', 'approved', 'go');
      const done = await client.wait(runId, { timeoutMs: 15_000 });
      expect(done.status).toBe('COMPLETED');
      expect(existsSync(plan)).toBe(true);
      expect(readFileSync(plan, 'utf8')).toContain('EMEA');
      expect(replayRun(await client.store.read(runId)).divergence).toBeNull();
    } finally {
      await worker.stop();
      await engine.stop();
    }
  }, 60_000);
});
