/**
 * docs/users.md's table "Command | Asks for", every level × every command on
 * the embedded store: a Commander (L0), a bridge operator (L1), a Station OPS
 * of domain inventory (L2) and a Worker (L3), each trying each command. A
 * refusal exits 2 naming both levels and leaves the run's log as it was; an
 * allowed command does what it says.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

const STOCK_COUNT = `workflow:
  id: stock-count
  domain: inventory
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: commander_review, type: HUMAN, depends_on: [count], agent_level: "L0" }
    - { id: bridge_review, type: HUMAN, depends_on: [count], agent_level: "L1" }
`;
const PAYROLL = STOCK_COUNT.replace('stock-count', 'payroll').replace('domain: inventory', 'domain: finance');
const USERS = [
  ['alice', 'L0'],
  ['bob', 'L1'],
  ['ops-east', 'L2'],
  ['scanner', 'L3'],
] as const;
type User = (typeof USERS)[number][0];

let dir = '';
const as = (user: string) => ({
  cwd: dir,
  env: { LEDGERFLOW_USER: user, LEDGERFLOW_PASSWORD: `${user}-pw`, LEDGERFLOW_STORE: join(dir, 'store') },
});
const started = async (file: string): Promise<string> => {
  const r = await cli(['run', `definitions/${file}.yaml`, '--json'], as('alice'));
  expect(r.code, r.stderr).toBe(3); // waiting for its reviews
  return JSON.parse(r.stdout).runId as string;
};
const events = async (runId: string) =>
  (JSON.parse((await cli(['history', runId, '--json'], as('alice'))).stdout) as unknown[]).length;

describe('every level × every command on the embedded store (docs/users.md)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-authority-matrix-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'stock-count.yaml'), STOCK_COUNT);
    writeFileSync(join(dir, 'definitions', 'payroll.yaml'), PAYROLL);
    writeFileSync(join(dir, 'limits.yaml'), 'queues:\n  payments:\n    concurrency: { limit: 5 }\n');
    await Promise.all(
      USERS.map(async ([name, level]) => {
        const r = await cli(
          [
            'users',
            'add',
            name,
            '--level',
            level,
            ...(level === 'L2' ? ['--domains', 'inventory'] : []),
            '--password-stdin',
          ],
          { cwd: dir, stdin: `${name}-pw\n`, env: { LEDGERFLOW_USERS: join(dir, 'users.yaml') } },
        );
        expect(r.code, r.stderr).toBe(0);
      }),
    );
  }, 60_000);

  it('starting: L0 and L1 anything, L2 its domain only, L3 nothing', async () => {
    const allowed: Record<User, [boolean, boolean]> = {
      alice: [true, true],
      bob: [true, true],
      'ops-east': [true, false],
      scanner: [false, false],
    };
    for (const [user, [inDomain, outside]] of Object.entries(allowed)) {
      for (const [file, ok] of [
        ['stock-count', inDomain],
        ['payroll', outside],
      ] as const) {
        const r = await cli(['run', `definitions/${file}.yaml`], as(user));
        expect([user, file, r.code], r.stderr).toEqual([user, file, ok ? 3 : 2]);
        if (!ok)
          expect(r.stderr).toMatch(
            new RegExp(`${user} is L\\d \\([^)]+\\); starting ${file} needs L1 \\(CMD.BRIDGE\\) or higher`),
          );
      }
    }
  }, 90_000);

  it('pause, resume (of a paused run), cancel, retry and limits set: L0 and L1 only, a refusal recording nothing', async () => {
    const runId = await started('payroll');
    const paused = await started('payroll');
    expect((await cli(['pause', paused], as('bob'))).code).toBe(0);
    const before = [await events(runId), await events(paused)];
    for (const user of ['ops-east', 'scanner'] as const) {
      for (const args of [
        ['pause', runId],
        ['resume', paused],
        ['cancel', runId],
        ['retry', runId],
        ['limits', 'set', 'limits.yaml'],
      ]) {
        const r = await cli(args, as(user));
        expect([user, args[0], r.code], r.stderr).toEqual([user, args[0], 2]);
        expect(r.stderr).toMatch(/needs L1 \(CMD\.BRIDGE\) or higher/);
      }
    }
    expect([await events(runId), await events(paused)]).toEqual(before);
    expect(JSON.parse((await cli(['limits', 'show', '--json'], as('alice'))).stdout)).not.toMatchObject({
      queues: { payments: {} },
    });
    // The bridge and the Commander may.
    expect((await cli(['pause', runId], as('bob'))).code).toBe(0);
    expect((await cli(['resume', runId], as('alice'))).code).toBe(3); // un-paused, and waiting for its reviews again
    expect((await cli(['limits', 'set', 'limits.yaml'], as('bob'))).code).toBe(0);
    const cancel = await cli(['cancel', runId], as('alice'));
    expect(cancel.code, cancel.stderr).toBe(0);
    const retry = await cli(['retry', runId, '--json'], as('bob'));
    expect(retry.code, retry.stderr).not.toBe(2);
  }, 90_000);

  it("approving: a task's agent_level is the least level that may; each refusal is kept once", async () => {
    const runId = await started('stock-count');
    for (const [task, may] of [
      ['commander_review', ['alice']],
      ['bridge_review', ['alice', 'bob']],
    ] as const) {
      for (const [user] of USERS) {
        if ((may as readonly string[]).includes(user)) continue;
        const r = await cli(['approve', runId, task], as(user));
        expect([task, user, r.code], r.stderr).toEqual([task, user, 2]);
      }
    }
    const refused = (
      JSON.parse((await cli(['history', runId, '--json'], as('alice'))).stdout) as {
        type: string;
        data: { by: string; task: string };
      }[]
    )
      .filter((e) => e.type === 'approval.refused')
      .map((e) => `${e.data.task}:${e.data.by}`)
      .sort();
    expect(refused).toEqual([
      'bridge_review:ops-east',
      'bridge_review:scanner',
      'commander_review:bob',
      'commander_review:ops-east',
      'commander_review:scanner',
    ]);
    expect((await cli(['approve', runId, 'bridge_review'], as('bob'))).code).toBe(0);
    expect((await cli(['approve', runId, 'commander_review'], as('alice'))).code).toBe(0);
    expect(JSON.parse((await cli(['status', runId, '--json'], as('alice'))).stdout).status).toBe('COMPLETED');
  }, 90_000);
});
