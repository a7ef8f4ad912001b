/**
 * The run page of a large run in chromium (docs/dashboard.md, "Large runs"): a MAP of the language page's shape
 * (docs/language.md, "MAP: fan out over a list") over hundreds of folders, one unreadable, on the embedded store.
 * Its items, its attempts and its events are shown a page at a time: the items from the first, the attempts and
 * events from the newest; the items narrow to a status (the one failed folder of hundreds); the slider takes the
 * timeline to the page of the event it shows; an output of megabytes shows its start until asked for the rest; and a
 * run that commits without a pause is shown as it goes, not only once it stops. On NATS the same page, signed in, of a
 * run an engine drove with the handlers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, statusWhen, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { noNats, useCluster } from '../../helpers/cluster.js';
import { spawnLedgerflow, type LedgerflowProcess } from '../../helpers/cluster-run.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';

const DEFINITION = `workflow:
  id: scan-depots
  version: 1
  handlers: ./scan.mjs
  input:
    required:
      - count: { type: number }
    optional:
      - pause_ms: 0                        # default; the type is inferred from it
  tasks:
    - id: list_folders
      type: SIMPLE
      input: { count: "\${workflow.input.count}" }
      output: [folders]
    - id: scan_each
      type: MAP
      depends_on: [list_folders]
      items: "\${list_folders.output.folders}"
      handler: scan_folder                 # called once per folder
      input: { path: "\${item}", position: "\${index}", pause_ms: "\${workflow.input.pause_ms}" }
      max_concurrency: 4                   # never more items in flight, across engines too
      tolerate_failures: 1                 # one folder may fail; the MAP still completes
      timeout: 5m                          # per item attempt
    - id: report
      type: SIMPLE
      depends_on: [scan_each]
      input: { scans: "\${scan_each.output.results}" }   # in item order, null for a failed item
`;

// Each scan returns a listing of a few hundred bytes, so the MAP's output (every result, in item order) runs to
// hundreds of kilobytes of text.
const HANDLERS = `export default {
  list_folders: async ({ count }) => ({ folders: Array.from({ length: count }, (_, i) => \`depot-\${i}\`) }),
  scan_folder: async ({ path, position, pause_ms }) => {
    if (pause_ms > 0) await new Promise((r) => setTimeout(r, pause_ms));
    if (path === 'depot-234') throw new Error(\`\${path} is unreadable\`);
    return { path, position, files: Array.from({ length: 12 }, (_, f) => \`\${path}/file-\${f}.csv\`) };
  },
  report: async ({ scans }) => ({ scanned: scans.filter((s) => s !== null).length }),
};
`;

const T = 20_000;
let ui: UiProcess;
let browser: Browser;
let dir: string;
const lf = (...args: string[]) => cli(['--store', join(dir, 'store'), ...args], { cwd: dir });

function project(): string {
  const at = tempDir('lf-ui-large-');
  mkdirSync(join(at, 'definitions'));
  writeFileSync(join(at, 'definitions', 'scan.yaml'), DEFINITION);
  writeFileSync(join(at, 'definitions', 'scan.mjs'), HANDLERS);
  return at;
}

const pagerAt = (what: string) => browser.page.locator(`[data-pager="${what}"] .pager-at`);
const rows = (selector: string) => browser.page.locator(selector);

describe.skipIf(!chromiumBin() && !process.env.CI)('the run page of a MAP over hundreds of items, in chromium', () => {
  let runId: string;

  beforeAll(async () => {
    dir = project();
    const ran = await lf('run', 'definitions/scan.yaml', '--count', '450', '--json');
    expect(ran.code, ran.stderr).toBe(0);
    runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
    [ui, browser] = await Promise.all([
      startUiProcess(['--store', join(dir, 'store')], [], { cwd: dir }),
      launchBrowser(),
    ]);
    await browser.page.goto(`${ui.base}/?token=${ui.token}`);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it('shows the newest page of events, pages back to the first, and the slider brings the page of its event', async () => {
    const { page } = browser;
    await page.goto(`${ui.base}/runs/${runId}`);
    await page.locator('.run-page[data-status="COMPLETED"]').waitFor({ timeout: T });
    // 450 items: a start and an end each, the item that failed, the other tasks and the run's own: over 900 events.
    const title = await page
      .locator('.timeline-card')
      .getByText(/^Timeline \(\d+ events\)$/)
      .textContent();
    const total = Number(/\((\d+) events\)/.exec(title ?? '')![1]);
    expect(total).toBeGreaterThan(900);
    const fmt = (n: number) => n.toLocaleString('en-US');
    expect(await pagerAt('events').textContent()).toBe(`${fmt(total - 99)}–${fmt(total)} of ${fmt(total)}`);
    expect(await rows('ol.timeline > li').count()).toBe(100);
    expect(await rows('ol.timeline > li').last().getAttribute('data-seq')).toBe(String(total));

    await page.locator('[data-pager="events"]').getByRole('button', { name: '« First' }).click();
    await expect.poll(() => rows('ol.timeline > li').first().getAttribute('data-seq')).toBe('1');
    expect(await pagerAt('events').textContent()).toBe(`1–${total % 100 || 100} of ${fmt(total)}`);

    // The slider to event 450: the list moves to the page holding it, and that event is the one marked current.
    await page.locator('input.slider').fill('450');
    await page.locator('ol.timeline > li.current[data-seq="450"]').waitFor({ timeout: T });
    await page.locator('.banner.travel').getByText('after event 450 of').waitFor({ timeout: T });
    await page.getByRole('button', { name: 'Back to live' }).click();
    await expect.poll(() => rows('ol.timeline > li').last().getAttribute('data-seq')).toBe(String(total));
  });

  it("pages through the MAP's items from the first and narrows them to the one that failed", async () => {
    const { page } = browser;
    await page.locator('svg.graph g.node[data-task="scan_each"]').click();
    const panel = page.locator('.task-panel[data-task="scan_each"]');
    await panel.getByText('Items (449/450 done)').waitFor({ timeout: T });
    expect(await pagerAt('items').textContent()).toBe('1–100 of 450');
    expect(await panel.locator('tr[data-item]').count()).toBe(100);
    expect(await panel.locator('tr[data-item]').first().getAttribute('data-item')).toBe('scan_each[0]');
    await page.locator('[data-pager="items"]').getByRole('button', { name: 'Later ›' }).click();
    await expect.poll(() => panel.locator('tr[data-item]').first().getAttribute('data-item')).toBe('scan_each[100]');
    expect(await pagerAt('items').textContent()).toBe('101–200 of 450');

    await panel.getByRole('combobox', { name: 'items by status' }).selectOption('FAILED');
    await expect.poll(() => panel.locator('tr[data-item]').count()).toBe(1);
    expect(await panel.locator('tr[data-item]').getAttribute('data-item')).toBe('scan_each[234]');
    expect(await panel.locator('tr[data-item="scan_each[234]"]').textContent()).toContain('FAILED');
    expect(await page.locator('[data-pager="items"]').count()).toBe(0);

    // The attempts, one an item: the newest page, the report's reader sees where it stands.
    expect(await pagerAt('attempts').textContent()).toBe('351–450 of 450');

    // Another task and back: the MAP's panel opens afresh (all its items, from the first page).
    await page.locator('svg.graph g.node[data-task="list_folders"]').click();
    await page.locator('.task-panel[data-task="list_folders"]').waitFor({ timeout: T });
    await page.locator('svg.graph g.node[data-task="scan_each"]').click();
    await expect.poll(() => pagerAt('items').textContent()).toBe('1–100 of 450');
  });

  it('shows the start of an output of hundreds of kilobytes, and all of it when asked', async () => {
    const { page } = browser;
    const output = page.locator('.task-panel[data-task="scan_each"] pre.output');
    const shown = (await output.textContent()) ?? '';
    expect(shown.length).toBeLessThan(70_000);
    expect(shown.endsWith('…')).toBe(true);
    await page
      .locator('.task-panel[data-task="scan_each"]')
      .getByRole('button', { name: /^Show all/ })
      .click();
    await expect.poll(async () => ((await output.textContent()) ?? '').length).toBeGreaterThan(200_000);
    const whole = JSON.parse((await output.textContent()) ?? '') as { results: unknown[] };
    expect(whole.results).toHaveLength(450);
    expect(whole.results[234]).toBeNull();
  });

  it('shows a run that commits without a pause as it goes, asking the server for one view at a time', async () => {
    const { page } = browser;
    // Left to the dashboard's process to drive (docs/serve.md): 2,000 items, four at a time, a commit every few
    // milliseconds for ten seconds or more (each scan takes 20 ms, so that a loaded machine that makes each view
    // slowly still has the run under way for several of them: unpaced, the run could end within the page's first
    // two views); the page is opened as it begins. Each view the page asks for is a fold of thousands of events.
    const started = await lf('start', 'scan-depots', '--count', '2000', '--pause_ms', '20', '--detach', '--json');
    expect(started.code, started.stderr).toBe(0);
    const live = (JSON.parse(started.stdout) as { runId: string }).runId;
    const viewUrl = `${ui.base}/api/runs/${live}`;
    let inFlight = 0;
    let most = 0;
    let asked = 0;
    const ended = (r: { url(): string }) => {
      if (r.url() === viewUrl) inFlight--;
    };
    page.on('request', (r) => {
      if (r.url() !== viewUrl) return;
      asked++;
      most = Math.max(most, ++inFlight);
    });
    page.on('requestfinished', ended);
    page.on('requestfailed', ended);
    await page.goto(`${ui.base}/runs/${live}`);
    await page.locator('svg.graph g.node[data-task="scan_each"]').click();
    const heading = page.locator('.task-panel[data-task="scan_each"] h3').first();
    const seen = new Set<number>();
    await expect
      .poll(
        async () => {
          const m = /\((\d+)\/2000 done\)/.exec((await heading.textContent().catch(() => '')) ?? '');
          const running = (await page.locator('.run-page').getAttribute('data-status')) === 'RUNNING';
          if (m && running && Number(m[1]) > 0 && Number(m[1]) < 2000) seen.add(Number(m[1]));
          return seen.size;
        },
        { timeout: 120_000, interval: 50 },
      )
      .toBeGreaterThanOrEqual(2);
    await page.locator('.run-page[data-status="COMPLETED"]').waitFor({ timeout: 120_000 });
    await expect.poll(() => heading.textContent(), { timeout: T }).toBe('Items (1999/2000 done)');
    expect(asked).toBeGreaterThan(2);
    expect(most).toBe(1);
  }, 240_000);
});

// As users deploy on NATS: an engine running the handlers itself, or an engine and a remote worker (its own NATS user).
const DEPLOYMENTS: Array<[string, boolean]> = [
  ['an engine running the handlers', true],
  ['an engine and a remote worker', false],
];

describe.skipIf(noNats || (!chromiumBin() && !process.env.CI)).each(DEPLOYMENTS)(
  'the run page of a large MAP on NATS, %s, in chromium',
  (_, engineRunsHandlers) => {
    const c = useCluster();
    const procs: LedgerflowProcess[] = [];
    let nui: UiProcess;
    let nbrowser: Browser;
    afterAll(async () => {
      await nbrowser?.close();
      await nui?.stop();
      for (const p of procs) await p.kill();
    });

    it('alice signs in and pages through the items it ran, down to the one that failed', async () => {
      const at = project();
      const handlers = ['--handlers', './definitions/scan.mjs'];
      const opts = { cwd: at, markers: join(at, 'm') };
      procs.push(
        spawnLedgerflow('engine', ['engine', '--nats', c.as('engine'), ...(engineRunsHandlers ? handlers : [])], opts),
      );
      if (!engineRunsHandlers)
        procs.push(spawnLedgerflow('worker', ['worker', '--nats', c.as('worker'), ...handlers], opts));
      for (const p of procs) await p.started();
      const nlf = (...args: string[]) => cli([...args, '--nats', c.as('engine')], { cwd: at });
      expect((await nlf('deploy', 'definitions/scan.yaml')).code).toBe(0);
      const started = await nlf('start', 'scan-depots', '--count', '450', '--json');
      expect(started.code, started.stderr).toBe(0);
      const { runId } = JSON.parse(started.stdout) as { runId: string };
      await statusWhen(nlf, runId, 'COMPLETED', 90_000);

      [nui, nbrowser] = await Promise.all([
        startUiProcess(['--nats', c.as('engine')], [], { cwd: at }),
        launchBrowser(),
      ]);
      const { page } = nbrowser;
      await page.goto(`${nui.base}/runs/${runId}`);
      await page.locator('input[name=user]').fill('alice');
      await page.locator('input[name=password]').fill('alice-dev-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('.run-page[data-status="COMPLETED"]').waitFor({ timeout: T });
      expect(await page.locator('ol.timeline > li').count()).toBe(100);
      await page.locator('svg.graph g.node[data-task="scan_each"]').click();
      const panel = page.locator('.task-panel[data-task="scan_each"]');
      await panel.getByText('Items (449/450 done)').waitFor({ timeout: T });
      expect(await page.locator('[data-pager="items"] .pager-at').textContent()).toBe('1–100 of 450');
      await page.locator('[data-pager="items"]').getByRole('button', { name: 'Last »' }).click();
      await expect.poll(() => panel.locator('tr[data-item]').first().getAttribute('data-item')).toBe('scan_each[400]');
      expect(await panel.locator('tr[data-item]').count()).toBe(50);
      await panel.getByRole('combobox', { name: 'items by status' }).selectOption('FAILED');
      await expect.poll(() => panel.locator('tr[data-item]').count()).toBe(1);
      expect(await panel.locator('tr[data-item]').getAttribute('data-item')).toBe('scan_each[234]');
      expect(nbrowser.log.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    }, 180_000);
  },
);
