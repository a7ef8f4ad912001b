/**
 * Circuit breakers over NATS (docs/limits.md#circuit-breakers): the state is a
 * KV entry in LF_TASK_GATES every engine shares. A handler's failures open the
 * breaker; a run started on another engine waits SCHEDULED saying why; the
 * operator's `ledgerflow --nats <url> breaker close` lets it go.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { def } from '../helpers/engine.js';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const charge = def(`
workflow:
  id: cluster-charge-cards
  version: 1
  input:
    optional: [{ fail: { type: boolean } }]
  tasks:
    - id: charge
      type: SIMPLE
      handler: chargeCard
      input: { fail: "\${workflow.input.fail}" }
      breaker: { failures: 2, window: 1m, open_for: 1h }
`);

const refund = def(`
workflow:
  id: cluster-refund
  version: 1
  input:
    optional: [{ fail: { type: boolean } }]
  tasks:
    - id: refund
      type: SIMPLE
      handler: refundCard
      input: { fail: "\${workflow.input.fail}" }
`);

const TARGET = 'task/cluster-charge-cards/charge';

describe.skipIf(noNats)('circuit breakers over NATS, two engines', () => {
  const c = useCluster({
    engines: 2,
    handlers: {
      chargeCard: async (i: Record<string, unknown>) => {
        if (i.fail === true) throw new Error('the provider is down');
        return { charged: true };
      },
      refundCard: async (i: Record<string, unknown>) => {
        if (i.fail === true) throw new Error('the provider is down');
        return { refunded: true };
      },
    },
    deploy: [charge, refund],
  });

  it('two failures open it for every engine; another run waits SCHEDULED saying why; breaker close lets it go', async () => {
    for (let i = 0; i < 2; i++) {
      const { runId } = await c.client.start('cluster-charge-cards', { fail: true });
      await waitFor(`run ${runId} to fail`, async () => (await c.runs.status(runId))?.status === 'FAILED', {
        timeout: 30_000,
      });
    }
    await waitFor(
      'the breaker to open',
      async () => {
        const shown = JSON.parse((await cli(['--nats', c.url, 'limits', 'show', '--json'])).stdout);
        return shown.breakers.some((b: { name: string; state: string }) => b.name === TARGET && b.state === 'open');
      },
      { timeout: 30_000 },
    );
    const held = await c.client.start('cluster-charge-cards', { fail: false });
    await waitFor(
      'the run waiting for the breaker',
      async () => (await c.runs.status(held.runId))?.tasks.charge?.waitingFor === 'breaker to close',
      { timeout: 30_000 },
    );
    // It waits, it does not fail: still no attempt.
    expect((await c.client.store.read(held.runId)).some((e) => e.type === 'task.started')).toBe(false);
    const closed = await cli(['--nats', c.url, 'breaker', 'close', TARGET, '--json']);
    expect(closed.code, closed.stderr).toBe(0);
    expect(JSON.parse(closed.stdout).breaker).toMatchObject({ name: TARGET, state: 'closed', by: 'operator' });
    await waitFor('the held run to complete', async () => (await c.runs.status(held.runId))?.status === 'COMPLETED', {
      timeout: 60_000,
    });
    const events = await c.client.store.read(held.runId);
    expect(events.filter((e) => e.type === 'task.delayed').map((e) => e.data)).toEqual([
      { task: 'charge', attempt: 1, reason: 'breaker_open', breaker: TARGET, until: expect.any(String) },
    ]);
  }, 120_000);

  it("a handler's breaker from the limits file: after open_for one probe goes through and its success closes it", async () => {
    const file = join(tempDir(), 'limits.yaml');
    writeFileSync(file, 'handlers:\n  refundCard:\n    breaker: { failures: 1, window: 1m, open_for: 1s }\n');
    expect((await cli(['--nats', c.url, 'limits', 'set', file])).code).toBe(0);
    // An engine reads the stored limits when it starts (the others within 2 s): these hold attempts to them from the first.
    for (const e of [...c.engines]) await c.stopEngine(e);
    await c.addEngine();
    const failed = await c.client.start('cluster-refund', { fail: true });
    await waitFor('the failing run to fail', async () => (await c.runs.status(failed.runId))?.status === 'FAILED', {
      timeout: 30_000,
    });
    const breakers = async () =>
      JSON.parse((await cli(['--nats', c.url, 'limits', 'show', '--json'])).stdout).breakers as {
        name: string;
        state: string;
        by?: string;
      }[];
    await waitFor(
      'its one failure to open the breaker',
      async () => (await breakers()).some((b) => b.name === 'handler/refundCard' && b.state !== 'closed'),
      { timeout: 30_000 },
    );
    const probe = await c.client.start('cluster-refund', { fail: false });
    await waitFor('the probe run to complete', async () => (await c.runs.status(probe.runId))?.status === 'COMPLETED', {
      timeout: 60_000,
    });
    expect(await breakers()).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'handler/refundCard', state: 'closed', by: 'probe' })]),
    );
  }, 120_000);
});
