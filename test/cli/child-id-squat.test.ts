/**
 * Squatting a child's run id (issue 60, Medium), as it was found: with a
 * users file, alice (L1) starts a run P of `inv`, which waits on its HUMAN
 * task and then starts its SUB_WORKFLOW `credit` as child run P-credit-1.
 * bob (L2 of domain inventory, who may start `inv` but not cancel) ran
 * `start inv --id P-credit-1`, and when alice approved, P ended FAILED
 * ("taken by a run … that no parent started"). Now no caller may begin a run
 * under an id of a child's shape: bob's start is refused (exit 2, the shape
 * named), nothing is written, and alice's approval completes P with its real
 * child. The same for a run that does not exist yet (an id alice will choose),
 * and on both stores: the embedded one, and NATS with a real nats-server whose
 * users come from the users file and an engine judging them.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/cluster/index.js';
import { noNats } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import type { NatsServer } from '../helpers/nats.js';
import { usersNatsServer } from '../helpers/authority.js';
import { killLeftovers } from '../helpers/processes.js';

const INV = `workflow:
  id: inv
  domain: inventory
  output: { noted: "\${credit.output.noted}" }
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: check, type: HUMAN, depends_on: [count], agent_level: "L1" }
    - { id: credit, type: SUB_WORKFLOW, workflow: credit-note, depends_on: [check] }
`;
const CREDIT_NOTE = `workflow:
  id: credit-note
  domain: inventory
  output: { noted: "\${note.output.noted}" }
  tasks:
    - { id: note, type: SET, values: { noted: "by the real child" } }
`;
const SHAPE = 'it has the shape of a child run\'s id (<run>-<task>-<attempt>';

function project(prefix: string): string {
  const dir = tempDir(prefix);
  mkdirSync(join(dir, 'definitions'));
  writeFileSync(join(dir, 'definitions', 'inv.yaml'), INV);
  writeFileSync(join(dir, 'definitions', 'credit-note.yaml'), CREDIT_NOTE);
  return dir;
}

describe('a caller cannot take a child run\'s id ahead of its parent (embedded store, users file)', () => {
  it('bob\'s start under alice\'s P-credit-1 (and a future run\'s) is refused, nothing written; her approval completes P with its real child', async () => {
    const dir = project('lf-child-squat-');
    for (const [name, level] of [['alice', 'L1'], ['bob', 'L2']] as const) {
      const r = await cli(['users', 'add', name, '--level', level, ...(level === 'L2' ? ['--domains', 'inventory'] : []), '--password-stdin'], { cwd: dir, stdin: `pw-${name}\n` });
      expect(r.code, r.stderr).toBe(0);
    }
    const as = (user: string, args: string[]) => cli(['--store', 'store', ...args], { cwd: dir, env: { LEDGERFLOW_USER: user, LEDGERFLOW_PASSWORD: `pw-${user}` } });

    const started = await as('alice', ['run', 'definitions/inv.yaml', '--json']);
    expect(started.code, started.stderr).toBe(3); // waiting for check
    const p = JSON.parse(started.stdout).runId as string;
    // bob may start inv (his domain), and may not cancel alice's run.
    expect((await as('bob', ['cancel', p])).code).toBe(2);
    for (const args of [['start', 'inv', '--id', `${p}-credit-1`], ['run', 'definitions/credit-note.yaml', '--id', `${p}-credit-1`], ['start', 'inv', '--id', `${p}-credit-2`], ['start', 'inv', '--id', 'order-7-credit-1']]) {
      const squat = await as('bob', args);
      expect(squat.code, `${args.join(' ')}: ${squat.stdout}${squat.stderr}`).toBe(2);
      expect(squat.stderr).toContain(SHAPE);
    }
    expect((JSON.parse((await as('alice', ['list', '--json'])).stdout) as { runId: string }[]).map((r) => r.runId)).toEqual([p]);

    const approved = await as('alice', ['approve', p, 'check']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse((await as('alice', ['status', p, '--json'])).stdout)).toMatchObject({ status: 'COMPLETED', output: { noted: 'by the real child' } });
    expect(JSON.parse((await as('alice', ['status', `${p}-credit-1`, '--json'])).stdout)).toMatchObject({ workflowId: 'credit-note', status: 'COMPLETED' });
    // alice's own later run under the id bob aimed at: free, and its child is its own.
    const order = await as('alice', ['run', 'definitions/inv.yaml', '--id', 'order-7', '--json']);
    expect(order.code, order.stderr).toBe(3);
    expect((await as('alice', ['approve', 'order-7', 'check'])).code).toBe(0);
    expect(JSON.parse((await as('alice', ['status', 'order-7', '--json'])).stdout)).toMatchObject({ status: 'COMPLETED', output: { noted: 'by the real child' } });
  }, 90_000);
});

describe.skipIf(noNats)('the same on NATS: a nats-server with the users file\'s users, an engine judging them', () => {
  const procs: ChildProcess[] = [];
  let server: NatsServer | undefined;
  let admin: ClusterClient | undefined;
  afterAll(async () => {
    await admin?.close();
    await killLeftovers(procs);
    await server?.dispose();
  });

  it('bob\'s start under P-credit-1 is refused by the engine (exit 2, nothing written); alice\'s approval completes P with its real child', async () => {
    const dir = project('lf-child-squat-nats-');
    server = await usersNatsServer(dir, [['engine', 'L1'], ['alice', 'L1'], ['bob', 'L2']]);
    const url = (user: string) => `nats://${user}:pw-${user}@127.0.0.1:${server!.port}`;
    const as = (user: string, args: string[]) => cli(['--nats', url(user), ...args], { cwd: dir });
    const deployed = await as('engine', ['deploy', 'definitions/inv.yaml', 'definitions/credit-note.yaml']);
    expect(deployed.code, deployed.stderr).toBe(0);
    let engineLog = '';
    const engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
    procs.push(engine);
    engine.stderr!.on('data', (d) => (engineLog += d));
    admin = new ClusterClient(url('engine'));

    const started = await as('alice', ['start', 'inv', '--json']);
    expect(started.code, started.stderr + engineLog).toBe(0);
    const p = JSON.parse(started.stdout).runId as string;
    expect((await admin.wait(p, { orWaiting: true, timeoutMs: 30_000 })).status, engineLog).toBe('WAITING');
    for (const args of [['start', 'inv', '--id', `${p}-credit-1`], ['start', 'credit-note', '--id', `${p}-credit-1`], ['start', 'inv', '--id', 'order-7-credit-1']]) {
      const squat = await as('bob', args);
      expect(squat.code, `${args.join(' ')}: ${squat.stdout}${squat.stderr}${engineLog}`).toBe(2);
      expect(squat.stderr).toContain(SHAPE);
    }
    expect(await admin.store.lastSeq(`${p}-credit-1`)).toBe(0);
    expect(await admin.store.lastSeq('order-7-credit-1')).toBe(0);

    const approved = await as('alice', ['approve', p, 'check']);
    expect(approved.code, approved.stderr + engineLog).toBe(0);
    expect(await admin.wait(p, { timeoutMs: 30_000 }), engineLog).toMatchObject({ status: 'COMPLETED', output: { noted: 'by the real child' } });
    expect((await admin.status(`${p}-credit-1`))).toMatchObject({ workflowId: 'credit-note', status: 'COMPLETED' });
  }, 120_000);
});
