/**
 * Bulk actions from the runs page (docs/operations.md "Bulk actions"), in
 * chromium: tick runs, pick an action, Preview says how many, the button
 * takes that many; "all matching this filter" takes the filter's runs; the
 * runs not ticked or outside the filter are untouched. And POST
 * /api/bulk/:action's new actions: approve (with task and decision checked),
 * retry (idempotent), resume.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';
import { waitFor } from '../../helpers/wait.js';

describe.skipIf(!chromiumBin() && !process.env.CI)('bulk actions on the runs page, in chromium', () => {
  let ui: UiProcess;
  let b: Browser;
  beforeAll(async () => {
    const d = tempDir('lf-ui-bulk-');
    mkdirSync(join(d, 'definitions'));
    writeFileSync(
      join(d, 'definitions', 'hold.yaml'),
      'workflow:\n  id: hold\n  tasks:\n    - { id: review, type: HUMAN }\n',
    );
    writeFileSync(
      join(d, 'definitions', 'other.yaml'),
      'workflow:\n  id: other\n  tasks:\n    - { id: review, type: HUMAN }\n',
    );
    writeFileSync(
      join(d, 'definitions', 'stop.yaml'),
      'workflow:\n  id: stop\n  tasks:\n    - { id: end, type: TERMINATE, status: FAILED, reason: bench }\n',
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

  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${ui.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json()) as any };
  };
  /**
   * How many runs a bulk action would take now (a dry run). A bulk action plans over the run index, which follows the
   * store a moment behind a run's own read: the tests wait here, not on a run's status, before they act.
   */
  const would = async (action: string, body: Record<string, unknown>) =>
    ((await call('POST', `/api/bulk/${action}`, { ...body, dryRun: true })).body.would as string[]).length;
  const statusOf = async (id: string) => (await call('GET', `/api/runs/${id}`)).body.run?.status as string;
  const start = async (wf: string, n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await call('POST', `/api/workflows/${wf}/start`, { input: {} })).body.runId);
    return ids;
  };

  it('ticked runs: preview counts them, the button pauses that many; "all matching this filter" resumes the filter\'s', async () => {
    const holds = await start('hold', 3);
    const [other] = await start('other', 1);
    await waitFor(
      'all waiting',
      async () => (await Promise.all([...holds, other!].map(statusOf))).every((s) => s === 'WAITING'),
      { timeout: 15_000 },
    );
    const { page } = b;
    await page.goto(`${ui.base}/?token=${ui.token}&workflow=hold`);
    for (const id of holds.slice(0, 2)) await page.locator(`tr[data-run="${id}"] input[name=select]`).check();
    const bar = page.locator('[data-testid=bulk-bar]');
    await bar.locator('select[name=bulk-action]').selectOption('pause');
    await bar.getByRole('button', { name: 'Preview' }).click();
    await bar.locator('[data-testid=bulk-preview]').getByText('2 run(s) would be paused').waitFor({ timeout: 10_000 });
    await bar.getByRole('button', { name: 'Pause 2 run(s)' }).click();
    await bar
      .locator('[data-testid=bulk-done]')
      .getByText('Pause: 2 done; 0 already; 0 refused.')
      .waitFor({ timeout: 15_000 });
    expect(await Promise.all(holds.map(statusOf))).toEqual(['PAUSED', 'PAUSED', 'WAITING']);
    expect(await statusOf(other!)).toBe('WAITING');
    // The preview plans over the run index: until it has the two PAUSED.
    await waitFor(
      'the index has the two paused',
      async () => (await would('resume', { query: { workflow: 'hold' } })) === 2,
      {
        timeout: 15_000,
      },
    );

    await bar.locator('input[name=all-matching]').check();
    await bar.locator('select[name=bulk-action]').selectOption('resume');
    await bar.getByRole('button', { name: 'Preview' }).click();
    await bar
      .locator('[data-testid=bulk-preview]')
      .getByText('2 run(s) would be resumed; 1 already')
      .waitFor({ timeout: 10_000 });
    await bar.getByRole('button', { name: 'Resume 2 run(s)' }).click();
    await bar
      .locator('[data-testid=bulk-done]')
      .getByText('Resume: 2 done; 1 already; 0 refused.')
      .waitFor({ timeout: 15_000 });
    await waitFor('resumed', async () => (await Promise.all(holds.map(statusOf))).every((s) => s === 'WAITING'), {
      timeout: 15_000,
    });
  }, 90_000);

  it('the HTTP API: approve with a task, retry once, a selection never leaves the filter, bad bodies refused', async () => {
    const holds = await start('hold', 2);
    const stops = await start('stop', 2);
    await waitFor('settled', async () => (await Promise.all(stops.map(statusOf))).every((s) => s === 'FAILED'), {
      timeout: 15_000,
    });
    // What the actions below take is what a dry run shows (the confirm refuses a count gone stale): waited for there.
    await waitFor(
      'the index has the holds WAITING and the stops FAILED',
      async () =>
        (await would('approve', { query: { workflow: 'hold', status: 'WAITING' }, task: 'review', runs: holds })) ===
          2 && (await would('retry', { query: { workflow: 'stop' }, runs: stops })) === 2,
      { timeout: 15_000 },
    );
    const dry = await call('POST', '/api/bulk/approve', {
      query: { workflow: 'hold', status: 'WAITING' },
      task: 'review',
      runs: holds,
      dryRun: true,
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ action: 'approve', matched: 2, would: expect.arrayContaining(holds) });
    const approved = await call('POST', '/api/bulk/approve', {
      query: { workflow: 'hold', status: 'WAITING' },
      task: 'review',
      runs: holds,
      reason: 'batch ok',
      confirm: 2,
    });
    expect(approved.body).toMatchObject({ action: 'approve', approved: expect.arrayContaining(holds), refused: [] });
    await waitFor('approved', async () => (await Promise.all(holds.map(statusOf))).every((s) => s === 'COMPLETED'), {
      timeout: 15_000,
    });

    const retried = await call('POST', '/api/bulk/retry', { query: { workflow: 'stop' }, runs: stops, confirm: 2 });
    expect(retried.body).toMatchObject({ action: 'retry', retried: expect.arrayContaining(stops), refused: [] });
    expect((retried.body.started as Array<{ retryOf: string }>).map((s) => s.retryOf).sort()).toEqual(
      [...stops].sort(),
    );
    // Again at once: the index may not have seen the retry runs yet, but each is <id>-retry, so none starts twice.
    const raced = await call('POST', '/api/bulk/retry', {
      query: { workflow: 'stop' },
      runs: stops,
      confirm: await would('retry', { query: { workflow: 'stop' }, runs: stops }),
    });
    // The index may also catch up between that dry run and this call, with one retry run or both: then the count it
    // confirmed is stale and nothing is acted on (LF_CONFIRM_MISMATCH, fewer runs now), which starts no run twice either.
    if (raced.body.error)
      expect(raced.body.error).toMatchObject({
        code: 'LF_CONFIRM_MISMATCH',
        message: expect.stringMatching(/^[01] run\(s\) would be acted on now \(retry\), not [12]:/),
      });
    else expect(raced.body).toMatchObject({ retried: [], refused: [] });
    // Once the index has them: nothing would be retried.
    await waitFor(
      'the index sees the retry runs',
      async () => (await would('retry', { query: { workflow: 'stop' }, runs: stops })) === 0,
      { timeout: 15_000 },
    );
    // A selected run outside the filter is not taken.
    const outside = await call('POST', '/api/bulk/cancel', { query: { workflow: 'other' }, runs: holds, dryRun: true });
    expect(outside.body).toEqual({ action: 'cancel', matched: 0, would: [], already: [] });
    for (const [path, body, field] of [
      ['/api/bulk/cancel', { query: { workflow: 'hold' }, task: 'review' }, 'task'],
      ['/api/bulk/approve', { query: { workflow: 'hold' }, decision: 'maybe' }, 'decision'],
      ['/api/bulk/approve', { query: { colour: 'red' }, dryRun: true }, 'colour'],
    ] as const) {
      const r = await call('POST', path, body);
      expect([r.status, JSON.stringify(r.body).includes(field)], JSON.stringify(r.body)).toEqual([400, true]);
    }
    expect((await call('POST', '/api/bulk/explode', { query: { workflow: 'hold' } })).status).toBe(404);
  }, 90_000);
});
