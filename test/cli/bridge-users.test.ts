/**
 * The bridge in a project with a users file, attacked as issue 60 found it: each line is judged exactly as the
 * command it stands for (sign-in, level, domain, approvers), with the same exit code and the same message, and
 * nothing a refused line asked for reaches a run's log. An inbox acts as the bridge's signed-in user no higher
 * than its --inbox-level, in a folder only the bridge's account writes (docs/bridge.md#who-acts-through-an-inbox).
 * Real CLI processes on the embedded store.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir, type CliResult } from '../helpers/cli.js';
import { PAYROLL, STOCK_COUNT } from '../helpers/authority.js';
import { waitFor } from '../helpers/wait.js';

let dir = '';
/** As `user`, with `password` in LEDGERFLOW_PASSWORD ('' for none), on the project's store. */
const env = (user: string, password = `${user}-pw`) => ({
  LEDGERFLOW_USER: user,
  LEDGERFLOW_PASSWORD: password,
  LEDGERFLOW_STORE: join(dir, 'store'),
});
const lf = (args: string[], user: string, password?: string, stdin?: string): Promise<CliResult> =>
  cli(args, { cwd: dir, env: env(user, password), ...(stdin !== undefined ? { stdin } : {}) });
/** `bridge --as <user>` with `lines` on stdin; the user's password given unless `password` says otherwise. */
const bridge = (user: string, lines: string, password?: string, args: string[] = []) =>
  lf(['bridge', '--as', user, '--detach', ...args], 'nobody', password ?? `${user}-pw`, lines);

interface Event {
  type: string;
  data: { by?: string; reason?: string };
}
const history = async (runId: string): Promise<Event[]> =>
  JSON.parse((await lf(['history', runId, '--json'], 'alice')).stdout) as Event[];
const runCount = async (): Promise<number> =>
  (JSON.parse((await lf(['list', '--json'], 'alice')).stdout) as unknown[]).length;
/** A stock-count run waiting for its Commander's review, started by alice. */
async function waitingRun(): Promise<string> {
  const r = await lf(['start', 'stock-count', '--detach', '--json'], 'alice');
  expect(r.code, r.stderr).toBe(0);
  const runId = JSON.parse(r.stdout).runId as string;
  expect((await lf(['resume', runId], 'alice')).code).toBe(3); // driven to the HUMAN task
  return runId;
}

