/**
 * docs/security.md "Reading without the key" on the dashboard, in a real browser (Debian's chromium) against a real
 * `ledgerflow ui` that has no data key: the page's `triage.yaml`, run with the key, whose DECISION turned on a sealed
 * output. The run page shows it COMPLETED (as recorded) with a banner naming the event from which its tasks are not
 * shown, and never shows the branch it did not take as run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';

const page = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');
const triage = /```yaml\n(workflow:\n {2}id: triage[\s\S]*?)```/.exec(page)![1]!;

let ui: UiProcess | undefined;
let browser: Browser | undefined;

describe.skipIf(!chromiumBin() && !process.env.CI)('a run read without the data key on the dashboard', () => {
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it('the run page shows the recorded status and a banner naming where its course turned on sealed values', async () => {
    const dir = tempDir('lf-ui-keyless-');
    writeFileSync(join(dir, 'triage.yaml'), triage);
    const store = join(dir, 'store');
    const ran = await cli(['run', 'triage.yaml', '--json', '--store', store], {
      cwd: dir,
      env: { LEDGERFLOW_SECRET_LF_DATA_KEY: randomBytes(32).toString('base64') },
    });
    expect(ran.code, ran.stderr).toBe(0);
    const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;

    [ui, browser] = await Promise.all([
      startUiProcess(['--store', store], ['--definitions', dir], {
        cwd: dir,
        env: { LEDGERFLOW_SECRET_LF_DATA_KEY: '' },
      }),
      launchBrowser(),
    ]);
    const { page: tab } = browser;
    await tab.goto(`${ui.base}/?token=${ui.token}`);
    await tab.waitForURL(`${ui.base}/`);
    await tab.goto(`${ui.base}/runs/${runId}`);
    const banner = tab.locator('[data-sealed-from="3"]');
    await banner.waitFor({ timeout: 20_000 });
    expect(await banner.textContent()).toContain('from event 3 (task.completed of assess) on');
    const body = (await tab.locator('body').textContent()) ?? '';
    expect(body).toContain('COMPLETED');
    expect(body).not.toContain('no process drives this run');
    // What the API behind the page says: the branch not taken is not shown as run.
    const res = await tab.context().request.get(`${ui.base}/api/runs/${runId}`);
    const detail = (await res.json()) as { run: { status: string; tasks: Record<string, { status: string }> } };
    expect(detail.run.status).toBe('COMPLETED');
    expect(detail.run.tasks.file_ticket!.status).toBe('PENDING');
  }, 90_000);
});
