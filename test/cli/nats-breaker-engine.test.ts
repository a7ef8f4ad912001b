/**
 * docs/language.md "Circuit breakers" over NATS with the engine running the handlers itself (`ledgerflow engine
 * --handlers`), beside test/cluster/breaker.test.ts's remote worker: two failed attempts open the task's breaker,
 * the next run's attempt waits SCHEDULED saying why (no attempt), `breaker close` lets it run.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { HANDLERS } from '../helpers/cluster-run.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

const CHARGE = `workflow:
  id: engine-charge
  input:
    optional:
      - succeed_on: { type: number, default: 99 }
  tasks:
    - id: charge
      type: SIMPLE
      handler: flaky
      input: { succeed_on: "\${workflow.input.succeed_on}" }
      breaker: { failures: 2, window: 1m, open_for: 1h }
`;
const TARGET = 'task/engine-charge/charge';

describe.skipIf(noNats)('a breaker over NATS with the engine running the handlers', () => {
  const c = useCluster();
  it('opens after two failures, holds the next attempt, and breaker close lets it run', async () => {
    const dir = tempDir('lf-breaker-engine-');
    writeFileSync(join(dir, 'charge.yaml'), CHARGE);
    expect((await cli(['--nats', c.url, 'deploy', join(dir, 'charge.yaml')])).code).toBe(0);
    const engine = spawnCli(['--nats', c.url, 'engine', '--handlers', HANDLERS], {
      env: { LF_MARKERS: join(dir, 'markers') },
    });
    procs.push(engine);
    const status = async (runId: string) =>
      JSON.parse((await cli(['--nats', c.url, 'status', runId, '--json'])).stdout);
    for (let i = 0; i < 2; i++) {
      const { runId } = JSON.parse((await cli(['--nats', c.url, 'start', 'engine-charge', '--json'])).stdout);
      await waitFor(`run ${runId} to fail`, async () => (await status(runId)).status === 'FAILED', { timeout: 30_000 });
    }
    const held = JSON.parse(
      (await cli(['--nats', c.url, 'start', 'engine-charge', '--succeed_on', '1', '--json'])).stdout,
    ).runId as string;
    let last = '';
    await waitFor(
      'the attempt held by the breaker',
      async () => {
        const s = await status(held);
        last = JSON.stringify(s) + (await cli(['--nats', c.url, 'limits', 'show', '--json'])).stdout;
        return s.tasks?.charge?.waitingFor === 'breaker to close';
      },
      { timeout: 15_000, detail: () => last },
    );
    const history = JSON.parse((await cli(['--nats', c.url, 'history', held, '--json'])).stdout) as { type: string }[];
    expect(history.some((e) => e.type === 'task.started')).toBe(false);
    expect((await cli(['--nats', c.url, 'breaker', 'close', TARGET])).code).toBe(0);
    await waitFor('the held run to complete', async () => (await status(held)).status === 'COMPLETED', {
      timeout: 30_000,
    });
  }, 120_000);
});
