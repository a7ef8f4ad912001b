/**
 * The run index of an encrypted run on the embedded store (issue 63, docs/security.md#the-run-index): the same workflow
 * run once in clear and once with LF_DATA_KEY gives the same `list --json`, the same `list` filters on search
 * attributes and output, the same `stats` and the same `/api/runs`; no value is in any file of the store (index
 * included); a reader without the key gets ids, statuses, tasks and counts, and `[encrypted]` for the values.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { startUiProcess } from '../server/ui-helpers.js';
import { NAME, everyByte, leaked } from './docs-page.js';
import { FILTERS, ORDERS_YAML, ORDER_ARGS, comparable, statsCounts } from './index-values.js';

const KEY = randomBytes(32).toString('base64');
const WITH_KEY = { LEDGERFLOW_SECRET_LF_DATA_KEY: KEY };
const NO_KEY = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };

async function listJson(dir: string, store: string, env: Record<string, string>, ...args: string[]) {
  const r = await cli(['list', '--json', '--store', store, ...args], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Record<string, unknown>[]).map(comparable);
}

async function statsJson(dir: string, store: string, env: Record<string, string>) {
  const r = await cli(['stats', 'orders', '--json', '--store', store], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(0);
  return statsCounts(JSON.parse(r.stdout));
}

describe('the run index of an encrypted run on the embedded store (issue 63)', () => {
  it('list, its filters, stats and /api/runs answer as for the same run in clear; the index holds no value', async () => {
    const dir = tempDir('lf-crypt-idx-');
    writeFileSync(join(dir, 'orders.yaml'), ORDERS_YAML);
    const clear = join(dir, 'clear');
    const sealed = join(dir, 'sealed');
    for (const [store, env] of [
      [clear, NO_KEY],
      [sealed, WITH_KEY],
    ] as const) {
      const r = await cli(['run', 'orders.yaml', '--id', 'o1', '--store', store, ...ORDER_ARGS], { cwd: dir, env });
      expect(r.stdout, r.stderr).toContain('COMPLETED');
    }

    const want = await listJson(dir, clear, NO_KEY);
    expect(want).toEqual([
      expect.objectContaining({ runId: 'o1', search: { customer: NAME, amount: 250, stage: 'gold' } }),
    ]);
    expect(await listJson(dir, sealed, WITH_KEY)).toEqual(want);
    for (const filter of FILTERS) {
      const expected = await listJson(dir, clear, NO_KEY, ...filter);
      expect(
        expected.map((r) => r.runId),
        filter.join(' '),
      ).toEqual(['o1']);
      expect(await listJson(dir, sealed, WITH_KEY, ...filter), filter.join(' ')).toEqual(expected);
    }
    const stats = await statsJson(dir, clear, NO_KEY);
    expect(stats.task_success_rate).toMatchObject({ tasks: { gold_notice: { completed: 1 } } });
    expect(await statsJson(dir, sealed, WITH_KEY)).toEqual(stats);

    // The dashboard's API, a process holding the key.
    const apiRuns = async (store: string, env: Record<string, string>) => {
      const ui = await startUiProcess(['--store', store], [], { cwd: dir, env });
      try {
        const headers: Record<string, string> = ui.token ? { authorization: `Bearer ${ui.token}` } : {};
        const page = (await (await fetch(`${ui.base}/api/runs?where=stage=gold`, { headers })).json()) as {
          runs: Record<string, unknown>[];
          total: number;
        };
        return { total: page.total, runs: page.runs.map(comparable) };
      } finally {
        await ui.stop();
      }
    };
    const apiClear = await apiRuns(clear, NO_KEY);
    expect(apiClear.total).toBe(1);
    expect(await apiRuns(sealed, WITH_KEY)).toEqual(apiClear);

    // Every byte of the encrypted store, its index included: no value.
    const files = everyByte(sealed);
    expect(files.map((f) => f.file.slice(sealed.length))).toEqual(expect.arrayContaining(['/index/runs.jsonl']));
    for (const f of files) expect(leaked(f.text), f.file).toBeNull();

    // Without the key: ids, statuses, tasks and counts as in clear; each value [encrypted], found by no filter on it.
    const blind = await listJson(dir, sealed, NO_KEY);
    expect(leaked(JSON.stringify(blind))).toBeNull();
    expect(blind).toEqual([
      {
        ...want[0],
        result: '[encrypted]',
        search: { customer: '[encrypted]', amount: '[encrypted]', stage: '[encrypted]' },
      },
    ]);
    expect(await statsJson(dir, sealed, NO_KEY)).toEqual(stats);
    expect(await listJson(dir, sealed, NO_KEY, '--where', `customer=${NAME}`)).toEqual([]);
  }, 120_000);
});
