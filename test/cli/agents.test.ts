/**
 * docs/coordination.md, "The agents seen": `ledgerflow agent` started as the
 * page starts it, then `ledgerflow agents` saying it is up with its queue,
 * level and skills, and gone once its process is killed; over NATS, a worker
 * the engines hear announce itself.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { HANDLERS } from '../helpers/cluster-run.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

interface Row {
  name: string;
  kind: string;
  state: string;
  queue: string;
  level?: string;
  skills: string[];
  handlers?: string[];
  inFlight?: number;
}
const agentsIn = async (args: string[], opts = {}) =>
  (JSON.parse((await cli([...args, 'agents', '--json'], opts)).stdout) as { agents: Row[] }).agents;

describe('ledgerflow agents on the embedded store', () => {
  it('shows a running file agent up, with its queue, level and skills, and gone once killed', async () => {
    const dir = tempDir('lf-agents-');
    const env = { LEDGERFLOW_STORE: `${dir}/store` };
    expect((await cli(['agents'], { cwd: dir, env })).stdout).toContain('no file agent has run on this store');
    const agent = spawnCli(
      [
        'agent',
        '--inbox',
        '1N.3OX',
        '--outbox',
        '0UT.3OX',
        '--queue',
        'agents',
        '--level',
        'L2',
        '--skills',
        'ocr,gpu',
      ],
      { cwd: dir, env },
    );
    procs.push(agent);
    const [up] = await waitFor(
      'the agent seen',
      async () => {
        const rows = await agentsIn([], { cwd: dir, env });
        return rows.length > 0 && rows;
      },
      { timeout: 20_000 },
    );
    // Sorted, each once, as --skills is everywhere (cli/flags/skills-flag.ts).
    expect(up).toMatchObject({
      name: 'agent:agents',
      kind: 'file agent',
      state: 'up',
      queue: 'agents',
      level: 'L2',
      skills: ['gpu', 'ocr'],
      inFlight: 0,
    });
    expect((await cli(['agents'], { cwd: dir, env })).stdout).toMatch(
      /^agent:agents {2}file agent {2}up {2}queue agents {2}level L2, skills gpu, ocr, 0 in flight, utilization 0% 1m, 0% 15m {2}last seen \S+$/m,
    );
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    expect((await agentsIn([], { cwd: dir, env }))[0]).toMatchObject({ name: 'agent:agents', state: 'gone' });
  }, 60_000);
});

describe.skipIf(noNats)('ledgerflow agents over NATS', () => {
  const c = useCluster();
  it('lists a worker the engines hear announce itself, with its queue and handlers', async () => {
    const engine = spawnCli(['--nats', c.url, 'engine']);
    const worker = spawnCli(['--nats', c.url, 'worker', '--handlers', HANDLERS, '--queue', 'agents-view']);
    procs.push(engine, worker);
    const rows = await waitFor(
      'the worker heard',
      async () => {
        const all = await agentsIn(['--nats', c.url]);
        return all.some((r) => r.queue === 'agents-view') && all;
      },
      { timeout: 30_000 },
    );
    const row = rows.find((r) => r.queue === 'agents-view')!;
    expect(row).toMatchObject({ kind: 'worker', state: 'up', queue: 'agents-view' });
    expect(row.handlers!.length).toBeGreaterThan(0);
  }, 60_000);
});
