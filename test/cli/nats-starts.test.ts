/**
 * docs/users.md, "Starting and deploying as yourself": on a nats-server whose
 * users come from the users file (`users nats-conf`), a person starts, retries
 * and deploys as their own NATS user. The request waits in LF_REQUESTS when no
 * engine runs (the command says it is queued) and an engine given the users
 * file judges the level (an L2 the workflow's domain) and does it as the
 * engine user; the server refuses what a level may not publish at all. Then
 * every level × every action that exists over NATS, through the CLI, as
 * docs/users.md's tables say. One server and one engine for the file.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/cluster/index.js';
import { noNats } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const STOCK_COUNT = `workflow:
  id: stock-count
  domain: inventory
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: commander_review, type: HUMAN, depends_on: [count], agent_level: "L0" }
    - { id: bridge_review, type: HUMAN, depends_on: [count], agent_level: "L1" }
    - { id: go, type: WAIT, depends_on: [count], event: go }
`;
const PAYROLL = STOCK_COUNT.replace('stock-count', 'payroll').replace('domain: inventory', 'domain: finance');
const USERS = [['engine', 'L1'], ['alice', 'L0'], ['bob', 'L1'], ['ops-east', 'L2'], ['scanner', 'L3']] as const;
type Person = 'alice' | 'bob' | 'ops-east' | 'scanner';
const PEOPLE: readonly Person[] = ['alice', 'bob', 'ops-east', 'scanner'];

const procs: ChildProcess[] = [];
let dir = '';
let server: NatsServer | undefined;
let engine: ChildProcess | undefined;
let engineLog = '';
let admin: ClusterClient | undefined;
const url = (user: string) => `nats://${user}:pw-${user}@127.0.0.1:${server!.port}`;
const as = (user: string, args: string[]) => cli(['--nats', url(user), ...args], { cwd: dir });
const startEngine = () => {
  engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
  procs.push(engine);
  engine.stderr!.on('data', (d) => (engineLog += d));
};
/** A run of `workflow` started by the engine user (in this process), waiting for its reviews and its signal. */
const waitingRun = async (workflow = 'stock-count'): Promise<string> => {
  const { runId } = await admin!.start(workflow, {});
  expect((await admin!.wait(runId, { orWaiting: true, timeoutMs: 30_000 })).status, engineLog).toBe('WAITING');
  return runId;
};
const history = async (runId: string) => (await admin!.store.read(runId)).map((e) => ({ type: e.type, data: e.data as { by?: string; reason?: string; source?: { by?: string } } }));

describe.skipIf(noNats)('starts, retries and deploys as a person on NATS (docs/users.md)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-nats-starts-');
    writeFileSync(join(dir, 'stock-count.yaml'), STOCK_COUNT);
    writeFileSync(join(dir, 'payroll.yaml'), PAYROLL);
    for (const [name, level] of USERS) {
      const r = await cli(['users', 'add', name, '--level', level, ...(level === 'L2' ? ['--domains', 'inventory'] : []), '--password-stdin'], { cwd: dir, stdin: `pw-${name}\n` });
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await cli(['users', 'nats-conf', '--out', 'ledgerflow-users.conf'], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, 'nats.conf'), 'jetstream {}\ninclude ./ledgerflow-users.conf\n');
    server = await startNatsServer({ config: join(dir, 'nats.conf') });
    // The engine user deploys directly, as before (and so makes the streams).
    const deployed = await as('engine', ['deploy', 'payroll.yaml']);
    expect(deployed.code, deployed.stderr).toBe(0);
    admin = new ClusterClient(url('engine'));
  }, 60_000);
  afterAll(async () => {
    await admin?.close();
    await killLeftovers(procs);
    await server?.dispose();
  });

  it('a start while no engine runs is queued, and runs once an engine starts, recording who asked; an L1 deploys', async () => {
    // No engine yet: bob's deploy and start wait in LF_REQUESTS, and the start names the run it will be.
    const deploy = await as('bob', ['deploy', 'stock-count.yaml', '--wait', '1s']);
    expect(deploy.code, deploy.stderr).toBe(3);
    expect(deploy.stdout).toContain('queued: no engine answered within 1000 ms');
    // (payroll: deployed already; a start queued beside the deploy of its workflow may be taken first, and refused.)
    const queued = await as('bob', ['start', 'payroll', '--wait', '1s', '--json']);
    expect(queued.code, queued.stderr).toBe(3);
    const { queued: isQueued, runId } = JSON.parse(queued.stdout) as { queued: boolean; runId: string };
    expect(isQueued).toBe(true);
    startEngine();
    await waitFor('the queued start to be taken', async () => (await admin!.store.lastSeq(runId)) > 0, { timeout: 30_000, detail: () => engineLog });
    expect((await admin!.wait(runId, { orWaiting: true, timeoutMs: 30_000 })).status, engineLog).toBe('WAITING');
    expect((await history(runId))[0]!.data.source?.by).toBe('bob');
    // With an engine running: answered at once.
    const again = await as('bob', ['deploy', 'stock-count.yaml']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^unchanged stock-count@1 /);
  }, 60_000);
});
