/**
 * A start goes through the one run API (src/runs/) from every edge that records one without driving it:
 * `start --detach`, the bridge's `@workflow` with `--detach` and the dashboard's start button. With a users
 * file (docs/users.md) each is judged alike — bob (L2, domain inventory) may not start a finance workflow,
 * with the same message everywhere, nothing recorded — and each records who started the run it allows.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir, type CliResult } from '../helpers/cli.js';
import { PAYROLL, STOCK_COUNT } from '../helpers/authority.js';
import { startUiProcess } from '../server/ui-helpers.js';

let dir = '';
const env = (user: string) => ({
  LEDGERFLOW_USER: user,
  LEDGERFLOW_PASSWORD: `${user}-pw`,
  LEDGERFLOW_STORE: join(dir, 'store'),
});
const lf = (args: string[], user: string, stdin?: string): Promise<CliResult> =>
  cli(args, { cwd: dir, env: env(user), ...(stdin !== undefined ? { stdin } : {}) });
const runFiles = () => {
  try {
    return readdirSync(join(dir, 'store', 'runs')).filter((f) => f.endsWith('.jsonl')).length;
  } catch {
    return 0;
  }
};
const startedBy = async (runId: string) =>
  (
    JSON.parse((await lf(['history', runId, '--json'], 'carol')).stdout) as {
      type: string;
      data: { source?: { by?: string } };
    }[]
  )[0]!.data.source?.by;

describe('a start, judged once for start --detach, the bridge and the dashboard', () => {
  beforeAll(async () => {
    dir = tempDir('lf-runs-start-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'stock-count.yaml'), STOCK_COUNT);
    writeFileSync(join(dir, 'definitions', 'payroll.yaml'), PAYROLL);
    for (const [name, level, domains] of [
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

  it("bob (L2, domain inventory) is refused payroll everywhere with one message, nothing recorded; carol's starts record her as the starter", async () => {
    const why =
      'bob is L2 (Station OPS); starting payroll needs L1 (CMD.BRIDGE) or higher (an L2 starts the workflows of its domains: inventory; payroll is in domain finance)';
    const command = await lf(['start', 'payroll', '--detach'], 'bob');
    expect([command.code, command.stderr.includes(why)], command.stderr).toEqual([2, true]);
    const line = await lf(['bridge', '--as', 'bob', '--detach'], 'bob', '@workflow payroll\n');
    expect([line.code, line.stdout]).toEqual([2, `line 1: error: ${why}\n`]);

    const ui = await startUiProcess(['--store', join(dir, 'store')], ['--definitions', join(dir, 'definitions')], {
      cwd: dir,
    });
    try {
      const signIn = async (user: string) => {
        const r = await fetch(`${ui.base}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user, password: `${user}-pw` }),
        });
        expect(r.status).toBe(200);
        return {
          cookie: r.headers.get('set-cookie')!.split(';')[0]!,
          'x-lf-csrf': ((await r.json()) as { csrf: string }).csrf,
          'content-type': 'application/json',
        };
      };
      const start = async (user: string, workflow: string) =>
        fetch(`${ui.base}/api/workflows/${workflow}/start`, {
          method: 'POST',
          headers: await signIn(user),
          body: JSON.stringify({ input: {} }),
        });
      const refused = await start('bob', 'payroll');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'LF_AUTHORITY_REFUSED',
        message: why,
      });
      expect(runFiles()).toBe(0);

      const byUi = await start('carol', 'payroll');
      expect(byUi.status).toBe(200);
      expect(await startedBy(((await byUi.json()) as { runId: string }).runId)).toBe('carol');
    } finally {
      await ui.stop();
    }
    const byCommand = await lf(['start', 'payroll', '--detach', '--json'], 'carol');
    expect(byCommand.code, byCommand.stderr).toBe(0);
    expect(await startedBy((JSON.parse(byCommand.stdout) as { runId: string }).runId)).toBe('carol');
    const byBridge = await lf(['bridge', '--as', 'carol', '--detach', '--json'], 'carol', '@workflow stock-count\n');
    expect(byBridge.code, byBridge.stderr).toBe(0);
    expect(await startedBy((JSON.parse(byBridge.stdout.split('\n')[0]!) as { runId: string }).runId)).toBe('carol');
  }, 90_000);
});
