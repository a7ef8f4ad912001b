/**
 * The dashboard in chromium against `ledgerflow ui --nats` on a real
 * nats-server started from the repository's nats.conf (bob's lf.control line
 * dropped, as nats.conf suggests for people who may not control runs), with
 * an engine and a worker process: alice signs in on the sign-in page and
 * approves; bob is refused a cancel with the server's message; the worker
 * user, whom nats.conf does not let read the log, is told so and shown no
 * run. The UI's own connection gives the engine's credentials. One browser,
 * one page.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../../helpers/cli.js';
import { chromiumBin, launchBrowser, type Browser } from '../../helpers/browser.js';
import { NATS_CONF } from '../../helpers/nats.js';
import { noNats, useCluster, type Cluster } from '../../helpers/cluster.js';
import { startUiProcess, type UiProcess } from '../ui-helpers.js';

const T = 15_000;
let ui: UiProcess;
let browser: Browser;
const dir = tempDir('lf-ui-web-nats-');
const conf = join(dir, 'nats.conf');
writeFileSync(
  conf,
  readFileSync(NATS_CONF, 'utf8').replace('"lf.signals.bob.*", "lf.control.bob.*"', '"lf.signals.bob.*"'),
);
/** The describe's nats-server (useCluster below). */
let nats: Cluster;
const procs: ChildProcess[] = [];

async function waitingRun(): Promise<string> {
  const started = await cli(['--nats', nats.as('engine'), 'start', 'approval', '--json'], { cwd: dir });
  expect(started.code, started.stderr).toBe(0);
  return (JSON.parse(started.stdout) as { runId: string }).runId;
}

async function signIn(user: string, password: string): Promise<void> {
  const { page } = browser;
  await page.locator('input[name=user]').fill(user);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator(`[data-user="${user}"]`).waitFor({ timeout: T });
}

const runStatus = () => browser.page.locator('.run-page').getAttribute('data-status');

describe.skipIf(noNats || (!chromiumBin() && !process.env.CI))('the dashboard on NATS, in chromium', () => {
  nats = useCluster({ config: conf });
  let approveRun: string;
  let cancelRun: string;

  beforeAll(async () => {
    // The production nats.conf refuses a connection without credentials: the CLI connects as the engine user.
    const engineUrl = nats.as('engine');
    for (const f of ['approval.yaml', 'handlers.mjs']) copyFileSync(join(ROOT, 'test', 'fixtures', f), join(dir, f));
    const deployed = await cli(['--nats', engineUrl, 'deploy', 'approval.yaml'], { cwd: dir });
    expect(deployed.code, deployed.stderr).toBe(0);
    const workerUrl = nats.as('worker');
    procs.push(
      spawnCli(['--nats', engineUrl, 'engine'], { cwd: dir }),
      spawnCli(['--nats', workerUrl, 'worker', '--handlers', 'handlers.mjs'], { cwd: dir }),
    );
    [ui, browser] = await Promise.all([startUiProcess(['--nats', engineUrl], [], { cwd: dir }), launchBrowser()]);
    [approveRun, cancelRun] = await Promise.all([waitingRun(), waitingRun()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
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
  });

  it("shows the sign-in page, refuses a wrong password with the server's message, and signs alice in", async () => {
    const { page } = browser;
    await page.goto(`${ui.base}/runs/${approveRun}`);
    await page.locator('input[name=user]').fill('alice');
    await page.locator('input[name=password]').fill('not-her-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('.signin .error-box').textContent()).toMatch(/^401 /);
    await signIn('alice', 'alice-dev-password');
    // Signed in, the page she asked for.
    await page.locator(`.run-page[data-run="${approveRun}"]`).waitFor();
  });

  it('alice approves through the page and the run completes (the worker runs the last task)', async () => {
    const { page } = browser;
    await expect.poll(runStatus, { timeout: T }).toBe('WAITING');
    const box = page.locator('[data-approval=sign_off]');
    expect(await box.locator('input[name=as]').count()).toBe(0); // on NATS you are who you signed in as
    await box.locator('input[name=comment]').fill('ship it');
    await box.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(runStatus, { timeout: T }).toBe('COMPLETED');
    await page.locator('svg.graph g.node[data-task=sign_off]').click();
    await expect
      .poll(() => page.locator('.task-panel[data-task=sign_off] .decisions').textContent())
      .toMatch(/approved by alice.*“ship it”/);
  });

  it("bob, without lf.control in nats.conf, is refused a cancel with the server's message, and the run goes on waiting", async () => {
    const { page } = browser;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name=user]').waitFor();
    await signIn('bob', 'bob-dev-password');
    await page.goto(`${ui.base}/runs/${cancelRun}`);
    await expect.poll(runStatus, { timeout: T }).toBe('WAITING');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect
      .poll(() => page.locator('.actions-wrap .error-box').textContent())
      .toMatch(new RegExp(`^403 .*lf\\.control\\.bob\\.${cancelRun}`));
    expect(await runStatus()).toBe('WAITING');
    expect(browser.log.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });

  it('the worker user, whom nats.conf does not let read the log, signs in and is told it is not allowed to read runs, with no run shown', async () => {
    const { page } = browser;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name=user]').waitFor();
    await page.goto(`${ui.base}/runs/${cancelRun}`);
    await signIn('worker', 'worker-dev-password');
    const box = page.locator('[data-testid=read-forbidden]');
    await box.waitFor({ timeout: T });
    expect(await box.textContent()).toMatch(/not allowed to read runs.*\$JS\.API\.STREAM\.MSG\.GET\.LF_EVENTS/is);
    expect(await page.locator('.run-page').count()).toBe(0);
    expect(await page.content()).not.toContain('sign_off');
    expect(browser.log.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });
});
