/**
 * docs/users.md, "On the embedded store", as a user does it: a users file
 * with a Commander, a bridge operator and a Station OPS of domain inventory;
 * the doc's stock-count workflow; each command as each level.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, cli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { PAYROLL, STOCK_COUNT } from '../helpers/authority.js';

let dir = '';
const as = (user: string, password = `${user}-pw`) => ({
  cwd: dir,
  env: { LEDGERFLOW_USER: user, LEDGERFLOW_PASSWORD: password, LEDGERFLOW_STORE: join(dir, 'store') },
});
const runIdOf = (stdout: string) => /run (\S+)/.exec(stdout)?.[1] ?? '';

describe('authority levels on the embedded store', () => {
  beforeAll(async () => {
    dir = tempDir('lf-authority-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'stock-count.yaml'), STOCK_COUNT);
    writeFileSync(join(dir, 'definitions', 'payroll.yaml'), PAYROLL);
    for (const [name, level, domains] of [
      ['alice', 'L0', ''],
      ['bob', 'L1', ''],
      ['ops-east', 'L2', 'inventory'],
      ['scanner', 'L3', ''],
    ] as const) {
      const r = await cli(
        ['users', 'add', name, '--level', level, ...(domains ? ['--domains', domains] : []), '--password-stdin'],
        { cwd: dir, stdin: `${name}-pw\n` },
      );
      expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);

  it("an L2 starts the workflows of its domain only; cancel needs L1; approving needs the task's L0, and the refusal is kept", async () => {
    const started = await cli(['run', 'definitions/stock-count.yaml', '--json'], as('ops-east'));
    expect(started.code, started.stderr).toBe(3); // waiting for commander_review
    const runId = JSON.parse(started.stdout).runId as string;

    const payroll = await cli(['run', 'definitions/payroll.yaml'], as('ops-east'));
    expect(payroll.code).toBe(2);
    expect(payroll.stderr).toContain(
      'ops-east is L2 (Station OPS); starting payroll needs L1 (CMD.BRIDGE) or higher (an L2 starts the workflows of its domains: inventory; payroll is in domain finance)',
    );
    const worker = await cli(['start', 'stock-count'], as('scanner'));
    expect([
      worker.code,
      worker.stderr.includes('scanner is L3 (Worker); starting stock-count needs L1 (CMD.BRIDGE) or higher'),
    ]).toEqual([2, true]);

    const cancel = await cli(['cancel', runId], as('ops-east'));
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toContain('ops-east is L2 (Station OPS); controlling runs needs L1 (CMD.BRIDGE) or higher');

    const byBridge = await cli(['approve', runId, 'commander_review'], as('bob'));
    expect(byBridge.code).toBe(2);
    expect(byBridge.stderr).toContain(
      'bob is L1 (CMD.BRIDGE); approving commander_review needs L0 (Commander) or higher',
    );
    const history = JSON.parse((await cli(['history', runId, '--json'], as('alice'))).stdout) as {
      type: string;
      data: { by?: string; reason?: string };
    }[];
    expect(history.filter((e) => e.type === 'approval.refused').map((e) => [e.data.by, e.data.reason])).toEqual([
      ['bob', 'bob is L1 (CMD.BRIDGE); approving commander_review needs L0 (Commander) or higher'],
    ]);
    expect(history.some((e) => e.type === 'run.cancelled')).toBe(false);

    const byCommander = await cli(['approve', runId, 'commander_review'], as('alice'));
    expect(byCommander.code, byCommander.stderr).toBe(0);
    expect(JSON.parse((await cli(['status', runId, '--json'], as('alice'))).stdout).status).toBe('COMPLETED');
  }, 90_000);

  it('an L1 starts any workflow and cancels; a wrong or missing password, or a name not in the file, acts as nobody', async () => {
    const started = await cli(['run', 'definitions/payroll.yaml', '--json'], as('bob'));
    expect(started.code, started.stderr).toBe(3);
    const runId = JSON.parse(started.stdout).runId as string;
    for (const [env, why] of [
      [as('bob', 'guess'), 'wrong password'],
      [
        { ...as('bob'), env: { ...as('bob').env, LEDGERFLOW_PASSWORD: '' } },
        "give bob's password in LEDGERFLOW_PASSWORD",
      ],
      [as('mallory'), 'mallory is not in the users file'],
    ] as const) {
      const r = await cli(['cancel', runId], env);
      expect([r.code, r.stderr.includes(why)], r.stderr).toEqual([2, true]);
    }
    // At a terminal, with no LEDGERFLOW_PASSWORD, the password is asked for (not echoed); `script` gives the command a terminal.
    const atTerminal = spawn('script', ['-qec', `${process.execPath} ${BIN} cancel ${runId}`, '/dev/null'], {
      cwd: dir,
      env: { ...process.env, LEDGERFLOW_USER: 'bob', LEDGERFLOW_PASSWORD: '', LEDGERFLOW_STORE: join(dir, 'store') },
    });
    let screen = '';
    atTerminal.stdout!.on('data', (d) => (screen += d));
    await waitFor(
      'the password prompt',
      () => screen.includes(`password for bob (users file ${join(dir, 'users.yaml')}): `),
      { timeout: 20_000 },
    );
    atTerminal.stdin!.write('bob-pw\r');
    const code = await new Promise<number | null>((r) => atTerminal.once('exit', r));
    expect([code, screen.includes('bob-pw')], screen).toEqual([0, false]);
    expect(runIdOf(screen)).toBe(runId);
    expect(JSON.parse((await cli(['status', runId, '--json'], as('bob'))).stdout).status).toBe('CANCELLED');
  }, 90_000);
});
