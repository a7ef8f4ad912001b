/**
 * Retry from failed over NATS through the CLI: `ledgerflow retry --nats`
 * prints the new run's id and the engines drive it with the workers. What a
 * retry reuses and refuses is the executor contract's
 * (test/executor/contract.ts), on both executors. Real nats-server, engine
 * and worker.
 */
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const chain = def(`
workflow:
  id: cluster-retry
  name: Retry over NATS
  version: 1
  tasks:
    - { id: one, type: SIMPLE }
    - { id: two, type: SIMPLE, depends_on: [one] }
    - { id: three, type: SIMPLE, depends_on: [two] }
    - { id: four, type: SIMPLE, depends_on: [three] }
`);

describe.skipIf(noNats)('retry from failed over NATS', () => {
  let broken = true;
  const step = (id: string) => async () => {
    if (id === 'three' && broken) throw new Error('the disk was full');
    return { id };
  };
  const c = useCluster({
    engines: 1,
    handlers: { one: step('one'), two: step('two'), three: step('three'), four: step('four') },
  });

  it("the CLI over NATS prints the new run's id at once and the engines drive it; a run that did not fail is refused (exit 2)", async () => {
    // What the new run reuses and runs, and what is refused, is the executor contract's (test/executor/contract.ts).
    await c.client.deploy(chain);
    const { runId } = await c.client.start('cluster-retry', {});
    expect((await c.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe('FAILED');
    const r = await cli(['--nats', c.url, 'retry', runId, '--json']);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as { runId: string; retryOf: string };
    expect(printed.retryOf).toBe(runId);
    const again = await c.runs.wait(printed.runId, { timeoutMs: 20_000 });
    expect(again.status).toBe('FAILED');
    expect(again.retryOf).toEqual({ runId, reused: ['one', 'two'] });

    broken = false;
    const { runId: retryId } = await c.client.retry(printed.runId);
    expect((await c.runs.wait(retryId, { timeoutMs: 20_000 })).status).toBe('COMPLETED');
    const refused = await cli(['--nats', c.url, 'retry', retryId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/only a FAILED or CANCELLED run can be retried/);
  }, 60_000);
});
