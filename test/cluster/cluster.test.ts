import { describe, expect, it } from 'vitest';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

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

describe.skipIf(noNats)('engines and workers sharing runs over NATS', () => {
  // The worker connects as the restricted `worker` NATS user of nats.conf.
  const c = useCluster({
    engines: 2,
    handlers: {
      double: async (i: Record<string, unknown>) => ({ n: Number(i.n) * 2 }),
      flaky: async (i: Record<string, unknown>, ctx) => {
        if (ctx.attempt === 1) throw new Error('first try fails');
        return { n: Number(i.n) + 1 };
      },
      report: async (i: Record<string, unknown>) => ({ final: i.n }),
    },
  });

  it("deploys once (a second deploy of the same definition changes nothing); an approver cannot decide under another user's name", async () => {
    // What runs then (the retry over a durable timer, a refused approver, the approval) is the executor contract's (test/executor/contract.ts).
    expect((await c.client.deploy(threeSteps)).changed).toBe(true);
    expect((await c.client.deploy(threeSteps)).changed).toBe(false);
    const { runId } = await c.client.start('cluster-three', { n: 5 });
    expect((await c.runs.wait(runId, { orWaiting: true, timeoutMs: 10_000 })).status).toBe('WAITING');
    // alice cannot pass herself off as someone else: the server refuses the subject.
    await expect(c.clientAs('alice').decide(runId, 'sign', 'approved', 'cfo')).rejects.toThrow(
      /may not publish approvals under that name/,
    );
    await c.clientAs('alice').decide(runId, 'sign', 'approved', 'alice', 'ok');
    const done = await c.runs.wait(runId, { timeoutMs: 10_000 });
    expect(done.status).toBe('COMPLETED');
    expect((await c.client.store.read(runId)).filter((e) => e.type === 'approval.recorded').map((e) => e.data)).toEqual(
      [{ task: 'sign', decision: 'approved', by: 'alice', comment: 'ok' }],
    );
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
    await c.client.deploy(broken);
    const { runId } = await c.client.start('cluster-unrunnable', {});
    const failed = await c.runs.wait(runId, { timeoutMs: 15_000 });
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({
      code: 'LF_RUN_ERROR',
      message: expect.stringMatching(/task\.started of task double/),
    });
    expect(replayRun(await c.client.store.read(runId)).divergence).toBeNull();
    // The engines are still serving: another run completes.
    const { runId: next } = await c.client.start('cluster-three', { n: 1 });
    expect((await c.runs.wait(next, { orWaiting: true, timeoutMs: 15_000 })).status).toBe('WAITING');
  }, 30_000);

  it('runs revenue_milestone from a business event published on NATS: CFO approval as the cfo NATS user, plan written by the worker', async () => {
    const { readFileSync, existsSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { loadDefinitionFile } = await import('../../src/files/index.js');
    const { loadHandlerModule } = await import('../../src/handlers/index.js');
    const { loadEventTypes, runIdForEvent } = await import('../../src/triggers/index.js');
    const root = join(import.meta.dirname, '..', '..');
    const { definition } = loadDefinitionFile(join(root, 'definitions', 'revenue_milestone.yaml'));
    await c.client.deploy(definition);
    const engine = await c.addEngine({ eventTypes: loadEventTypes(join(root, 'events')) });
    const worker = await c.addWorker({
      handlers: await loadHandlerModule(join(root, 'definitions', 'handlers', 'revenue.ts')),
    });
    const plan = join(root, '.ledgerflow', 'plans', 'EMEA-2026-10.yaml');
    rmSync(plan, { force: true });
    try {
      const id = `revenue-${Date.now()}`;
      await c.client.emit({
        id,
        type: 'revenue_milestone',
        time: new Date().toISOString(),
        data: {
          month: '2026-10',
          revenue: 1250000,
          target: 1000000,
          currency: 'EUR',
          region: 'EMEA',
          operating_costs: 900000,
          previous_revenue: 1100000,
        },
      } as never);
      const runId = runIdForEvent(id, 'revenue_milestone');
      await waitFor('an engine to start the run the event triggers', () => c.runs.status(runId));
      const waiting = await c.runs.wait(runId, { orWaiting: true, timeoutMs: 15_000 });
      expect(waiting.tasks.approve_plan_change!.status).toBe('PENDING_APPROVAL');
      await c.clientAs('cfo').decide(runId, 'approve_plan_change', 'approved', 'cfo', 'go');
      const done = await c.runs.wait(runId, { timeoutMs: 15_000 });
      expect(done.status).toBe('COMPLETED');
      expect(existsSync(plan)).toBe(true);
      expect(readFileSync(plan, 'utf8')).toContain('EMEA');
      expect(replayRun(await c.client.store.read(runId)).divergence).toBeNull();
    } finally {
      await c.stopWorker(worker);
      await c.stopEngine(engine);
    }
  }, 60_000);
});
