/**
 * docs/dashboard.md, "Editing a definition", in a real browser (Debian's
 * chromium) against a real `ledgerflow ui` on the embedded store, as the docs
 * tell it: open refund's editor (a draft of version 2), type the docs' draft
 * with its typo and see the mark and `11:20 …` listed, fix it and see the graph
 * gain `record`, ask to deploy as version 2 and see the verdict (the run ops
 * approved cannot, the waiting one takes over), deploy, and find the file
 * written. Then a new definition from a template, with completion from the
 * schema. The editor's code is fetched only when an editor opens.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';
import { DRAFT_V2, DRAFT_WITH_TYPO, REFUND_V1, TYPO_PROBLEM } from '../editor-docs.js';

let ui: UiProcess;
let browser: Browser;
let dir = '';
const runs = { approved: '', waiting: '' };
const chunks: string[] = [];
const T = 10_000;

describe.skipIf(!chromiumBin() && !process.env.CI)(
  'the editor in chromium (docs/dashboard.md, "Editing a definition")',
  () => {
    beforeAll(async () => {
      dir = tempDir('lf-editor-web-');
      mkdirSync(join(dir, 'definitions'));
      writeFileSync(join(dir, 'definitions', 'refund.yaml'), REFUND_V1);
      for (const key of ['approved', 'waiting'] as const) {
        const r = await cli(['start', 'refund', '--detach'], { cwd: dir });
        expect(r.code, r.stderr).toBe(0);
        runs[key] = r.stdout.trim().split('\n')[0]!;
      }
      expect((await cli(['approve', runs.approved, 'review', '--as', 'ops'], { cwd: dir })).code).toBe(0);
      [ui, browser] = await Promise.all([startUiProcess([], [], { cwd: dir }), launchBrowser()]);
      browser.page.on('request', (r) => {
        if (r.url().includes('/chunks/')) chunks.push(r.url());
      });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await ui?.stop();
    });

    it("opens refund's editor from its definition page: a draft of version 2, its code fetched only now", async () => {
      const { page } = browser;
      await page.goto(`${ui.base}/definitions/refund?token=${ui.token}`);
      await page.getByRole('heading', { name: 'refund' }).waitFor();
      expect(chunks.filter((u) => u.includes('editor-page'))).toEqual([]);
      await page.getByRole('link', { name: 'Edit…' }).click();
      await page.waitForURL(`${ui.base}/definitions/refund/edit`);
      const content = page.locator('.cm-content');
      await content.waitFor({ timeout: T });
      expect(chunks.some((u) => u.includes('editor-page'))).toBe(true);
      await expect.poll(() => content.textContent()).toContain('version: 2');
      // The file's text as written, version stepped up: it validates as it is.
      await expect
        .poll(() => page.locator('[data-testid=draft-problems]').getAttribute('data-valid'), { timeout: T })
        .toBe('true');
    });

    it('marks the typo the docs show and lists it at 11:20, as validate says it', async () => {
      const { page } = browser;
      await page.locator('.cm-content').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText(DRAFT_WITH_TYPO);
      const problem = page.locator('[data-testid=draft-problems] li[data-line="11"][data-col="20"]');
      await expect.poll(() => problem.textContent(), { timeout: T }).toBe(TYPO_PROBLEM);
      const mark = page.locator('.cm-content .cm-lintRange-error');
      await expect.poll(() => mark.count()).toBe(1);
      expect(await mark.textContent()).toBe('reviw');
      expect(await page.locator('[data-testid=draft-graph]').getAttribute('data-valid')).toBe('false');
    });

    it('fixes it: the mark goes and the graph shows review → record', async () => {
      const { page } = browser;
      await page.locator('.cm-content .cm-lintRange-error').dblclick();
      await page.keyboard.type('review');
      await expect
        .poll(() => page.locator('[data-testid=draft-problems]').getAttribute('data-valid'), { timeout: T })
        .toBe('true');
      expect(await page.locator('.cm-content .cm-lintRange-error').count()).toBe(0);
      expect((await page.locator('.cm-content .cm-line').allTextContents()).join('\n').trimEnd()).toBe(
        DRAFT_V2.trimEnd(),
      );
      await page.locator('[data-testid=draft-graph] svg.graph g.node[data-task="record"]').waitFor({ timeout: T });
      expect(await page.locator('[data-testid=draft-graph] svg.graph g.node').count()).toBe(2);
    });

    it('shows the replay verdict before deploying: the approved run cannot (event 2), the waiting one takes over', async () => {
      const { page } = browser;
      await page.getByRole('button', { name: 'Deploy as version 2…' }).click();
      const verdict = page.locator('[data-testid=draft-verdict]');
      await verdict.waitFor({ timeout: T });
      expect(await verdict.getAttribute('data-takes-over')).toBe('1');
      expect(await verdict.getAttribute('data-cannot')).toBe('1');
      expect(await verdict.locator(`tr[data-run="${runs.waiting}"]`).textContent()).toContain('takes over');
      expect(await verdict.locator(`tr[data-run="${runs.approved}"]`).textContent()).toContain(
        'cannot: event 2 (approval.recorded)',
      );
      // Nothing is written before the person confirms.
      expect(readFileSync(join(dir, 'definitions', 'refund.yaml'), 'utf8')).toBe(REFUND_V1);
    });

    it('deploys version 2 into definitions/refund.yaml', async () => {
      const { page } = browser;
      await page.getByRole('button', { name: 'Deploy version 2' }).click();
      const done = page.locator('[data-testid=deployed]');
      await expect
        .poll(() => done.textContent(), { timeout: T })
        .toMatch(/Deployed refund@2 \([0-9a-f]{12}\) to refund\.yaml/);
      expect(readFileSync(join(dir, 'definitions', 'refund.yaml'), 'utf8')).toBe(DRAFT_V2);
    });

    it("then judges the waiting run against version 2; the definition's page, tab Migrate runs, migrates it with the count shown", async () => {
      const { page } = browser;
      const panel = page.locator('[data-testid=migrate-panel]');
      await expect
        .poll(() => panel.textContent(), { timeout: T })
        .toContain('1 unsettled run(s) judged against version 2: 1 take over as is');
      await expect
        .poll(() => panel.locator(`tr[data-run="${runs.waiting}"]`).textContent(), { timeout: T })
        .toContain('takes over as is');
      await page.locator('[data-testid=deployed]').getByRole('link', { name: 'Open the definition' }).click();
      await expect.poll(() => page.locator('select[name=version]').inputValue(), { timeout: T }).toBe('2');
      await page.getByRole('tab', { name: 'Migrate runs' }).click();
      await page.getByRole('button', { name: 'Migrate 1 run(s) to version 2' }).click();
      await expect
        .poll(() => page.locator('[data-testid=migrated]').textContent(), { timeout: T })
        .toContain('Migrated 1 run(s) to version 2');
      const run = (await (
        await fetch(`${ui.base}/api/runs/${runs.waiting}`, { headers: { authorization: `Bearer ${ui.token}` } })
      ).json()) as { run: { version: number } };
      expect(run.run.version).toBe(2);
    });

    it('starts a new definition from a bundled template, with completion from the schema', async () => {
      const { page } = browser;
      await page.getByRole('link', { name: 'Definitions' }).click();
      await page.getByRole('link', { name: 'New definition…' }).click();
      const templates = (await (
        await fetch(`${ui.base}/api/templates`, { headers: { authorization: `Bearer ${ui.token}` } })
      ).json()) as { templates: { id: string; yaml: string }[] };
      const t = templates.templates[0]!;
      await page.locator('select[name=template]').selectOption(t.id);
      const content = page.locator('.cm-content');
      await expect.poll(() => content.textContent(), { timeout: T }).toContain(/^\s+id:\s*(\S+)/m.exec(t.yaml)![1]!);
      // Completion from the schema: a key begun under workflow:, then a task's type.
      await content.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText('workflow:\n  ');
      await page.keyboard.type('descr');
      const options = page.locator('.cm-tooltip-autocomplete li');
      await expect.poll(() => options.allTextContents(), { timeout: T }).toEqual(['description']);
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText('workflow:\n  id: x\n  tasks:\n    - id: a\n      type: ');
      await page.keyboard.type('HU');
      await expect.poll(() => options.allTextContents(), { timeout: T }).toEqual(['HUMAN']);
    });
  },
);

describe.skipIf(!chromiumBin() && !process.env.CI)(
  'the editor refuses a person below L1 (docs/dashboard.md, "Who may edit")',
  () => {
    let users: UiProcess;
    let page: Browser['page'];
    let b: Browser;
    let project = '';
    let token = '';
    beforeAll(async () => {
      project = tempDir('lf-editor-web-users-');
      mkdirSync(join(project, 'definitions'));
      writeFileSync(join(project, 'definitions', 'refund.yaml'), REFUND_V1);
      const r = await cli(['users', 'add', 'ops-east', '--level', 'L2', '--domains', 'inventory', '--password-stdin'], {
        cwd: project,
        stdin: 'ops-east-pw\n',
      });
      expect(r.code, r.stderr).toBe(0);
      token = (await cli(['users', 'token', 'ops-east'], { cwd: project })).stdout.trim();
      [users, b] = await Promise.all([startUiProcess([], [], { cwd: project }), launchBrowser()]);
      page = b.page;
    }, 60_000);
    afterAll(async () => {
      await b?.close();
      await users?.stop();
    });

    it('says why and offers no deploy', async () => {
      await page.goto(`${users.base}/definitions/refund/edit?token=${token}`);
      const refused = page.locator('[data-testid=editor-refused]');
      await expect
        .poll(() => refused.textContent(), { timeout: T })
        .toContain('ops-east is L2 (Station OPS); deploying definitions needs L1 (CMD.BRIDGE) or higher');
      expect(await page.locator('[data-testid=deploy-panel]').count()).toBe(0);
      expect(await page.locator('.cm-content').getAttribute('contenteditable')).toBe('false');
    });
  },
);
