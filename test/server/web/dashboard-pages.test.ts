/**
 * The dashboard's other pages in chromium against one real `ledgerflow ui` on
 * the embedded store: emit an event and open the run it started (its trigger
 * and agents), signal a WAIT from the run page and see the next task's input
 * as it ran (resolved), retry a FAILED run (the new run opens, linked both
 * ways), the definitions page (versions, diff, replay verdict), and "Newer" on
 * a paged URL opened afresh. One browser, one page.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';
import { waitFor } from '../../helpers/wait.js';

const FIX = join(ROOT, 'test', 'fixtures', 'dashboard');
let ui: UiProcess;
let browser: Browser;
let dir: string;
let emitted: string;
const T = 10_000;

const node = (task: string) => browser.page.locator(`svg.graph g.node[data-task="${task}"]`);
const runStatus = () => browser.page.locator('.run-page').getAttribute('data-status');
const fact = (name: string) =>
  browser.page
    .locator('dl.facts > div', { has: browser.page.locator('dt', { hasText: new RegExp(`^${name}$`) }) })
    .locator('dd');
const runIdInUrl = () => decodeURIComponent(new URL(browser.page.url()).pathname.split('/').pop()!);

async function api<B = Record<string, any>>(method: string, path: string, body?: unknown): Promise<B> {
  const r = await fetch(`${ui.base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ui.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(r.status, `${method} ${path}`).toBe(200);
  return (await r.json()) as B;
}
const settled = (runId: string, status: string) =>
  waitFor(`${runId} ${status}`, async () => (await api(`GET`, `/api/runs/${runId}`)).run.status === status, {
    timeout: 15_000,
  });

describe.skipIf(!chromiumBin() && !process.env.CI)(
  "the dashboard's steering and definitions pages, in chromium",
  () => {
    beforeAll(async () => {
      dir = tempDir('lf-ui-pages-');
      mkdirSync(join(dir, 'defs'));
      for (const f of ['steer.yaml', 'steer-handlers.mjs']) copyFileSync(join(FIX, f), join(dir, 'defs', f));
      [ui, browser] = await Promise.all([
        startUiProcess(['--store', join(dir, 'store')], ['--definitions', join(dir, 'defs')], { cwd: dir }),
        launchBrowser(),
      ]);
      await browser.page.goto(`${ui.base}/?token=${ui.token}`);
      await browser.page.getByRole('heading', { name: 'Runs' }).waitFor();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await ui?.stop();
    });

    it('emits an event from the Emit page and opens the run it started: trigger and agents shown', async () => {
      const { page } = browser;
      await page.getByRole('link', { name: 'Emit' }).click();
      await page.locator('input[name=type]').fill('feed.published');
      await page.locator('input[name=id]').fill('feed-evt-1');
      await page.locator('textarea[name=data]').fill('{"feed": "acme", "rows": 21}');
      await page.getByRole('button', { name: 'Emit' }).click();
      await page.locator('.started-runs a').click();
      await page.waitForURL(/\/runs\/[^/]+$/);
      emitted = runIdInUrl();
      expect(await fact('Trigger').textContent()).toBe('event feed.published (feed-evt-1)');
      await expect.poll(() => node('go_ahead').getAttribute('data-status'), { timeout: T }).toBe('WAITING');
      expect(await fact('Agents').textContent()).toBe('fetcher, loader');
    });

    it('the waiting run\'s duration reads the same way on its page and in the runs list: "so far", and growing while it waits', async () => {
      const { page } = browser;
      // docs/dashboard.md: a run not settled is measured from its start to now, "so far", on both pages.
      const growing = async (read: () => Promise<string | null>) => {
        const first = await read();
        expect(first).toMatch(/ so far$/);
        await waitFor('the duration to grow with no event', async () => (await read()) !== first, { timeout: T });
      };
      await growing(() => fact('Duration').textContent());
      await page.getByRole('link', { name: 'Runs' }).click();
      const cell = page.locator(`tr[data-run="${emitted}"] td[data-col=duration]`);
      await cell.waitFor();
      await growing(() => cell.textContent());
      // Back on the run's page for the next case.
      await page.locator(`tr[data-run="${emitted}"] a`, { hasText: emitted }).click();
      await page.waitForURL(/\/runs\/[^/]+$/);
      await node('load').waitFor();
    });

    it('signals the WAIT from the run page; the next task shows its declared input until it runs, then the input it ran with', async () => {
      const { page } = browser;
      await node('load').click();
      const panel = page.locator('.task-panel[data-task=load]');
      expect(await panel.locator('h3', { hasText: /^Input/ }).textContent()).toBe('Input (as declared)');
      expect(await panel.locator('pre.input').textContent()).toContain('${fetch.output.rows}');
      await page.locator('input[name=signal]').fill('go_ahead');
      await page.locator('input[name=signal-data]').fill('{"note": "rows checked"}');
      await page.getByRole('button', { name: 'Send signal' }).click();
      await expect.poll(runStatus, { timeout: T }).toBe('COMPLETED');
      await expect.poll(() => panel.locator('h3', { hasText: /^Input/ }).textContent()).toBe('Input (resolved)');
      expect(JSON.parse((await panel.locator('pre.input').textContent())!)).toEqual({
        rows: 42,
        table: 'feeds_acme',
        note: 'rows checked',
      });
      expect(await page.locator('ol.timeline').textContent()).toContain('go_ahead');
    });

    it('retries a FAILED run from its page: the new run opens, says which run it retries, and that run links to it', async () => {
      const { page } = browser;
      const { runId: failed } = await api<{ runId: string }>('POST', '/api/workflows/steer/start', {
        input: { feed: 'broken' },
      });
      await settled(failed, 'FAILED');
      await page.goto(`${ui.base}/runs/${failed}`);
      await node('fetch').click();
      expect(await page.locator('.task-panel[data-task=fetch] pre.bad').textContent()).toContain(
        'feed broken: 502 Bad Gateway',
      );
      writeFileSync(join(dir, 'feed-fixed'), 'yes');
      await page.getByRole('button', { name: 'Retry from failed' }).click();
      await page.waitForURL((url) => !url.pathname.endsWith(`/${failed}`));
      const retry = runIdInUrl();
      await page.locator(`.run-page[data-run="${retry}"]`).waitFor();
      expect(await fact('Retry of').textContent()).toBe(failed);
      expect(await fact('Trigger').textContent()).toBe(`retry of ${failed}`);
      await expect.poll(() => node('go_ahead').getAttribute('data-status'), { timeout: T }).toBe('WAITING');
      await fact('Retry of').getByRole('link').click();
      await page.locator(`.run-page[data-run="${failed}"]`).waitFor();
      expect(await fact('Retried as').textContent()).toContain(retry);
    });

    it("the definitions page: both versions (v1 known from its runs), their diff, and the replay verdict on v1's runs", async () => {
      const { page } = browser;
      copyFileSync(join(FIX, 'steer-v2.yaml'), join(dir, 'defs', 'steer.yaml'));
      await page.getByRole('link', { name: 'Definitions' }).click();
      const row = page.locator('tr[data-definition=steer]');
      await expect.poll(() => row.locator('td').nth(2).textContent()).toMatch(/^1, 2 /);
      await row.getByRole('link', { name: 'steer' }).click();
      await page.locator('svg.graph g.node[data-task=store]').waitFor();
      await page.getByRole('tab', { name: 'Diff' }).click();
      // v1 is known only from its runs: both sides are the recorded definitions, so only what changed differs.
      await expect
        .poll(() => page.locator('pre.diff .del').allTextContents())
        .toEqual(['--- steer@1', '-version: 1', '-  - id: load', '-    name: load', '-    handler: load']);
      expect(await page.locator('pre.diff .add').allTextContents()).toEqual([
        '+++ steer@2',
        '+version: 2',
        '+  - id: store',
        '+    name: store',
        '+    handler: store',
      ]);
      await page.getByRole('tab', { name: 'Replay verdict' }).click();
      // The completed run ran `load`, which version 2 has not: it would diverge; the failed and the waiting one would not.
      const verdict = page.locator('[data-verdict]');
      await expect.poll(() => verdict.getAttribute('data-verdict')).toBe('incompatible');
      expect(await verdict.textContent()).toBe('2 of 3 runs replay unchanged under version 2.');
      expect(await page.locator('.verdict table').textContent()).toContain(emitted);
    });

    it('"Newer" works on a paged URL opened afresh (cursor in the URL), back to the first page', async () => {
      const { page } = browser;
      const first = await api<{ runs: { runId: string }[]; nextCursor: string }>('GET', '/api/runs?limit=1');
      const second = await api<{ runs: { runId: string }[]; nextCursor: string }>(
        'GET',
        `/api/runs?limit=1&cursor=${first.nextCursor}`,
      );
      const third = await api<{ runs: { runId: string }[] }>('GET', `/api/runs?limit=1&cursor=${second.nextCursor}`);
      await page.goto(`${ui.base}/?limit=1&cursor=${second.nextCursor}`);
      const rows = () =>
        page.locator('tr[data-run]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')));
      await expect.poll(rows).toEqual(third.runs.map((r) => r.runId));
      await page.getByRole('button', { name: '← Newer' }).click();
      await expect.poll(rows).toEqual(second.runs.map((r) => r.runId));
      await page.getByRole('button', { name: '← Newer' }).click();
      await expect.poll(rows).toEqual(first.runs.map((r) => r.runId));
      await expect.poll(() => new URL(page.url()).search).toBe('?limit=1');
      expect(await page.getByRole('button', { name: '← Newer' }).count()).toBe(0);
      expect(browser.log.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    });
  },
);
