/**
 * The dashboard in a real browser (Debian's chromium) against a real
 * `ledgerflow ui` on the embedded store: start a run from the form, watch a
 * task turn green live, see untrusted output as text, approve through the
 * page, and travel back in the run's history. One browser, one page.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';

const FIX = join(ROOT, 'test', 'fixtures', 'dashboard');
let ui: UiProcess;
let browser: Browser;
let dir: string;
let runId: string;
const T = 10_000;

const statusOf = (task: string) => browser.page.locator(`svg.graph g.node[data-task="${task}"]`);

// Without chromium the browser tests skip, except in CI, where .ci/run installs it and they must run.
describe.skipIf(!chromiumBin() && !process.env.CI)('the dashboard on the embedded store, in chromium', () => {
  beforeAll(async () => {
    dir = tempDir('lf-ui-web-');
    mkdirSync(join(dir, 'defs'));
    for (const f of ['dashboard.yaml', 'dashboard-handlers.mjs']) copyFileSync(join(FIX, f), join(dir, 'defs', f));
    // docs/limits.md#concurrency-limits-and-priority: one run at a time, a person holding the slot.
    writeFileSync(
      join(dir, 'defs', 'one-at-a-time.yaml'),
      'workflow:\n  id: one-at-a-time\n  version: 1\n  concurrency: { limit: 1 }\n  tasks:\n    - { id: sign_off, type: HUMAN, approvers: [alice] }\n',
    );
    [ui, browser] = await Promise.all([
      startUiProcess(['--store', join(dir, 'store')], ['--definitions', join(dir, 'defs')], { cwd: dir }),
      launchBrowser(),
    ]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it('opens with the printed token URL, then starts a run from the form built from the declared inputs', async () => {
    const { page } = browser;
    await page.goto(`${ui.base}/?token=${ui.token}`);
    // The token is traded for a cookie and taken out of the address bar.
    await page.waitForURL(`${ui.base}/`);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.getByRole('link', { name: 'Start' }).click();
    await page.locator('select[name=workflow]').selectOption('dashboard');
    // Required and optional inputs, the optional one filled with its default.
    await expect.poll(() => page.locator('input[name=title]').inputValue()).toBe('weekly report');
    await page.getByRole('button', { name: 'Start run' }).click();
    await expect.poll(() => page.locator('.start-form label.invalid').textContent()).toContain('gate is required');
    await page.locator('input[name=gate]').fill(join(dir, 'release-gate'));
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect(runId).toBeTruthy();
  });

  it('lists the run on the runs page and opens it from there', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Runs' }).click();
    const row = page.locator(`tr[data-run="${runId}"]`);
    await row.waitFor({ timeout: T });
    expect(await row.textContent()).toContain('dashboard@1');
    await row.getByRole('link', { name: runId }).click();
    await page.locator(`.run-page[data-run="${runId}"]`).waitFor();
  });

  it('turns the gate task green live when its handler finishes', async () => {
    await expect.poll(() => statusOf('gate').getAttribute('data-status'), { timeout: T }).toBe('IN_PROGRESS');
    writeFileSync(join(dir, 'release-gate'), 'go');
    await expect.poll(() => statusOf('gate').getAttribute('data-status'), { timeout: T }).toBe('COMPLETED');
    expect(await statusOf('gate').locator('rect').getAttribute('fill')).toBe('#e6f6ec');
    await expect.poll(() => statusOf('sign_off').getAttribute('data-status'), { timeout: T }).toBe('PENDING_APPROVAL');
  });

  it('shows a task output holding <script> as text, and runs none of it', async () => {
    const { page } = browser;
    await statusOf('render').click();
    const output = page.locator('.task-panel[data-task=render] pre.output');
    await expect.poll(() => output.textContent()).toContain('<script>window.__lfXss = 1</script>');
    expect(await page.locator('#app script, #app img').count()).toBe(0);
    expect(await page.evaluate('typeof window.__lfXss')).toBe('undefined');
  });

  it('shows the refusal of someone who is not an approver, then approves as alice with a comment, and the run completes', async () => {
    const { page } = browser;
    const box = page.locator('[data-approval=sign_off]');
    await box.locator('input[name=as]').fill('mallory');
    await box.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => page.locator('.actions-wrap .error-box').textContent())
      .toMatch(/^403 LF_APPROVAL_REFUSED: .*mallory may not decide/);
    await box.locator('input[name=as]').fill('alice');
    await box.locator('input[name=comment]').fill('looks right');
    await box.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.locator('.run-page').getAttribute('data-status'), { timeout: T }).toBe('COMPLETED');
    await expect.poll(() => statusOf('publish').getAttribute('data-status')).toBe('COMPLETED');
    await statusOf('sign_off').click();
    await expect
      .poll(() => page.locator('.task-panel[data-task=sign_off] .decisions').textContent())
      .toMatch(/approved by alice.+“looks right”/);
  });

  it('travels back with the slider: the run as it was while the gate task ran', async () => {
    const { page } = browser;
    const gateStarted = page.locator('ol.timeline li', { hasText: 'gate attempt 1 started' });
    const seq = Number(await gateStarted.getAttribute('data-seq'));
    await page.locator('input.slider').fill(String(seq));
    await page.locator('.banner.travel').waitFor();
    await expect.poll(() => statusOf('gate').getAttribute('data-status')).toBe('IN_PROGRESS');
    expect(await statusOf('publish').getAttribute('data-status')).toBe('PENDING');
    expect(await page.locator('.page-head .badge').textContent()).toBe('RUNNING');
    await page.getByRole('button', { name: 'Back to live' }).click();
    await expect.poll(() => statusOf('gate').getAttribute('data-status')).toBe('COMPLETED');
  });

  it('shows a run started elsewhere on the open runs page, live, and pauses, resumes and cancels it from its page', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator(`tr[data-run="${runId}"]`).waitFor();
    const r = await fetch(`${ui.base}/api/workflows/dashboard/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { gate: join(dir, 'never-released') } }),
    });
    const other = ((await r.json()) as { runId: string }).runId;
    const row = page.locator(`tr[data-run="${other}"]`);
    await row.waitFor({ timeout: T });
    await row.getByRole('link', { name: other }).click();
    const status = () => page.locator('.run-page').getAttribute('data-status');
    await expect.poll(() => statusOf('gate').getAttribute('data-status'), { timeout: T }).toBe('IN_PROGRESS');
    await page.locator('input[name=reason]').fill('checking the feed');
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(status, { timeout: T }).toBe('PAUSED');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(status, { timeout: T }).toBe('RUNNING');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(status, { timeout: T }).toBe('CANCELLED');
    await page.getByRole('button', { name: 'Retry from failed' }).waitFor();
    expect(await page.locator('ol.timeline').textContent()).toContain('paused by');
  });

  it("starts a run with the priority filled in the form: a bad one is refused on the form, a good one shows on the queued run's page", async () => {
    const { page } = browser;
    // A first run holds the workflow's one slot (it waits for a person).
    const held = await fetch(`${ui.base}/api/workflows/one-at-a-time/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: {} }),
    });
    expect(held.status).toBe(200);
    await page.getByRole('link', { name: 'Start' }).click();
    await page.locator('select[name=workflow]').selectOption('one-at-a-time');
    const priority = page.locator('input[name="start.priority"]');
    expect(await priority.getAttribute('placeholder')).toContain('50');
    await priority.fill('100');
    await page.getByRole('button', { name: 'Start run' }).click();
    await expect.poll(() => page.locator('.start-form label.invalid').textContent()).toContain('0 to 99');
    await priority.fill('7');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    await expect.poll(() => page.locator('.run-page').getAttribute('data-status'), { timeout: T }).toBe('QUEUED');
    await expect
      .poll(() => page.locator('.run-page [data-fact=queue] [data-priority]').textContent(), { timeout: T })
      .toBe('7');
    expect(await page.locator('.run-page [data-fact=queue]').textContent()).toContain('waiting for a slot');
  });

  it('says so when a run does not exist (no stack trace)', async () => {
    const { page } = browser;
    await page.goto(`${ui.base}/runs/no-such-run`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    expect(await page.locator('.not-found').textContent()).toContain('No run no-such-run');
    expect(browser.log.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });
});
