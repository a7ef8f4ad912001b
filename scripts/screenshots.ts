/**
 * `npm run screenshots`: docs/screenshots/*.png, one per dashboard page, from
 * a real `ledgerflow ui` (the built bin) on a fresh embedded store with a few
 * sample runs (scripts/screenshots/), and, when nats-server is installed, the
 * sign-in and workers pages of `ledgerflow ui --nats`. Chromium as the tests
 * drive it (test/helpers/browser.ts).
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.js';
import { cli, spawnCli } from '../test/helpers/cli.js';
import { natsServerBin, startNatsServer } from '../test/helpers/nats.js';
import { startUiProcess, type UiProcess } from '../test/server/ui-helpers.js';
import { waitFor } from '../test/helpers/wait.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const OUT = join(ROOT, 'docs', 'screenshots');
const SAMPLES = join(ROOT, 'scripts', 'screenshots');
const FIX = join(ROOT, 'test', 'fixtures', 'dashboard');

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'lf-screens-'));
  const defs = join(dir, 'defs');
  mkdirSync(defs);
  for (const f of ['ingest.yaml', 'handlers.mjs']) copyFileSync(join(SAMPLES, f), join(defs, f));
  for (const f of [
    'dashboard.yaml',
    'dashboard-handlers.mjs',
    'review.yaml',
    'review-alert.yaml',
    'review-handlers.mjs',
  ])
    copyFileSync(join(FIX, f), join(defs, f));

  const ui = await startUiProcess(['--store', join(dir, 'store')], ['--definitions', defs], { cwd: dir });
  const browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
  try {
    const api = apiOf(ui);
    const start = async (workflow: string, input: Record<string, unknown>, version?: number) =>
      (
        (await api('POST', `/api/workflows/${workflow}/start`, { input, ...(version ? { version } : {}) })) as {
          runId: string;
        }
      ).runId;
    const settled = (runId: string, status: string) =>
      waitFor(
        `${runId} ${status}`,
        async () => ((await api('GET', `/api/runs/${runId}`)) as { run: { status: string } }).run.status === status,
        { timeout: 15_000 },
      );

    // A few runs of each kind: completed (one after a retry), failed, waiting for a person, running.
    const done = [
      await start('ingest', { feed: 'acme-prices', rows: 240 }),
      await start('ingest', { feed: 'globex-stock', rows: 80 }),
    ];
    const failed = await start('ingest', { feed: 'initech-orders', broken: true });
    const large = await start('ingest', { feed: 'umbrella-catalogue', rows: 48_000 });
    for (const r of done) await settled(r, 'COMPLETED');
    // Version 2 replaces the file; version 1 stays known from its runs (so the definitions page has a diff to show).
    copyFileSync(join(SAMPLES, 'ingest-v2.yaml'), join(defs, 'ingest.yaml'));
    done.push(await start('ingest', { feed: 'acme-prices', rows: 310 }));
    const emitted = (
      (await api('POST', '/api/events/feed.published', {
        id: 'feed-2026-11-22-07',
        data: { feed: 'hooli-leads', rows: 600 },
      })) as { runs: { runId: string }[] }
    ).runs[0]!.runId;
    writeFileSync(join(dir, 'gate-open'), 'go');
    const waiting = await start('dashboard', { gate: join(dir, 'gate-open'), title: 'Q4 board pack' });
    const running = await start('dashboard', { gate: join(dir, 'gate-never') });
    for (const r of [...done, emitted]) await settled(r, 'COMPLETED');
    await settled(failed, 'FAILED');
    await settled(large, 'WAITING');
    await settled(waiting, 'WAITING');
    // The feed is fixed, then the failed run retried from its failure: a linked new run that completes.
    writeFileSync(join(dir, 'feed-fixed'), 'yes');
    const retried = ((await api('POST', `/api/runs/${failed}/retry`, {})) as { runId: string }).runId;
    await settled(retried, 'COMPLETED');
    // A compliance review: one waiting for alice (its input resolved from the validation), one past it with a child run.
    const review = await start('review', {});
    await settled(review, 'WAITING');
    const reviewed = await start('review', {});
    await settled(reviewed, 'WAITING');
    await api('POST', `/api/runs/${reviewed}/approve`, {
      task: 'approve_violations',
      as: 'alice',
      comment: 'both vessels notified',
    });
    await waitFor(
      `${reviewed} acknowledge`,
      async () =>
        ((await api('GET', `/api/runs/${reviewed}`)) as { run: { tasks: Record<string, { status: string }> } }).run
          .tasks.acknowledge!.status === 'PENDING_APPROVAL',
      { timeout: 15_000 },
    );

    const { page } = browser;
    const shot = async (name: string) => {
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
      console.log(`docs/screenshots/${name}.png`);
    };
    await page.goto(`${ui.base}/?token=${ui.token}`);
    await page.locator('tr[data-run]').first().waitFor();
    await shot('runs');

    await page.goto(`${ui.base}/runs/${waiting}`);
    await node(page, 'render').click();
    await page.locator('.task-panel[data-task=render] pre.output').waitFor();
    await shot('run');

    // Started by an event (its trigger and agents), a task's input as it ran, resolved from the event's data.
    await page.goto(`${ui.base}/runs/${emitted}`);
    await node(page, 'store').click();
    await page.locator('.task-panel[data-task=store] pre.input.resolved').waitFor();
    await shot('run-event');

    // An approval: the values its input resolves to, the shared token's note, whole labels with duration and attempts.
    await page.goto(`${ui.base}/runs/${review}`);
    await node(page, 'approve_violations').click();
    await page.locator('.task-panel[data-task=approve_violations] pre.input.resolved').waitFor();
    await shot('run-approval');

    await page.goto(`${ui.base}/runs/${done[0]}`);
    await node(page, 'fetch').click();
    const seq = await page.locator('ol.timeline li', { hasText: 'fetch attempt 2 started' }).getAttribute('data-seq');
    await page.locator('input.slider').fill(seq!);
    await page.locator('.banner.travel').waitFor();
    await shot('run-time-travel');

    await page.goto(`${ui.base}/runs/${failed}`);
    await node(page, 'fetch').click();
    await page.locator('.task-panel[data-task=fetch] pre.bad').waitFor();
    await shot('run-failed');

    await page.goto(`${ui.base}/runs/${retried}`);
    await node(page, 'fetch').click();
    await page.locator('.task-panel[data-task=fetch] pre.input.resolved').waitFor();
    await shot('run-retried');

    await page.goto(`${ui.base}/start/dashboard`);
    await page.locator('input[name=gate]').waitFor();
    await shot('start');

    await page.goto(`${ui.base}/definitions`);
    await page.locator('tr[data-definition]').first().waitFor();
    await shot('definitions');
    await page.goto(`${ui.base}/definitions/ingest`);
    await page.locator('svg.graph').waitFor();
    await shot('definition');
    await page.getByRole('tab', { name: 'Diff' }).click();
    await page.locator('pre.diff').waitFor();
    await shot('definition-diff');
    await page.getByRole('tab', { name: 'Replay verdict' }).click();
    await page.locator('[data-verdict]').waitFor();
    await shot('definition-verdict');
    // The editor (docs/dashboard.md#editing-a-definition): the latest version as a draft of the next, checked, and its verdict.
    await page.goto(`${ui.base}/definitions/ingest/edit`);
    await page.locator('[data-testid=draft-problems][data-valid=true]').waitFor();
    await page.locator('[data-testid=draft-graph] svg.graph').waitFor();
    await shot('definition-editor');
    await page.getByRole('button', { name: /^Deploy as version \d+…$/ }).click();
    await page.locator('[data-testid=draft-verdict]').waitFor();
    await shot('definition-editor-verdict');

    for (const [name, path] of [
      ['schedules', 'schedules'],
      ['triggers', 'triggers'],
      ['metrics', 'stats'],
    ] as const) {
      await page.goto(`${ui.base}/${path}`);
      await page
        .locator(name === 'metrics' ? '.plot canvas' : 'table, .empty')
        .first()
        .waitFor();
      await shot(name);
    }
    await api('POST', `/api/runs/${running}/cancel`, { reason: 'screenshots taken' });
    if (natsServerBin()) await natsPages(dir, page, shot);
    else console.log('nats-server not installed: no sign-in / workers screenshots');
  } finally {
    for (const l of browser.log) if (/error/i.test(l)) console.log(l);
    await browser.close();
    await ui.stop();
  }
}

/** The NATS dashboard: its sign-in page, and the workers page with an engine and a worker connected. */
async function natsPages(dir: string, page: Page, shot: (name: string) => Promise<void>): Promise<void> {
  const nats = await startNatsServer();
  const procs: ChildProcess[] = [];
  let ui: UiProcess | undefined;
  try {
    copyFileSync(join(ROOT, 'test', 'fixtures', 'approval.yaml'), join(dir, 'approval.yaml'));
    copyFileSync(join(ROOT, 'test', 'fixtures', 'handlers.mjs'), join(dir, 'handlers.mjs'));
    await cli(['--nats', nats.url, 'deploy', 'approval.yaml'], { cwd: dir });
    procs.push(spawnCli(['--nats', nats.url, 'engine'], { cwd: dir }));
    procs.push(
      spawnCli(
        [
          '--nats',
          nats.url.replace('nats://', 'nats://worker:worker-dev-password@'),
          'worker',
          '--handlers',
          'handlers.mjs',
        ],
        { cwd: dir },
      ),
    );
    ui = await startUiProcess(['--nats', nats.url], [], { cwd: dir });
    await cli(['--nats', nats.url, 'start', 'approval'], { cwd: dir });
    await page.context().clearCookies();
    await page.goto(`${ui.base}/`);
    await page.locator('input[name=user]').waitFor();
    await shot('signin');
    await page.locator('input[name=user]').fill('alice');
    await page.locator('input[name=password]').fill('alice-dev-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-user=alice]').waitFor();
    await page.goto(`${ui.base}/workers`);
    await page.locator('table, .empty').first().waitFor();
    await shot('workers');
  } finally {
    await ui?.stop();
    await Promise.all(
      procs.map((p) =>
        p.exitCode === null
          ? new Promise((r) => {
              p.once('exit', r);
              p.kill('SIGTERM');
            })
          : undefined,
      ),
    );
    await nats.dispose();
  }
}

const node = (page: Page, task: string) => page.locator(`svg.graph g.node[data-task="${task}"]`);

function apiOf(ui: UiProcess) {
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const r = await fetch(`${ui.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ui.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await r.json()) as unknown;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
}

await main();
