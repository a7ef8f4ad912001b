/**
 * docs/coordination.md's dependency map in the dashboard, in chromium: the
 * page's own definitions in a `ledgerflow ui`'s folder, the Coordination link
 * in the navigation, each edge `ledgerflow map` prints as a row; the
 * emergency stop, the agents seen, and the Breakers page's open/close.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, spawnCli, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';
import { waitFor } from '../../helpers/wait.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'coordination.md'), 'utf8');

describe.skipIf(!chromiumBin() && !process.env.CI)('the Coordination page (docs/coordination.md), in chromium', () => {
  let ui: UiProcess;
  let b: Browser;
  let storeDir = '';
  beforeAll(async () => {
    const d = tempDir('lf-ui-map-');
    storeDir = d;
    mkdirSync(join(d, 'definitions'));
    for (const m of PAGE.matchAll(/```yaml\n# definitions\/(\S+)\n([\s\S]*?)```/g))
      writeFileSync(join(d, 'definitions', m[1]!), m[2]!);
    writeFileSync(
      join(d, 'definitions', 'hold.yaml'),
      'workflow:\n  id: hold\n  tasks:\n    - { id: review, type: HUMAN }\n',
    );
    for (const id of ['payment', 'orders-cleanup'])
      writeFileSync(
        join(d, 'definitions', `${id}.yaml`),
        `workflow:\n  id: ${id}\n  tasks:\n    - { id: step, type: SET, values: { done: true } }\n`,
      );
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

  it('the emergency stop: a preview counts the runs, the button cancels that many; a stale count is a 409', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${ui.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: r.status, body: (await r.json()) as any };
    };
    const runs: string[] = [];
    for (let i = 0; i < 2; i++) runs.push((await call('POST', '/api/workflows/hold/start', { input: {} })).body.runId);
    await waitFor(
      'both waiting',
      async () =>
        (await Promise.all(runs.map(async (r) => (await call('GET', `/api/runs/${r}`)).body.run?.status))).every(
          (s) => s === 'WAITING',
        ),
      { timeout: 15_000 },
    );
    // The preview plans over the run index, a moment behind a run's own read: waited for until it has both.
    await waitFor(
      'the index has both',
      async () =>
        (await call('POST', '/api/bulk/cancel', { query: { workflow: 'hold' }, dryRun: true })).body.would?.length ===
        2,
      { timeout: 15_000 },
    );
    const stale = await call('POST', '/api/bulk/cancel', { query: { workflow: 'hold' }, confirm: 5 });
    expect([stale.status, stale.body.error.code]).toEqual([409, 'LF_CONFIRM_MISMATCH']);

    const { page } = b;
    await page.goto(`${ui.base}/coordination`);
    const form = page.locator('[data-testid=emergency-stop]');
    await form.locator('select[name=workflow]').selectOption('hold');
    await form.getByRole('button', { name: 'Preview' }).click();
    await page
      .locator('[data-testid=stop-preview]')
      .getByText('2 run(s) would be cancelled')
      .waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Cancel 2 run(s)' }).click();
    await page
      .locator('[data-testid=stop-done]')
      .getByText('Cancelled 2 run(s); 0 already settled; 0 refused.')
      .waitFor({ timeout: 15_000 });
    for (const r of runs) expect((await call('GET', `/api/runs/${r}`)).body.run.status).toBe('CANCELLED');
  }, 60_000);

  it('lists the file agents that work on the store, up, with their queue, level and skills', async () => {
    const agent = spawnCli(
      [
        '--store',
        join(storeDir, 'store'),
        'agent',
        '--inbox',
        join(storeDir, '1N.3OX'),
        '--outbox',
        join(storeDir, '0UT.3OX'),
        '--queue',
        'agents',
        '--level',
        'L2',
        '--skills',
        'ocr',
      ],
      { cwd: storeDir },
    );
    // An operator holds the agent's queue: the row says so.
    const open = await fetch(`${ui.base}/api/breakers/open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'queue/agents' }),
    });
    expect(open.status).toBe(200);
    try {
      const { page } = b;
      await page.goto(`${ui.base}/coordination`);
      const row = page.locator('tr[data-agent="agent:agents"]');
      const card = page.locator('section.card', { has: page.getByRole('heading', { name: 'Agents' }) });
      await waitFor(
        'the agent listed',
        async () => {
          if ((await row.count()) > 0) return true;
          await card.getByRole('button', { name: 'Refresh' }).click();
          return false;
        },
        { timeout: 20_000 },
      );
      expect(await row.getAttribute('data-state')).toBe('up');
      expect(await row.textContent()).toMatch(/agent:agents\s*file agent\s*up\s*agents\s*L2\s*ocr\s*0/);
      expect(await row.locator('[data-fact=utilization]').textContent()).toMatch(/^\d+% \/ \d+%$/);
      expect(await row.locator('[data-fact=breakers]').textContent()).toBe('queue/agents open');
      // Who took part per workflow: the emergency stop's runs of `hold` (nobody assigned, nobody decided).
      expect(await page.locator('[data-testid=participation] tr[data-workflow=hold]').textContent()).toMatch(
        /^hold\s*\d+/,
      );
    } finally {
      agent.kill('SIGKILL');
    }
  }, 60_000);

  it('the Breakers page opens and closes a breaker as an operator would (ledgerflow breaker open|close)', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${ui.base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/api/breakers/open', { name: 'handler/sendEmail' })).status).toBe(200);
    const { page } = b;
    await page.goto(`${ui.base}/breakers`);
    const row = page.locator('tr[data-breaker="handler/sendEmail"]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute('data-state')).toBe('open');
    await row.getByRole('button', { name: 'Close' }).click();
    await page.locator('tr[data-breaker="handler/sendEmail"][data-state="closed"]').waitFor({ timeout: 10_000 });
    await page.locator('tr[data-breaker="handler/sendEmail"]').getByRole('button', { name: 'Open' }).click();
    await page.locator('tr[data-breaker="handler/sendEmail"][data-state="open"]').waitFor({ timeout: 10_000 });
  }, 60_000);
});