describe('bridge with a users file: each line judged as its command', () => {
  beforeAll(async () => {
    dir = tempDir('lf-bridge-users-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'stock-count.yaml'), STOCK_COUNT);
    writeFileSync(join(dir, 'definitions', 'payroll.yaml'), PAYROLL);
    for (const [name, level, domains] of [
      ['alice', 'L0', ''],
      ['carol', 'L1', ''],
      ['bob', 'L2', 'inventory'],
    ] as const) {
      const r = await cli(
        ['users', 'add', name, '--level', level, ...(domains ? ['--domains', domains] : []), '--password-stdin'],
        { cwd: dir, stdin: `${name}-pw\n` },
      );
      expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);

  it('alice without her password, and mallory who is not in the file, are refused as approve refuses them: exit 2, nothing recorded', async () => {
    const runId = await waitingRun();
    const before = (await history(runId)).length;
    for (const [user, password, why] of [
      ['alice', '', "give alice's password in LEDGERFLOW_PASSWORD"],
      ['alice', 'guess', 'wrong password'],
      ['mallory', 'mallory-pw', 'mallory is not in the users file'],
    ] as const) {
      const command = await lf(['approve', runId, 'commander_review', '--as', user], 'nobody', password);
      const line = await bridge(user, `@approve ${runId} commander_review\n`, password);
      expect([command.code, command.stderr.includes(why)], command.stderr).toEqual([2, true]);
      expect([line.code, line.stderr.includes(why), line.stdout], line.stderr).toEqual([2, true, '']);
      // The same refusal, said the same way: LF_SIGN_IN_FAILED's "cannot act as <user>".
      expect(line.stderr.split('\n')[0]).toBe(command.stderr.split('\n')[0]);
    }
    const events = await history(runId);
    expect(events).toHaveLength(before);
    expect(events.some((e) => e.type.startsWith('approval.'))).toBe(false);
  }, 90_000);

  it('bob (L2, domain inventory) starts no finance run through the bridge, as start refuses him; his own domain he starts', async () => {
    const runs = await runCount();
    const command = await lf(['start', 'payroll', '--detach'], 'bob');
    const line = await bridge('bob', '@workflow payroll\n');
    const why =
      'bob is L2 (Station OPS); starting payroll needs L1 (CMD.BRIDGE) or higher (an L2 starts the workflows of its domains: inventory; payroll is in domain finance)';
    expect([command.code, command.stderr.includes(why)], command.stderr).toEqual([2, true]);
    expect(line.code, line.stderr).toBe(2);
    expect(line.stdout).toBe(`line 1: error: ${why}\n`);
    const json = await bridge('bob', '@workflow payroll\n', undefined, ['--json']);
    expect([json.code, JSON.parse(json.stdout).error.code]).toEqual([2, 'LF_AUTHORITY_REFUSED']);
    expect(await runCount()).toBe(runs);

    const own = await bridge('bob', '@workflow stock-count\n');
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toMatch(/^line 1: ok: run \S+ started \(stock-count v1, /);
    expect(await runCount()).toBe(runs + 1);
  }, 90_000);

  it("an approval below the task's level is refused and kept as approve keeps it; alice with her password approves", async () => {
    const runId = await waitingRun();
    const line = await bridge('bob', `@approve ${runId} commander_review\n`);
    expect(line.code).toBe(2);
    expect(line.stdout).toContain('bob is L2 (Station OPS); approving commander_review needs L0 (Commander) or higher');
    const cancel = await bridge('bob', `@cancel ${runId}\n`);
    expect([cancel.code, cancel.stdout]).toEqual([
      2,
      'line 1: error: bob is L2 (Station OPS); controlling runs needs L1 (CMD.BRIDGE) or higher\n',
    ]);
    expect(
      (await history(runId))
        .filter((e) => e.type.startsWith('approval.') || e.type === 'run.cancelled')
        .map((e) => [e.type, e.data.by]),
    ).toEqual([['approval.refused', 'bob']]);

    const ok = await bridge('alice', `@approve ${runId} commander_review signed\n`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      new RegExp(`^line 1: ok: approved commander_review for run ${runId} as alice \\(event \\d+\\)`),
    );
    const recorded = (await history(runId)).find((e) => e.type === 'approval.recorded');
    expect(recorded?.data).toMatchObject({ by: 'alice' });
    expect(recorded?.data).not.toHaveProperty('unauthenticated');
  }, 90_000);

  it("--inbox asks for its level, in a folder only the bridge's account writes; its files act as alice no higher than --inbox-level", async () => {
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox, { mode: 0o700 });
    const noLevel = await bridge('alice', '', undefined, ['--inbox', 'inbox']);
    expect([noLevel.code, noLevel.stderr], noLevel.stderr).toEqual([
      2,
      expect.stringContaining('whoever can drop a file in'),
    ]);
    expect(noLevel.stderr).toContain('--inbox-level');
    chmodSync(inbox, 0o770);
    const open = await bridge('alice', '', undefined, ['--inbox', 'inbox', '--inbox-level', 'L1']);
    expect(
      [
        open.code,
        open.stderr.includes(
          'can be written by its group (mode 770): whoever can drop a file there would act as alice',
        ),
      ],
      open.stderr,
    ).toEqual([2, true]);
    chmodSync(inbox, 0o700);
    const noPassword = await bridge('alice', '', '', ['--inbox', 'inbox', '--inbox-level', 'L1']);
    expect([noPassword.code, noPassword.stderr.includes('cannot act as alice')]).toEqual([2, true]);
    expect(existsSync(join(inbox, 'done'))).toBe(false); // refused before it took anything

    const runId = await waitingRun();
    const child = spawnCli(['bridge', '--as', 'alice', '--inbox', 'inbox', '--inbox-level', 'L1', '--detach'], {
      cwd: dir,
      env: env('nobody', 'alice-pw'),
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    try {
      await waitFor('the bridge watching', () => stderr.includes('watching'), { timeout: 20_000 });
      expect(stderr).toContain('act as alice at L1 (alice is L0, --inbox-level L1)');
      writeFileSync(join(inbox, '.f.part'), `@approve ${runId} commander_review\n@workflow payroll\n`);
      renameSync(join(inbox, '.f.part'), join(inbox, 'f.txt'));
      await waitFor('the file answered', () => existsSync(join(inbox, 'failed', 'f.txt.result')), { timeout: 20_000 });
      const answers = readFileSync(join(inbox, 'failed', 'f.txt.result'), 'utf8')
        .trimEnd()
        .split('\n');
      expect(answers[0]).toContain(
        'alice is L1 (CMD.BRIDGE); approving commander_review needs L0 (Commander) or higher',
      );
      expect(answers[1]).toMatch(/^line 2: ok: run bridge-[0-9a-f]{20}-2 started \(payroll v1, /);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await closed).toBe(0);
    expect(
      (await history(runId)).filter((e) => e.type.startsWith('approval.')).map((e) => [e.type, e.data.by]),
    ).toEqual([['approval.refused', 'alice']]);
  }, 90_000);
});
