/**
 * The dashboard's review in chromium (1440 × 900) against real `ledgerflow ui` processes:
 * an approver sees the values a HUMAN task's input resolves to, a decision of
 * a task that names no approvers under the shared token's default name is
 * confirmed first, time travel shows the whole page as of the event with the
 * actions off, graph labels whole with each task's duration and attempts, a
 * runs table that fits and groups child runs, page titles, and named users
 * (`--users`) acting as themselves with no `as` field.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';
import { waitFor } from '../../helpers/wait.js';

const FIX = join(ROOT, 'test', 'fixtures', 'dashboard');
const WIDTH = 1440;
const T = 10_000;
let ui: UiProcess;
let browser: Browser;
let dir: string;
const dialogs: string[] = [];

const node = (task: string) => browser.page.locator(`svg.graph g.node[data-task="${task}"]`);
const fact = (name: string) =>
  browser.page
    .locator('dl.facts > div', { has: browser.page.locator('dt', { hasText: new RegExp(`^${name}$`) }) })
    .locator('dd');

async function api(u: UiProcess, method: string, path: string, body?: unknown, token = u.token!): Promise<any> {
  const r = await fetch(`${u.base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(r.status, `${method} ${path}`).toBe(200);
  return r.json();
}
const waitingOn = (u: UiProcess, runId: string, task: string, token?: string) =>
  waitFor(
    `${runId} ${task} waiting`,
    async () =>
      (await api(u, 'GET', `/api/runs/${runId}`, undefined, token)).run.tasks[task]?.status === 'PENDING_APPROVAL',
    { timeout: 15_000 },
  );

function defs(prefix: string): string {
  const d = tempDir(prefix);
  mkdirSync(join(d, 'defs'));
  for (const f of ['review.yaml', 'review-alert.yaml', 'review-handlers.mjs'])
    copyFileSync(join(FIX, f), join(d, 'defs', f));
  return d;
}

describe.skipIf(!chromiumBin() && !process.env.CI)('the dashboard, in chromium', () => {
  beforeAll(async () => {
    dir = defs('lf-ui-review-web-');
    [ui, browser] = await Promise.all([
      startUiProcess(['--store', join(dir, 'store')], ['--definitions', join(dir, 'defs')], { cwd: dir }),
      launchBrowser({ viewport: { width: WIDTH, height: 900 } }),
    ]);
    browser.page.on('dialog', (d) => {
      dialogs.push(d.message());
    });
    await browser.page.goto(`${ui.base}/?token=${ui.token}`);
    await browser.page.getByRole('heading', { name: 'Runs' }).waitFor();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it("shows the approver the values a HUMAN task's input resolves to, and says the shared token names nobody", async () => {
    const { page } = browser;
    const { runId } = await api(ui, 'POST', '/api/workflows/review/start', { input: {} });
    await waitingOn(ui, runId, 'approve_violations');
    await page.goto(`${ui.base}/runs/${runId}`);
    await node('approve_violations').click();
    const input = page.locator('.task-panel[data-task=approve_violations] pre.input');
    await expect.poll(() => input.getAttribute('class')).toContain('resolved');
    expect(await input.textContent()).toMatch(/"rule": "MARPOL-6"[\s\S]*"vessel": "Borealis"/);
    expect(await input.textContent()).not.toContain('${');
    expect(await page.locator('[data-testid=shared-token]').textContent()).toMatch(
      /shared token: anyone with it acts as any name/,
    );
    expect(
      await page.locator('[data-approval=approve_violations] [data-testid=shared-token-note]').textContent(),
    ).toMatch(/not checked/);
  });

  it('approves a task with approvers without asking; asks before a task that names none is decided under the default name', async () => {
    const { page } = browser;
    const box = page.locator('[data-approval=approve_violations]');
    await box.locator('input[name=as]').fill('alice');
    await box.getByRole('button', { name: 'Approve' }).click();
    const ack = page.locator('[data-approval=acknowledge]');
    await ack.waitFor({ timeout: T });
    expect(dialogs).toEqual([]);
    // The `as` field kept alice: set it back to the default, as a person who never touched it would have it.
    const session = await api(ui, 'GET', '/api/session');
    await ack.locator('input[name=as]').fill(session.user);
    await ack.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => dialogs.length).toBe(1);
    expect(dialogs[0]).toMatch(
      new RegExp(`^Approve acknowledge as "${session.user}"\\?[\\s\\S]*names no approvers[\\s\\S]*type your own name`),
    );
    await expect.poll(() => page.locator('.run-page').getAttribute('data-status'), { timeout: T }).toBe('COMPLETED');
  });

  it('draws every label whole, each task with its duration and attempts, in a graph that takes the width of the page it has', async () => {
    const { page } = browser;
    const label = await node('alert_bridge').locator('text.node-label tspan').allTextContents();
    expect(label.join(' ')).toBe('Alert CMD.BRIDGE of Failed compliance checks on every vessel');
    expect(await node('validate_compliance').locator('text.node-stats').textContent()).toMatch(
      /^\d[\d.]* (ms|s) · 1 attempt$/,
    );
    // The graph box fits its label: no line of text is wider than its rectangle.
    const fits = await node('alert_bridge').evaluate((g) => {
      const rect = g.querySelector('rect')!.getBBox();
      return [...g.querySelectorAll('text')].every((t) => (t as SVGTextElement).getBBox().width + 10 <= rect.width);
    });
    expect(fits).toBe(true);
    const card = await page.locator('.graph-card').boundingBox();
    expect(card!.width).toBeGreaterThan(WIDTH * 0.6);
  });

  it('time travel shows the whole page as it was (status, children) with every action off, and a way back to now', async () => {
    const { page } = browser;
    const { runId } = await api(ui, 'POST', '/api/workflows/review/start', { input: {} });
    await waitingOn(ui, runId, 'approve_violations');
    await api(ui, 'POST', `/api/runs/${runId}/approve`, { task: 'approve_violations', as: 'alice' });
    await waitingOn(ui, runId, 'acknowledge');
    await page.goto(`${ui.base}/runs/${runId}`);
    await expect.poll(() => fact('Children').textContent(), { timeout: T }).toContain('(COMPLETED)');
    expect(await page.title()).toBe(`${runId} — ledgerflow`);
    const waited = await page
      .locator('ol.timeline li', { hasText: 'validate_compliance completed' })
      .getAttribute('data-seq');
    await page.locator('input.slider').fill(waited!);
    await page.locator('.banner.travel').waitFor();
    // The page as of then: the header's status, no child run yet, nobody had decided anything.
    await expect.poll(() => page.locator('.page-head .badge').textContent()).toBe('WAITING');
    await expect.poll(() => fact('Trigger').count()).toBe(1);
    expect(await fact('Children').count()).toBe(0);
    expect(await fact('Agents').count()).toBe(0);
    expect(await page.title()).toBe(`${runId} at event ${waited} — ledgerflow`);
    // As of then: approve_violations waited; now acknowledge does. Every control is off.
    await page.locator('[data-approval=approve_violations]').waitFor();
    for (const name of ['Approve', 'Reject', 'Pause', 'Cancel run', 'Send signal']) {
      expect(
        await page.locator('.actions-wrap').getByRole('button', { name, exact: true }).first().isDisabled(),
        name,
      ).toBe(true);
    }
    expect(await page.locator('.travel-hint').textContent()).toMatch(/Actions are off while the page shows the past/);
    await page.locator('.travel-hint').getByRole('button', { name: 'return to now' }).click();
    await page.locator('[data-approval=acknowledge]').waitFor();
    expect(await page.getByRole('button', { name: 'Pause' }).isDisabled()).toBe(false);
    await expect.poll(() => fact('Children').textContent()).toContain('(COMPLETED)');
  });

  it('fits the runs table in the page, child runs under their parent (and hidden on request), every page titled', async () => {
    const { page } = browser;
    await api(ui, 'POST', '/api/workflows/review-alert/start', { input: { count: 3 } });
    // A long result: cut with a hint, whole on a click.
    await page.goto(`${ui.base}/`);
    await page.locator('tr[data-run]').first().waitFor();
    await expect.poll(() => page.title()).toBe('Runs — ledgerflow');
    const child = page.locator('tr[data-parent]').first();
    await child.waitFor({ timeout: T });
    const parent = await child.getAttribute('data-parent');
    // The child's row comes right after its parent's.
    const order = await page.locator('tr[data-run]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')));
    expect(order.indexOf(await child.getAttribute('data-run'))).toBe(order.indexOf(parent) + 1);
    expect(await child.locator('.child-mark').count()).toBe(1);
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      wrap: document.querySelector('.table-wrap')!.scrollWidth,
      wrapClient: document.querySelector('.table-wrap')!.clientWidth,
    }));
    expect(widths.page).toBeLessThanOrEqual(1440);
    expect(widths.wrap).toBeLessThanOrEqual(widths.wrapClient);
    expect(await page.locator('td.result').first().getAttribute('title')).toMatch(/click to show it whole/);
    await page.locator('input[name=show-children]').uncheck();
    await expect.poll(() => page.locator('tr[data-parent]').count()).toBe(0);
    expect(await page.locator('[data-testid=children-hidden]').textContent()).toMatch(/^\d+ child runs? hidden$/);
    expect(new URL(page.url()).searchParams.get('children')).toBe('hide');
    await page.getByRole('link', { name: 'Definitions' }).click();
    await expect.poll(() => page.title()).toBe('Definitions — ledgerflow');
    await page.getByRole('link', { name: 'Metrics' }).click();
    await expect.poll(() => page.title()).toBe('Metrics — ledgerflow');
  });
});

describe.skipIf(!chromiumBin() && !process.env.CI)('named users (--users), in chromium', () => {
  let users: UiProcess;
  let b: Browser;
  const token = 'f'.repeat(48);
  beforeAll(async () => {
    const d = defs('lf-ui-users-web-');
    writeFileSync(join(d, 'users.yaml'), `users:\n  - name: alice\n    token: ${token}\n`);
    [users, b] = await Promise.all([
      startUiProcess(['--store', join(d, 'store')], ['--definitions', join(d, 'defs'), '--users', 'users.yaml'], {
        cwd: d,
      }),
      launchBrowser({ viewport: { width: WIDTH, height: 900 } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await users?.stop();
  });

  it('alice opens it with her own token, sees who she is, has no `as` field, and her approval is recorded as hers', async () => {
    const { page } = b;
    const { runId } = await api(users, 'POST', '/api/workflows/review/start', { input: {} }, token);
    await waitingOn(users, runId, 'approve_violations', token);
    await page.goto(`${users.base}/?token=${token}`);
    await page.locator('[data-user=alice]').waitFor();
    await page.goto(`${users.base}/runs/${runId}`);
    const box = page.locator('[data-approval=approve_violations]');
    await box.waitFor();
    expect(await box.locator('input[name=as]').count()).toBe(0);
    expect(await page.locator('[data-testid=shared-token]').count()).toBe(0);
    await box.getByRole('button', { name: 'Approve' }).click();
    await page.locator('[data-approval=acknowledge]').waitFor({ timeout: T });
    const events = (await api(users, 'GET', `/api/runs/${runId}/events`, undefined, token)).events as {
      type: string;
      data: any;
    }[];
    expect(events.find((e) => e.type === 'approval.recorded')!.data.by).toBe('alice');
  });
});

describe.skipIf(!chromiumBin() && !process.env.CI)(
  'a users file (docs/users.md): the page signs people in with their name and password, in chromium',
  () => {
    let ui2: UiProcess;
    let b: Browser;
    let d: string;
    beforeAll(async () => {
      d = defs('lf-ui-signin-web-');
      const added = await cli(['users', 'add', 'alice', '--level', 'L0', '--password-stdin'], {
        cwd: d,
        stdin: 'alice-pw\n',
      });
      expect(added.code, added.stderr).toBe(0);
      [ui2, b] = await Promise.all([
        startUiProcess(['--store', join(d, 'store')], ['--definitions', join(d, 'defs')], { cwd: d }),
        launchBrowser({ viewport: { width: WIDTH, height: 900 } }),
      ]);
    }, 60_000);
    afterAll(async () => {
      await b?.close();
      await ui2?.stop();
    });

    it('a wrong password says so; the right one shows who she is and her level, and her approval is recorded as hers', async () => {
      const { page } = b;
      await page.goto(`${ui2.base}/`);
      await page.getByLabel('User').fill('alice');
      await page.getByLabel('Password').fill('guess');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('wrong user or password for alice').waitFor({ timeout: T });
      await page.getByLabel('Password').fill('alice-pw');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('[data-user=alice]').waitFor({ timeout: T });
      expect(await page.locator('[data-level]').textContent()).toContain('L0 (Commander)');
      expect(await page.locator('[data-testid=shared-token]').count()).toBe(0);

      const cookie = (await b.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      const session = (await (await fetch(`${ui2.base}/api/session`, { headers: { cookie } })).json()) as {
        csrf: string;
      };
      const started = await fetch(`${ui2.base}/api/workflows/review/start`, {
        method: 'POST',
        headers: { cookie, 'x-lf-csrf': session.csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ input: {} }),
      });
      const { runId } = (await started.json()) as { runId: string };
      await page.goto(`${ui2.base}/runs/${runId}`);
      const box = page.locator('[data-approval=approve_violations]');
      await box.waitFor({ timeout: 15_000 });
      expect(await box.locator('input[name=as]').count()).toBe(0);
      await box.getByRole('button', { name: 'Approve' }).click();
      await page.locator('[data-approval=acknowledge]').waitFor({ timeout: T });
      const events = (await (await fetch(`${ui2.base}/api/runs/${runId}/events`, { headers: { cookie } })).json()) as {
        events: { type: string; data: any }[];
      };
      expect(events.events.find((e) => e.type === 'approval.recorded')!.data.by).toBe('alice');
    }, 60_000);
  },
);
