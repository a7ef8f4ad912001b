/**
 * docs/dashboard.md: a task's progress on the run page, live, in a real browser (Debian's chromium) against a real
 * `ledgerflow ui` on the embedded store, and GET /api/runs/:id/progress as server-sent events behind the sign-in. The
 * run is docs/handlers.md's archive-scan, its handler reporting as the page says, held by the test at 40% and 70%.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { spawnIn, stopSpawned, type Proc } from '../../helpers/file-agent.js';
import { waitFor } from '../../helpers/wait.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';
import { SCAN_YAML } from '../../progress/docs.js';

let ui: UiProcess;
let browser: Browser;
let dir: string;
let run: Proc;

/** The page's call (`ctx.progress(fraction, message)`), held at 4 and 7 of 10 files until the test writes `go-<n>`. */
const handlers = (dir: string) => `import { existsSync } from 'node:fs';
const held = (file) => new Promise((r) => { const t = setInterval(() => { if (existsSync(file)) { clearInterval(t); r(); } }, 20); });
export default {
  async scan(input, ctx) {
    for (let i = 1; i <= 10; i++) {
      ctx.progress(i / 10, \`scanned \${i} of 10 files\`);
      if (i === 4 || i === 7) await held(${JSON.stringify(dir)} + '/go-' + i);
    }
    return { files: 10, bytes: 10 };
  },
};
`;

/** The events of an SSE response read until `until` holds of one's data (or the stream ends). */
async function readEvents(res: Response, until: (data: { tasks: Record<string, { fraction: number }> }) => boolean) {
  const reader = res.body!.getReader();
  const seen: { tasks: Record<string, { fraction: number; live?: true }> }[] = [];
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    for (const m of text.matchAll(/event: progress\ndata: (.*)\n/g)) seen.push(JSON.parse(m[1]!));
    text = text.slice(text.lastIndexOf('\n\n') + 1);
    if (seen.some(until)) break;
  }
  await reader.cancel();
  return seen;
}

describe.skipIf(!chromiumBin() && !process.env.CI)('progress on the dashboard (embedded store)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-ui-progress-');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML);
    writeFileSync(join(dir, 'scan-handlers.mjs'), handlers(dir));
    run = spawnIn(dir, ['run', 'archive-scan.yaml', '--folder', 'data', '--id', 'scan-ui', '--store', 'store']);
    await waitFor('the run to start', () => run.output().includes('scan-ui'), { timeout: 30_000, detail: run.output });
    [ui, browser] = await Promise.all([
      startUiProcess(['--store', join(dir, 'store')], ['--definitions', dir], { cwd: dir }),
      launchBrowser(),
    ]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    await stopSpawned();
  });

  it('GET /api/runs/:id/progress streams the live value, behind the sign-in', async () => {
    const url = `${ui.base}/api/runs/scan-ui/progress`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${ui.token}` } });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const seen = await readEvents(res, (d) => d.tasks.scan?.fraction === 0.4);
    expect(seen.at(-1)!.tasks.scan).toMatchObject({ fraction: 0.4, message: 'scanned 4 of 10 files', live: true });
  }, 30_000);

  it("the run page's bar follows the handler live, and keeps the last value once the task has completed", async () => {
    const { page } = browser;
    await page.goto(`${ui.base}/?token=${ui.token}`);
    await page.waitForURL(`${ui.base}/`);
    await page.goto(`${ui.base}/runs/scan-ui`);
    const row = page.locator('[data-progress-task="scan"]');
    await expect.poll(() => row.getAttribute('data-fraction'), { timeout: 20_000 }).toBe('0.4');
    expect(await row.textContent()).toContain('scanned 4 of 10 files');
    expect(await row.locator('progress').getAttribute('value')).toBe('0.4');
    // Released: the same page, not reloaded, moves to 70%.
    writeFileSync(join(dir, 'go-4'), '');
    await expect.poll(() => row.getAttribute('data-fraction'), { timeout: 20_000 }).toBe('0.7');
    expect(await row.locator('.progress-pct').textContent()).toBe('70%');
    writeFileSync(join(dir, 'go-7'), '');
    expect(await run.exited, run.output()).toBe(0);
    await expect.poll(() => page.locator('.page-head .badge').textContent(), { timeout: 20_000 }).toBe('COMPLETED');
    await expect.poll(() => row.getAttribute('data-fraction'), { timeout: 20_000 }).toBe('1');
    expect(await row.getAttribute('data-live')).toBeNull();
    expect(await row.textContent()).toContain('scanned 10 of 10 files');
  }, 60_000);
});
