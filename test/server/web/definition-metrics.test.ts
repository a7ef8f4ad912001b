/**
 * The definition page's Metrics section (docs/dashboard.md), in chromium
 * against a real `ledgerflow ui` on the embedded store: the stats test's
 * definition (seed 003's monitoring block) in the definitions folder, its
 * three runs made by `ledgerflow run` (two retried then completed, one
 * failed). The section shows the three figures the block lists, in its
 * order, and per task; GET /api/definitions/:id/stats is `stats --json`.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { STATS_WF as WF } from '../../helpers/stats.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';

const FIX = join(ROOT, 'test', 'fixtures');
let ui: UiProcess;
let browser: Browser;
let dir: string;

describe.skipIf(!chromiumBin() && !process.env.CI)("the definition page's Metrics section, in chromium", () => {
  beforeAll(async () => {
    dir = tempDir('lf-ui-stats-');
    mkdirSync(join(dir, 'defs', 'stats'), { recursive: true });
    // The definition names its handlers ../handlers.mjs: the same layout as the fixtures'.
    copyFileSync(join(FIX, 'stats', 'inventory-stats.yaml'), join(dir, 'defs', 'stats', 'inventory-stats.yaml'));
    copyFileSync(join(FIX, 'handlers.mjs'), join(dir, 'defs', 'handlers.mjs'));
    const def = join(dir, 'defs', 'stats', 'inventory-stats.yaml');
    for (const inputs of [[], [], ['--succeed_on', '5']]) {
      const r = await cli(['--store', join(dir, 'store'), 'run', def, ...inputs], { cwd: dir });
      expect(r.code, r.stderr).toBe(inputs.length ? 1 : 0);
    }
    [ui, browser] = await Promise.all([
      startUiProcess(['--store', join(dir, 'store')], ['--definitions', join(dir, 'defs', 'stats')], { cwd: dir }),
      launchBrowser(),
    ]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it('GET /api/definitions/:id/stats answers what ledgerflow stats --json prints', async () => {
    const res = await fetch(`${ui.base}/api/definitions/${WF}/stats`, {
      headers: { authorization: `Bearer ${ui.token}` },
    });
    expect(res.status).toBe(200);
    const printed = await cli(['--store', join(dir, 'store'), 'stats', WF, '--json'], { cwd: dir });
    expect(await res.json()).toEqual(JSON.parse(printed.stdout));
    const bad = await fetch(`${ui.base}/api/definitions/${WF}/stats?since=yesterday`, {
      headers: { authorization: `Bearer ${ui.token}` },
    });
    expect(bad.status).toBe(400);
  });

  it('shows execution_time, task_success_rate and retry_count, as monitoring.metrics lists them, and per task', async () => {
    const { page } = browser;
    await page.goto(`${ui.base}/definitions/${WF}?token=${ui.token}`);
    const section = page.locator('section.definition-metrics');
    await section.getByRole('heading', { name: 'Metrics' }).waitFor();
    const cards = section.locator('[data-metric]');
    await cards.first().waitFor();
    expect(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')))).toEqual([
      'execution_time',
      'task_success_rate',
      'retry_count',
    ]);
    expect(await section.locator('[data-runs]').textContent()).toContain(
      '3 runs: 2 completed, 1 failed, 0 cancelled, 0 not settled.',
    );
    expect(await section.locator('[data-metric=task_success_rate] .stat-value').textContent()).toBe('87.5 %');
    expect(await section.locator('[data-metric=retry_count] .stat-value').textContent()).toBe('4');
    expect(await section.locator('[data-metric=execution_time] .stat-value').textContent()).toMatch(
      /^p50 .+ · p95 .+$/,
    );
    expect(await section.locator('tr[data-task=scan_files] [data-figure=task_success_rate]').textContent()).toBe(
      '66.7 % (2/3)',
    );
    expect(await section.locator('tr[data-task=scan_files] [data-figure=retry_count]').textContent()).toBe('4');
    expect(await section.locator('tr[data-task=generate_receipt] [data-figure=task_success_rate]').textContent()).toBe(
      '100.0 % (2/2)',
    );
  });
});
