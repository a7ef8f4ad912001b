/**
 * docs/operations.md#schedules in the dashboard, in chromium: the Schedules
 * page pauses (with a reason), resumes, triggers one run and backfills a
 * range, as `ledgerflow schedules` does; POST /api/schedules/:workflow/:action
 * answers the CLI's --json shape, 404 for an unknown workflow, 400 for a bad body.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';

const QUARTER = `
workflow:
  id: quarter
  triggers:
    - { schedule: "*/15 * * * *", catch_up: none }
  tasks:
    - { id: note, type: SET, values: { ok: true } }
`;

describe.skipIf(!chromiumBin() && !process.env.CI)(
  'the Schedules page and its actions (docs/operations.md#schedules), in chromium',
  () => {
    let ui: UiProcess;
    let b: Browser;
    beforeAll(async () => {
      const d = tempDir('lf-ui-schedules-');
      mkdirSync(join(d, 'definitions'));
      writeFileSync(join(d, 'definitions', 'quarter.yaml'), QUARTER);
      [ui, b] = await Promise.all([
        startUiProcess(['--store', join(d, 'store')], ['--definitions', join(d, 'definitions')], { cwd: d }),
        launchBrowser({ viewport: { width: 1440, height: 900 } }),
      ]);
    }, 60_000);
    afterAll(async () => {
      await b?.close();
      await ui?.stop();
    });
    const call = async (path: string, body: unknown) => {
      const r = await fetch(`${ui.base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as any };
    };

    it("the HTTP API: the CLI's shapes; an unknown workflow is a 404, a backfill without `to` a 400", async () => {
      const paused = await call('/api/schedules/quarter/pause', { reason: 'ledger migration' });
      expect(paused).toEqual({
        status: 200,
        body: {
          action: 'pause',
          workflowId: 'quarter',
          schedules: [
            {
              workflowId: 'quarter',
              trigger: 0,
              paused: { at: expect.any(String), by: expect.any(String), reason: 'ledger migration' },
              changed: true,
            },
          ],
        },
      });
      expect((await call('/api/schedules/quarter/resume', {})).body.schedules[0]).toMatchObject({
        paused: null,
        changed: true,
      });
      expect((await call('/api/schedules/nope/trigger', {})).status).toBe(404);
      const noTo = await call('/api/schedules/quarter/backfill', { from: '2026-11-25T00:00:00Z' });
      expect([noTo.status, noTo.body.error.field]).toEqual([400, 'to']);
      expect((await call('/api/schedules/quarter/pause', { bogus: 1 })).status).toBe(400);
    });

    it('pauses with a reason, resumes, triggers one run and backfills a range from the page', async () => {
      const { page } = b;
      await page.goto(`${ui.base}/?token=${ui.token}`);
      await page.goto(`${ui.base}/schedules`);
      const row = () => page.locator('tr[data-schedule="quarter#0"]');
      await row().waitFor({ timeout: 10_000 });
      await row().getByRole('button', { name: 'Pause…' }).click();
      await row().locator('input[name=reason]').fill('month end');
      await row().getByRole('button', { name: 'Pause the schedule' }).click();
      await page.locator('tr[data-schedule="quarter#0"][data-paused="true"]').waitFor({ timeout: 10_000 });
      expect(await row().textContent()).toContain('month end');
      await row().getByRole('button', { name: 'Resume' }).click();
      await page.locator('tr[data-schedule="quarter#0"][data-paused="false"]').waitFor({ timeout: 10_000 });

      await row().getByRole('button', { name: 'Trigger now' }).click();
      await page
        .locator('[data-said]')
        .filter({ hasText: /Started run quarter-s0-m\d{8}T\d{6}Z\d{3}/ })
        .waitFor({ timeout: 10_000 });

      const backfill = async () => {
        await row().getByRole('button', { name: 'Backfill…' }).click();
        await row().locator('input[name=from]').fill('2026-11-25T00:00');
        await row().locator('input[name=to]').fill('2026-11-25T01:00');
        await row().getByRole('button', { name: 'Start the missing runs' }).click();
      };
      await backfill();
      await page
        .locator('[data-said]')
        .filter({ hasText: 'Backfill: 4 runs started, 0 queued, 0 slots had a run already' })
        .waitFor({ timeout: 10_000 });
      await backfill();
      await page
        .locator('[data-said]')
        .filter({ hasText: 'Backfill: 0 runs started, 0 queued, 4 slots had a run already' })
        .waitFor({ timeout: 10_000 });
    }, 60_000);
  },
);
