/**
 * docs/language.md "Large payloads" on the dashboard, in a real browser (Debian's chromium) against a real `ledgerflow
 * ui`: the page's export example run with `ledgerflow run`; its run page shows the output's reference with a link
 * naming its size and digest, and the link, followed in the signed-in browser, gives the body (GET /api/blobs/:digest).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { markedBlock } from '../../docs/markdown.js';
import { cli, ROOT, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const section = page.slice(page.indexOf('<!-- large-payloads-example'));
const workflow = `${markedBlock(page, 'large-payloads-example').join('\n')}\n`;
const handlers = /```js\n([\s\S]*?)```/.exec(section)![1]!;

let ui: UiProcess | undefined;
let browser: Browser | undefined;

describe.skipIf(!chromiumBin() && !process.env.CI)('large payloads on the dashboard', () => {
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it('the run page links a reference by its size and digest, and the link gives the body', async () => {
    const dir = tempDir('lf-ui-blobs-');
    writeFileSync(join(dir, 'export.yaml'), workflow);
    writeFileSync(join(dir, 'export.mjs'), handlers);
    const store = join(dir, 'store');
    const ran = await cli(['run', 'export.yaml', '--json', '--store', store], { cwd: dir });
    expect(ran.code, ran.stderr).toBe(0);
    const run = JSON.parse(ran.stdout) as { runId: string; tasks: Record<string, any> };
    const ref = run.tasks.export_rows.output['lf:blob'] as { digest: string; size: number };

    [ui, browser] = await Promise.all([
      startUiProcess(['--store', store], ['--definitions', dir], { cwd: dir }),
      launchBrowser(),
    ]);
    const { page: tab } = browser;
    await tab.goto(`${ui.base}/?token=${ui.token}`);
    await tab.waitForURL(`${ui.base}/`);
    await tab.goto(`${ui.base}/runs/${run.runId}`);
    await tab.getByText('export_rows', { exact: true }).first().click();
    const link = tab.locator(`a[data-blob="${ref.digest}"]`).first();
    await link.waitFor({ timeout: 20_000 });
    expect(await link.textContent()).toMatch(
      new RegExp(`^blob ${(ref.size / 1024 / 1024).toFixed(1)} MiB sha256:[0-9a-f]{12}…$`),
    );
    const href = await link.getAttribute('href');
    expect(href).toBe(`/api/blobs/${ref.digest}`);
    // Followed with the browser's own session (its cookie), not the token.
    const res = await tab.context().request.get(`${ui.base}${href}`);
    expect(res.status()).toBe(200);
    expect(Buffer.byteLength(await res.body())).toBe(ref.size);
    expect(JSON.parse((await res.body()).toString('utf8')).summary).toEqual({ status: 'complete', rows: 50_000 });
  }, 90_000);
});
