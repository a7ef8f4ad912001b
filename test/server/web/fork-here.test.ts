/**
 * "Fork from here" in a real browser (Debian's chromium) against a real `ledgerflow ui` on the embedded store, as
 * docs/runs.md ("Forking a run", In the dashboard) tells it: on a completed run's page, travel back to the event after
 * fetch completed, type the changed input, press Fork from here; the page opens the new run, which reuses fetch, runs
 * price with the new amount and completes; the original is untouched.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';
import { forkHandlers, ORDER_YAML } from '../../helpers/fork-docs.js';

let ui: UiProcess;
let browser: Browser;
let dir: string;
let original: string;
const calls = () =>
  existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean) : [];

describe.skipIf(!chromiumBin() && !process.env.CI)('Fork from here, in chromium (embedded store)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-ui-fork-');
    writeFileSync(join(dir, 'order.yaml'), ORDER_YAML);
    writeFileSync(join(dir, 'handlers.mjs'), forkHandlers(dir));
    const ran = await cli(['--store', join(dir, 'store'), 'run', 'order.yaml', '--amount', '5', '--json'], {
      cwd: dir,
    });
    expect(ran.code, ran.stderr).toBe(0);
    original = (JSON.parse(ran.stdout) as { runId: string }).runId;
    [ui, browser] = await Promise.all([
      startUiProcess(['--store', join(dir, 'store')], ['--definitions', dir], { cwd: dir }),
      launchBrowser(),
    ]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it('travels back to after fetch, forks with amount 7, and lands on the new run, which reuses fetch', async () => {
    const { page } = browser;
    const auth = { authorization: `Bearer ${ui.token}` };
    const before = await (await fetch(`${ui.base}/api/runs/${original}/events`, { headers: auth })).text();
    await page.goto(`${ui.base}/?token=${ui.token}`);
    await page.waitForURL(`${ui.base}/`);
    await page.goto(`${ui.base}/runs/${original}`);
    // Live, the page offers no fork: it is time travel's.
    const priceStarted = page.locator('ol.timeline li', { hasText: 'price attempt 1 started' });
    await priceStarted.waitFor();
    expect(await page.locator('[data-fork-here]').count()).toBe(0);
    await page.locator('input.slider').fill(String(Number(await priceStarted.getAttribute('data-seq')) - 1));
    await page.locator('.banner.travel').waitFor();
    await page.locator('input[name=fork-input]').fill('{"amount": 7}');
    await page.getByRole('button', { name: 'Fork from here' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(original));
    const forked = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    // The dashboard's Service drives the new run; the page shows it live.
    await expect.poll(() => page.locator('.page-head .badge').textContent(), { timeout: 20_000 }).toBe('COMPLETED');
    const detail = (await (await fetch(`${ui.base}/api/runs/${forked}`, { headers: auth })).json()) as {
      run: { tasks: Record<string, { output: unknown }>; forkOf?: unknown };
    };
    expect(detail.run.tasks.price!.output).toEqual({ total: 14 });
    expect(calls()).toEqual(['fetch', 'price', 'ship', 'price', 'ship']);
    expect(await (await fetch(`${ui.base}/api/runs/${original}/events`, { headers: auth })).text()).toBe(before);
  }, 60_000);
});
