/**
 * The runs page's where box (docs/operations.md#search-attributes) in a real
 * browser against a real `ledgerflow ui` on the embedded store: the doc's
 * workflow run three times, filtered by search attributes (conditions kept in
 * the URL, sent as repeated `where` parameters), a refused condition shown
 * with the API's message.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';
import { whereParams } from '../../../src/server/web/where.js';

let ui: UiProcess;
let browser: Browser;
const ids: string[] = [];

describe('whereParams', () => {
  it('splits the box on spaces and commas, keeping a quoted value whole', () => {
    expect(whereParams('customer=42 amount>100,region="a b"')).toBe(
      'where=customer%3D42&where=amount%3E100&where=region%3D%22a+b%22',
    );
    expect(whereParams('')).toBe('');
  });
});

describe.skipIf(!chromiumBin() && !process.env.CI)('the runs page filters by search attributes, in chromium', () => {
  beforeAll(async () => {
    const dir = tempDir('lf-ui-search-');
    const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    const file = join(dir, 'orders.yaml');
    writeFileSync(file, /```yaml\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf('## Search attributes')))![1]!);
    const store = join(dir, 'store');
    for (const [customer, amount] of [
      ['42', '420'],
      ['7', '70'],
      ['42', '99'],
    ]) {
      const r = await cli(['--store', store, 'run', file, '--customer', customer!, '--amount', amount!, '--json']);
      expect(r.code, r.stderr).toBe(0);
      ids.push((JSON.parse(r.stdout) as { runId: string }).runId);
    }
    [ui, browser] = await Promise.all([startUiProcess(['--store', store], [], { cwd: dir }), launchBrowser()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it('keeps the runs whose attributes meet every condition, shows their attributes, and says why a condition is refused', async () => {
    const { page } = browser;
    await page.goto(`${ui.base}/?token=${ui.token}`);
    await page.waitForURL(`${ui.base}/`);
    await page.locator('tr[data-run]').first().waitFor();
    await page.locator('input[name=where]').fill('customer=42 amount>100');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect
      .poll(async () => page.locator('tr[data-run]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run'))))
      .toEqual([ids[0]]);
    expect(page.url()).toContain('where=customer%3D42+amount%3E100');
    expect(await page.locator(`tr[data-run="${ids[0]}"] [data-testid=search-attrs]`).textContent()).toContain(
      'customer=42',
    );
    await expect.poll(() => page.locator('.page-head').textContent()).toContain('1 runs match');

    await page.locator('input[name=where]').fill('customer=99');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.locator('.page-head').textContent()).toContain('0 runs match');
    await page.getByText('No runs match.').waitFor();

    await page.locator('input[name=where]').fill('amount>lots');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect
      .poll(() => page.locator('.error-box').textContent())
      .toContain('amount is a number attribute and "lots" is not a number');
  });
});
