/**
 * A reader without the data key on an encrypted embedded store (issue 63, docs/security.md#the-run-index) whose index
 * must be made again (deleted, or never made): `list --json` and `stats --json` without the key must give the tasks and
 * counts the key holder gets (the values `[encrypted]`), and must not leave an index that a reader with the key then
 * believes. A keyless `reindex` says it wrote no index, and why.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ORDERS_YAML, ORDER_ARGS, comparable, statsCounts } from './index-values.js';

const KEY = randomBytes(32).toString('base64');
const WITH_KEY = { LEDGERFLOW_SECRET_LF_DATA_KEY: KEY };
const NO_KEY = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };

async function json(dir: string, env: Record<string, string>, args: string[]) {
  const r = await cli([...args, '--json', '--store', 'store'], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as any;
}
const tasksOf = (rows: Record<string, unknown>[]) =>
  rows.map((r) => ({ status: r.status, search: comparable(r).search }));

describe('a reader without the key on an encrypted embedded store whose index is made again', () => {
  it('list and stats without the key count tasks as with it, and leave no index the key holder believes', async () => {
    const dir = tempDir('lf-keyless-idx-');
    writeFileSync(join(dir, 'orders.yaml'), ORDERS_YAML);
    const r = await cli(['run', 'orders.yaml', '--id', 'o1', '--store', 'store', ...ORDER_ARGS], {
      cwd: dir,
      env: WITH_KEY,
    });
    expect(r.stdout, r.stderr).toContain('COMPLETED');
    const want = tasksOf(await json(dir, WITH_KEY, ['list']));
    expect(want[0]!.search).toMatchObject({ stage: 'gold' });
    const wantStats = statsCounts(await json(dir, WITH_KEY, ['stats', 'orders']));

    // The index gone (a copy of the store without it, a crash before it was written): the keyless reader comes first.
    rmSync(join(dir, 'store', 'index'), { recursive: true, force: true });
    expect(tasksOf(await json(dir, NO_KEY, ['list']))[0]!.status).toBe('COMPLETED');
    expect(statsCounts(await json(dir, NO_KEY, ['stats', 'orders']))).toEqual(wantStats);
    // And what the key holder reads after it is still right.
    expect(tasksOf(await json(dir, WITH_KEY, ['list']))).toEqual(want);
    expect(statsCounts(await json(dir, WITH_KEY, ['stats', 'orders']))).toEqual(wantStats);
  }, 120_000);

  it('a keyless reindex says it wrote no index and why; with the key it writes one', async () => {
    const dir = tempDir('lf-keyless-reindex-');
    writeFileSync(join(dir, 'orders.yaml'), ORDERS_YAML);
    const r = await cli(['run', 'orders.yaml', '--id', 'o1', '--store', 'store', ...ORDER_ARGS], {
      cwd: dir,
      env: WITH_KEY,
    });
    expect(r.stdout, r.stderr).toContain('COMPLETED');
    const blind = await cli(['reindex', '--store', 'store'], { cwd: dir, env: NO_KEY });
    expect(blind.code).not.toBe(0);
    expect(blind.stderr).toMatch(/no index was written/i);
    expect(blind.stderr).toContain('LF_DATA_KEY');
    const keyed = await cli(['reindex', '--store', 'store'], { cwd: dir, env: WITH_KEY });
    expect(keyed.code, keyed.stderr).toBe(0);
    expect(keyed.stdout).toMatch(/reindexed 1 run/);
  }, 120_000);
});
