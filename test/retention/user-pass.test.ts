/**
 * docs/retention.md's commands as a user mistypes them, on both stores with the real CLI: a bare number where a
 * duration needs its unit (`archive --older-than 30`, `--retention 30`, LEDGERFLOW_RETENTION=30), an empty
 * `--older-than`, `--archive-every 0s`: each refused, exit 2, nothing archived. Then a store whose runs are all
 * archived: `list` points at `ledgerflow archive list`, `status` says the run was read from the archive.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir, type CliResult } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { INVOICE_YAML } from './docs-scenario.js';

type Lf = (...args: string[]) => Promise<CliResult>;

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

/** A settled run of the page's invoice.yaml, made in `dir` through `lf`. */
async function settledRun(lf: Lf, dir: string): Promise<string> {
  writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
  const ran = await lf('run', 'invoice.yaml', '--amount', '1', '--json');
  expect(ran.code, ran.stderr).toBe(0);
  return (JSON.parse(ran.stdout) as { runId: string }).runId;
}

/** The run is still live and the archive empty: the refused command moved nothing. */
async function nothingArchived(lf: Lf, runId: string): Promise<void> {
  const listed = JSON.parse((await lf('list', '--json')).stdout) as { runId: string }[];
  expect(listed.map((r) => r.runId)).toEqual([runId]);
  const archive = JSON.parse((await lf('archive', 'list', '--json')).stdout) as { periods: unknown[] };
  expect(archive.periods).toEqual([]);
}

/** `archive --older-than 30` (meant as days, read before as 30 ms) and `--older-than ''`: exit 2, nothing moved. */
async function badOlderThan(lf: Lf, runId: string): Promise<void> {
  const bare = await lf('archive', '--older-than', '30');
  expect(bare.code, bare.stdout).toBe(2);
  expect(bare.stderr).toContain('--older-than 30 has no unit: write one, e.g. --older-than 30d for 30 days');
  const empty = await lf('archive', '--older-than', '');
  expect(empty.code, empty.stdout).toBe(2);
  expect(empty.stderr.trim()).toBe(
    'error: --older-than was given an empty value; it takes a duration, e.g. 30d or 12h',
  );
  await nothingArchived(lf, runId);
}

/**
 * `args` (serve or engine, with the store given) exits 2 saying `message`, before any round: before the fix each went
 * on running and archived the run at its first round, never exiting by itself.
 */
async function refusedAtStart(
  dir: string,
  args: string[],
  env: Record<string, string>,
  message: string,
): Promise<void> {
  let out = '';
  const p = spawnCli(args, { cwd: dir, env });
  procs.push(p);
  p.stderr!.on('data', (d) => (out += d));
  await waitFor(`${args.join(' ')} to exit`, () => p.exitCode !== null, { timeout: 20_000, detail: () => out });
  expect(p.exitCode, out).toBe(2);
  expect(out).toContain(message);
}

/** Every run archived: `list` says where they are (text only), `status` that it read the archive (text only). */
async function allArchived(lf: Lf, runId: string): Promise<void> {
  expect((await lf('archive', '--older-than', '0s')).code).toBe(0);
  const list = await lf('list');
  expect(list.code, list.stderr).toBe(0);
  expect(list.stdout.trim()).toBe('no runs match (0)');
  expect(list.stderr).toContain('the archive holds 1 run, which list leaves out: `ledgerflow archive list`');
  const asJson = await lf('list', '--json');
  expect(JSON.parse(asJson.stdout)).toEqual([]);
  expect(asJson.stderr).not.toContain('archive');
  const status = await lf('status', runId);
  expect(status.code, status.stderr).toBe(0);
  const period = new Date().toISOString().slice(0, 7);
  expect(status.stdout).toContain(
    `read from the archive (${period}); \`ledgerflow restore ${runId}\` brings it back into the live log`,
  );
  // A live run says nothing of the archive.
  expect((await lf('restore', runId)).code).toBe(0);
  expect((await lf('status', runId)).stdout).not.toContain('archive');
  expect((await lf('list')).stderr).not.toContain('archive');
}

describe('retention flags and the archive as a user meets them, embedded store', () => {
  function project(): { dir: string; store: string; lf: Lf } {
    const dir = tempDir('lf-retention-user-');
    const store = join(dir, 'store');
    return { dir, store, lf: (...args) => cli(['--store', store, ...args], { cwd: dir }) };
  }

  it('a bare number or an empty value where a duration needs its unit, and --archive-every 0s: exit 2, nothing archived', async () => {
    const { dir, store, lf } = project();
    const runId = await settledRun(lf, dir);
    await badOlderThan(lf, runId);
    const serve = ['--store', store, 'serve'];
    await refusedAtStart(dir, [...serve, '--retention', '30'], {}, '--retention 30 has no unit');
    await refusedAtStart(
      dir,
      [...serve],
      { LEDGERFLOW_RETENTION: '30' },
      'LEDGERFLOW_RETENTION 30 has no unit: write one, e.g. LEDGERFLOW_RETENTION=30d',
    );
    await refusedAtStart(
      dir,
      [...serve, '--retention', '1s', '--archive-every', '0s'],
      {},
      '--archive-every 0s: rounds must be longer than 0 apart',
    );
    await nothingArchived(lf, runId);
  }, 120_000);

  it('list points at the archive when every run is archived; status says it read the archive', async () => {
    const { dir, lf } = project();
    await allArchived(lf, await settledRun(lf, dir));
  }, 120_000);
});

describe.skipIf(noNats)('retention flags and the archive as a user meets them, NATS', () => {
  const c = useCluster();

  // One test, one server: the store is the server's, and the refusals' run is then archived by hand.
  it('a bare or empty --older-than and engine --archive-every 0s are exit 2; list and status speak of the archive', async () => {
    const dir = tempDir('lf-retention-user-nats-');
    const lf: Lf = (...args) => cli(['--nats', c.url, ...args], { cwd: dir });
    const runId = await settledRun(lf, dir);
    await badOlderThan(lf, runId);
    await refusedAtStart(
      dir,
      ['--nats', c.url, 'engine', '--retention', '1s', '--archive-every', '0s'],
      {},
      '--archive-every 0s: rounds must be longer than 0 apart',
    );
    await nothingArchived(lf, runId);
    await allArchived(lf, runId);
  }, 120_000);
});
