/**
 * docs/retention.md on the embedded store, with the real CLI: the page's runs archived by hand and read as before,
 * restored and archived again; `retention:` archiving through `serve` (and `serve --retention` for a workflow with
 * none); bad values refused (exit 2, file:line:col for the definition).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir, type CliResult } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { startUiProcess } from '../server/ui-helpers.js';
import { badOlderThan, followThePage, INVOICE_YAML, restoredStaysLive } from './docs-scenario.js';
import { fileFullPass } from './full-pass.js';

const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

function project(): { dir: string; lf: (...args: string[]) => Promise<CliResult> } {
  const dir = tempDir('lf-retention-');
  const store = join(dir, 'store');
  return { dir, lf: (...args) => cli(['--store', store, ...args], { cwd: dir }) };
}

async function runInvoice(
  lf: (...args: string[]) => Promise<CliResult>,
  file: string,
  amount: number,
): Promise<string> {
  const r = await lf('run', file, '--amount', String(amount), '--json');
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { runId: string }).runId;
}

describe('retention and the archive on the embedded store (docs/retention.md)', () => {
  it("archives the page's runs by hand; list leaves them out, status/history/replay read them, restore brings one back", async () => {
    const { dir, lf } = project();
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    const runIds = [];
    for (const amount of [10, 20, 30]) runIds.push(await runInvoice(lf, 'invoice.yaml', amount));
    await followThePage(lf, runIds, () => fileFullPass(join(dir, 'store')));
  }, 120_000);

  it("a workflow's retention: archives its runs through serve; --retention is the default for the others", async () => {
    const { dir, lf } = project();
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML.replace('retention: 30d', 'retention: 1s'));
    writeFileSync(
      join(dir, 'keep.yaml'),
      INVOICE_YAML.replace('id: invoice', 'id: keep').replace(/ {2}retention: 30d\n/, ''),
    );
    const archived = await runInvoice(lf, 'invoice.yaml', 1);
    const kept = await runInvoice(lf, 'keep.yaml', 2);
    const listed = async () =>
      (JSON.parse((await lf('list', '--json')).stdout) as { runId: string }[]).map((r) => r.runId);

    let out = '';
    const serve = spawnCli(['--store', join(dir, 'store'), 'serve', '--archive-every', '1s'], { cwd: dir });
    procs.push(serve);
    serve.stderr!.on('data', (d) => (out += d));
    await waitFor('serve to archive the invoice run', async () => (await listed()).join() === kept, {
      timeout: 30_000,
      detail: () => out,
    });
    expect(out).toContain('archived 1 settled run past their retention');
    const status = JSON.parse((await lf('status', archived, '--json')).stdout) as { status: string };
    expect(status.status).toBe('COMPLETED');
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('close', r));

    const withDefault = spawnCli(
      ['--store', join(dir, 'store'), 'serve', '--archive-every', '1s', '--retention', '1s'],
      {
        cwd: dir,
      },
    );
    procs.push(withDefault);
    await waitFor('serve --retention to archive the other run', async () => (await listed()).length === 0, {
      timeout: 30_000,
    });
    const list = JSON.parse((await lf('archive', 'list', '--json')).stdout) as { periods: { runs: number }[] };
    expect(list.periods.reduce((n, p) => n + p.runs, 0)).toBe(2);
    withDefault.kill('SIGTERM');
    await new Promise((r) => withDefault.once('close', r));
  }, 120_000);

  it('a restored run stays live for its retention again, counted from the restore, then serve archives it', async () => {
    const { dir, lf } = project();
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML.replace('retention: 30d', 'retention: 3s'));
    const runId = await runInvoice(lf, 'invoice.yaml', 1);
    const listed = async () =>
      (JSON.parse((await lf('list', '--json')).stdout) as { runId: string }[]).map((r) => r.runId);
    let out = '';
    const serve = spawnCli(['--store', join(dir, 'store'), 'serve', '--archive-every', '300ms'], { cwd: dir });
    procs.push(serve);
    serve.stderr!.on('data', (d) => (out += d));
    await restoredStaysLive(lf, runId, listed, () => out);
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('close', r));
  }, 120_000);

  it("the dashboard's run page opens an archived run; its run list leaves it out", async () => {
    const { dir, lf } = project();
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    const runId = await runInvoice(lf, 'invoice.yaml', 5);
    expect((await lf('archive', '--older-than', '0s')).code).toBe(0);
    const ui = await startUiProcess(['--store', join(dir, 'store')], [], { cwd: dir });
    try {
      const headers = { authorization: `Bearer ${ui.token}` };
      const page = await fetch(`${ui.base}/api/runs/${runId}`, { headers });
      expect(page.status).toBe(200);
      const body = (await page.json()) as { run: { runId: string; status: string } };
      expect(body.run).toMatchObject({ runId, status: 'COMPLETED' });
      const list = (await (await fetch(`${ui.base}/api/runs`, { headers })).json()) as { runs: unknown[] };
      expect(list.runs).toEqual([]);
    } finally {
      await ui.stop();
    }
  }, 120_000);

  it('a corrupt run is left live, reported as before; the others are archived', async () => {
    const { dir, lf } = project();
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    const runId = await runInvoice(lf, 'invoice.yaml', 7);
    writeFileSync(join(dir, 'store', 'runs', 'broken.jsonl'), 'not a commit\n');
    const moved = await lf('archive', '--older-than', '0s', '--json');
    expect(moved.code, moved.stderr).toBe(0);
    expect((JSON.parse(moved.stdout) as { runs: { runId: string }[] }).runs.map((r) => r.runId)).toEqual([runId]);
    expect(existsSync(join(dir, 'store', 'runs', 'broken.jsonl'))).toBe(true);
    const listed = JSON.parse((await lf('list', '--json')).stdout) as { runId: string; status: string }[];
    expect(listed).toEqual([expect.objectContaining({ runId: 'broken', status: 'CORRUPT' })]);
  }, 120_000);

  it('a bad --older-than, retention: or --retention is a clear error, exit 2', async () => {
    const { dir, lf } = project();
    await badOlderThan(lf);
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML.replace('retention: 30d', 'retention: thirty days'));
    const bad = await lf('validate', 'invoice.yaml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'invoice.yaml:3:14: error: workflow.retention: expected a duration like "30s", "1h30m", "PT1M" or a number of milliseconds, got "thirty days"',
    );
    const serve = await lf('serve', '--retention', 'nope');
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain('--retention nope is not a duration');
  }, 120_000);

  it('archive --workflow with no run due names the workflow, not "no settled run" of the whole store', async () => {
    const { dir, lf } = project();
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    const runId = await runInvoice(lf, 'invoice.yaml', 1);
    const typo = await lf('archive', '--older-than', '0s', '--workflow', 'Invoice');
    expect(typo.code, typo.stderr).toBe(0);
    expect(typo.stdout.trim()).toBe('no settled run of workflow Invoice is older than 0s: nothing archived');
    const listed = JSON.parse((await lf('list', '--json')).stdout) as { runId: string }[];
    expect(listed.map((r) => r.runId)).toEqual([runId]);
  }, 120_000);

  it('serve --retention 0s (or LEDGERFLOW_RETENTION=0) is refused as retention: 0 is, exit 2, nothing archived', async () => {
    const { dir, lf } = project();
    writeFileSync(
      join(dir, 'keep.yaml'),
      INVOICE_YAML.replace('id: invoice', 'id: keep').replace(/ {2}retention: 30d\n/, ''),
    );
    const kept = await runInvoice(lf, 'keep.yaml', 1);
    for (const [args, env, flag] of [
      [['serve', '--retention', '0s', '--archive-every', '1s'], {}, '--retention 0s'],
      [['serve', '--archive-every', '1s'], { LEDGERFLOW_RETENTION: '0' }, 'LEDGERFLOW_RETENTION 0'],
    ] as const) {
      let out = '';
      const serve = spawnCli(['--store', join(dir, 'store'), ...args], { cwd: dir, env });
      procs.push(serve);
      serve.stderr!.on('data', (d) => (out += d));
      // Before the fix serve took 0 as "archive every settled run now" and went on serving: it never exits by itself.
      await waitFor(`serve ${flag} to exit`, () => serve.exitCode !== null, { timeout: 20_000, detail: () => out });
      expect(serve.exitCode, out).toBe(2);
      expect(out).toContain(`${flag}: a retention must be longer than 0`);
      const listed = JSON.parse((await lf('list', '--json')).stdout) as { runId: string }[];
      expect(listed.map((r) => r.runId)).toEqual([kept]);
      const archive = JSON.parse((await lf('archive', 'list', '--json')).stdout) as { periods: unknown[] };
      expect(archive.periods).toEqual([]);
    }
  }, 120_000);
});
