/** `ledgerflow start --id` over NATS (docs/runs.md#caller-chosen-run-ids): the same idempotent start as `run --id`, on JetStream. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT } from '../helpers/cli.js';

const APPROVAL = join(ROOT, 'test', 'fixtures', 'approval.yaml');
type Started = { runId: string; workflowId: string; version: number; status?: string; existing?: boolean };

describe.skipIf(noNats)('start --id over NATS', () => {
  const c = useCluster();
  const lf = (...args: string[]) => cli(['--nats', c.url, ...args]);

  it('a second start with the id returns the run (exit 0, existing: true); two racing starts make one run; a bad id is exit 2', async () => {
    expect((await lf('deploy', APPROVAL)).code).toBe(0);
    const first = await lf('start', 'approval', '--id', 'nats-order-1', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      runId: 'nats-order-1',
      workflowId: 'approval',
      version: 1,
      status: 'RUNNING',
    });
    const again = await lf('start', 'approval', '--id', 'nats-order-1', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      runId: 'nats-order-1',
      workflowId: 'approval',
      version: 1,
      status: 'RUNNING',
      existing: true,
    });

    const [a, b] = await Promise.all([
      lf('start', 'approval', '--id', 'nats-race', '--json'),
      lf('start', 'approval', '--id', 'nats-race', '--json'),
    ]);
    const answers = [a, b].map((r) => JSON.parse(r.stdout) as Started);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(answers.map((x) => x.runId)).toEqual(['nats-race', 'nats-race']);
    expect(answers.filter((x) => x.existing === true)).toHaveLength(1);
    const history = JSON.parse((await lf('history', 'nats-race', '--json')).stdout) as { type: string }[];
    expect(history.filter((e) => e.type === 'run.started')).toHaveLength(1);

    const bad = await lf('start', 'approval', '--id', 'no spaces', '--json');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid --id "no spaces"');
  }, 90_000);
});
