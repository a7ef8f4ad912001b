/**
 * docs/coordination.md's dependency map in the dashboard, in chromium: the
 * page's own definitions in a `ledgerflow ui`'s folder, the Coordination link
 * in the navigation, each edge `ledgerflow map` prints as a row.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'coordination.md'), 'utf8');

describe.skipIf(!chromiumBin() && !process.env.CI)('the Coordination page (docs/coordination.md), in chromium', () => {
  let ui: UiProcess;
  let b: Browser;
  beforeAll(async () => {
    const d = tempDir('lf-ui-map-');
    mkdirSync(join(d, 'definitions'));
    for (const m of PAGE.matchAll(/```yaml\n# definitions\/(\S+)\n([\s\S]*?)```/g)) writeFileSync(join(d, 'definitions', m[1]!), m[2]!);
    for (const id of ['payment', 'orders-cleanup']) writeFileSync(join(d, 'definitions', `${id}.yaml`), `workflow:\n  id: ${id}\n  tasks:\n    - { id: step, type: SET, values: { done: true } }\n`);
    [ui, b] = await Promise.all([
      startUiProcess(['--store', join(d, 'store')], ['--definitions', join(d, 'definitions')], { cwd: d }),
      launchBrowser({ viewport: { width: 1440, height: 900 } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await ui?.stop();
  });

  it('shows who starts whom, how, by which task; what nobody hears; what is known only when it runs', async () => {
    const { page } = b;
    await page.goto(`${ui.base}/?token=${ui.token}`);
    await page.getByRole('link', { name: 'Coordination' }).click();
    await page.locator('[data-testid=workflow-map]').waitFor({ timeout: 10_000 });
    expect(await page.title()).toBe('Coordination — ledgerflow');
    const row = (edge: string) => page.locator(`tr[data-edge="${edge}"]`);
    expect(await row('orders>payment').getAttribute('data-kind')).toBe('sub_workflow');
    expect(await row('orders>shipping').textContent()).toMatch(/orders\s*shipping\s*emits order_placed\s*announce/);
    expect(await row('orders>orders-cleanup').getAttribute('data-kind')).toBe('failure_workflow');
    expect(await page.locator('[data-unheard=nobody_hears]').textContent()).toContain('no workflow here listens to it');
    expect(await page.locator('[data-dynamic=tell]').count()).toBe(1);
    expect(await page.locator('tr[data-workflow=shipping]').textContent()).toContain('order_placed');
  });
});
