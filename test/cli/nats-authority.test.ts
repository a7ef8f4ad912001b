/**
 * docs/users.md, "On NATS": an engine given `--users` judges each sender's
 * level again, as the server let them publish (the shipped nats.conf lets
 * alice and bob publish approvals and control): bob, a Station OPS, is
 * refused an approval (kept in the run's history with both levels) and a
 * cancel (nothing recorded); alice, the Commander, approves. Real nats-server,
 * the real CLI's engine process.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { asUser } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

const STOCK_COUNT = `workflow:
  id: stock-count-nats
  domain: inventory
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: commander_review, type: HUMAN, depends_on: [count], agent_level: "L0" }
`;

describe.skipIf(noNats)('authority levels on NATS (engine --users)', () => {
  const c = useCluster();

  it('the engine refuses bob (L2) an approval, recorded with both levels, and a cancel, recorded nowhere; alice (L0) approves', async () => {
    const dir = tempDir('lf-nats-authority-');
    writeFileSync(join(dir, 'stock-count.yaml'), STOCK_COUNT);
    for (const [name, level] of [
      ['alice', 'L0'],
      ['bob', 'L2'],
    ] as const)
      expect((await cli(['users', 'add', name, '--level', level], { cwd: dir })).code).toBe(0);
    expect((await cli(['--nats', c.url, 'deploy', join(dir, 'stock-count.yaml')])).code).toBe(0);
    const engine = spawnCli(['--nats', c.url, 'engine', '--users', join(dir, 'users.yaml')]);
    procs.push(engine);
    let out = '';
    engine.stderr!.on('data', (d) => (out += d));

    const started = await cli(['--nats', c.url, 'start', 'stock-count-nats', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const waited = await cli(['--nats', c.url, 'wait', runId, '--or-waiting', '--timeout', '30s', '--json']);
    expect(JSON.parse(waited.stdout).status, out).toBe('WAITING');

    const byBob = await cli(['--nats', asUser(c.url, 'bob'), 'approve', runId, 'commander_review', '--json']);
    expect(byBob.code, byBob.stderr + out).toBe(2);
    expect(byBob.stderr).toContain(
      'bob is L2 (Station OPS); approving commander_review needs L0 (Commander) or higher',
    );
    const cancel = await cli(['--nats', asUser(c.url, 'bob'), 'cancel', runId]);
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toContain('bob is L2 (Station OPS); controlling runs needs L1 (CMD.BRIDGE) or higher');

    const byAlice = await cli(['--nats', asUser(c.url, 'alice'), 'approve', runId, 'commander_review']);
    expect(byAlice.code, byAlice.stderr + out).toBe(0);
    const done = await cli(['--nats', c.url, 'wait', runId, '--timeout', '30s', '--json']);
    expect(JSON.parse(done.stdout).status).toBe('COMPLETED');
    const history = JSON.parse((await cli(['--nats', c.url, 'history', runId, '--json'])).stdout) as {
      type: string;
      data: { by?: string; reason?: string };
    }[];
    expect(history.filter((e) => e.type === 'approval.refused').map((e) => [e.data.by, e.data.reason])).toEqual([
      ['bob', 'bob is L2 (Station OPS); approving commander_review needs L0 (Commander) or higher'],
    ]);
    expect(history.filter((e) => e.type === 'approval.recorded').map((e) => e.data.by)).toEqual(['alice']);
    expect(history.some((e) => e.type === 'run.cancelled')).toBe(false);
  }, 120_000);
});
