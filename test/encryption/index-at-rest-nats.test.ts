/**
 * The run index of an encrypted run on NATS (issue 63, docs/security.md#the-run-index): the JetStream index (KV
 * LF_RUNS_INDEX, kept by the engines' projection) of a run made with LF_DATA_KEY answers `list`, its filters on search
 * attributes and output, and `stats` as for the same run made in clear; the bucket holds no value of it; a reader
 * without the key gets its ids, statuses and tasks, and `[encrypted]` for the values; after `keys rotate`, `list` shows
 * it as before.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { encryptedStore, KeyRing } from '../../src/index.js';
import { JetStreamRunIndex } from '../../src/query/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';
import { NAME, leaked } from './docs-page.js';
import { ORDERS_YAML, comparable, statsCounts } from './index-values.js';

const CLEAR_NAME = 'Clear-Customer-0042';

describe.skipIf(noNats)('the run index of an encrypted run on NATS (issue 63)', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('list, its filters and stats answer as for the same run in clear; LF_RUNS_INDEX holds no value of it', async () => {
    const dir = tempDir('lf-crypt-idx-nats-');
    writeFileSync(join(dir, 'orders.yaml'), ORDERS_YAML);
    const engine = c.as('engine');
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };
    const lf = (...args: string[]) => cli([...args, '--nats', engine], { cwd: dir, env });
    const start = async (): Promise<ChildProcess[]> => {
      const started: ChildProcess[] = [];
      for (const args of [
        ['engine', '--nats', engine],
        ['worker', '--nats', c.as('worker'), '--commands'],
      ]) {
        const child = spawnCli(args, { cwd: dir, env });
        procs.push(child);
        started.push(child);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        child.stderr!.on('data', (d) => (out += d));
        await waitFor(`the ${args[0]} to start`, () => out.includes(args[0] === 'engine' ? 'engine' : 'worker '), {
          timeout: 30_000,
          detail: () => out,
        });
      }
      return started;
    };
    const order = async (customer: string): Promise<string> => {
      const s = await lf('start', 'orders', '--customer', customer, '--amount', '250', '--tier', 'gold');
      expect(s.code, s.stderr).toBe(0);
      const runId = s.stdout.trim();
      const done = await lf('wait', runId, '--timeout', '60s', '--json');
      expect(JSON.parse(done.stdout).status, done.stdout + done.stderr).toBe('COMPLETED');
      return runId;
    };

    // In clear first: no key anywhere.
    const first = await start();
    expect((await lf('deploy', 'orders.yaml')).code).toBe(0);
    const clearId = await order(CLEAR_NAME);
    for (const p of first) p.kill('SIGTERM');
    await waitFor(
      'the clear engine and worker to stop',
      () => first.every((p) => p.exitCode !== null || p.signalCode !== null),
      { timeout: 30_000 },
    );
    // Then with the key in KV LF_SECRETS, as the page says.
    const set = await cli(['secrets', 'set', 'LF_DATA_KEY', '--nats', engine], {
      cwd: dir,
      stdin: randomBytes(32).toString('base64'),
      env,
    });
    expect(set.code, set.stderr).toBe(0);
    await start();
    const sealedId = await order(NAME);

    /** The run's row, its customer written as `<customer>` (the two runs' only difference). */
    const rowOf = (rows: Record<string, unknown>[], runId: string, customer: string) => {
      const row = rows.find((r) => r.runId === runId);
      expect(row, runId).toBeDefined();
      const { runId: _r, ...rest } = comparable(row!);
      return JSON.parse(JSON.stringify(rest).replaceAll(customer, '<customer>'));
    };
    const list = async (...args: string[]) => {
      const r = await lf('list', '--json', ...args);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, unknown>[];
    };
    // The projection writes each run's value soon after its commit: wait until the index has both settled.
    await waitFor(
      'the index to hold both runs settled',
      async () => {
        const rows = await list();
        return [clearId, sealedId].every((id) => rows.some((r) => r.runId === id && r.status === 'COMPLETED'));
      },
      { timeout: 30_000 },
    );
    const rows = await list();
    expect(rowOf(rows, clearId, CLEAR_NAME)).toMatchObject({
      search: { customer: '<customer>', amount: 250, stage: 'gold' },
    });
    expect(rowOf(rows, sealedId, NAME)).toEqual(rowOf(rows, clearId, CLEAR_NAME));
    for (const [runId, customer] of [
      [clearId, CLEAR_NAME],
      [sealedId, NAME],
    ] as const) {
      expect((await list('--where', `customer=${customer}`)).map((r) => r.runId)).toEqual([runId]);
      expect((await list('--output-contains', customer.slice(0, 12))).map((r) => r.runId)).toEqual([runId]);
    }
    for (const where of ['amount>100', 'stage=gold'])
      expect((await list('--where', where)).map((r) => r.runId).sort(), where).toEqual([clearId, sealedId].sort());
    const stats = await lf('stats', 'orders', '--json');
    expect(statsCounts(JSON.parse(stats.stdout))).toMatchObject({
      runs: { total: 2, completed: 2 },
      task_success_rate: {
        tasks: { route: { completed: 2 }, gold_rate: { completed: 2 }, gold_notice: { completed: 2 } },
      },
    });

    // Every value the bucket ever held for the encrypted run: none in clear.
    const jsm = await c.jsm();
    const info = await jsm.streams.info('KV_LF_RUNS_INDEX');
    let read = 0;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('KV_LF_RUNS_INDEX', { seq }).catch(() => null);
      if (!m || !m.subject.endsWith(`.${sealedId}`)) continue;
      read++;
      expect(leaked(Buffer.from(m.data).toString('latin1')), `LF_RUNS_INDEX message ${seq}`).toBeNull();
    }
    expect(read).toBeGreaterThan(0);

    // A reader without the key: the same ids, statuses and tasks, [encrypted] for the values.
    const blindStore = encryptedStore(new JetStreamEventStore({ servers: c.url }), new KeyRing(async () => undefined));
    c.defer(() => blindStore.close());
    const { storeAtRest } = await import('../../src/store/index.js');
    const index = new JetStreamRunIndex(storeAtRest(blindStore), { keysFrom: blindStore });
    c.defer(() => index.close());
    const blind = (await index.query({})).runs as unknown as Record<string, unknown>[];
    expect(leaked(JSON.stringify(blind))).toBeNull();
    // The clear run as this reader sees it (its values in clear), the encrypted one with its values [encrypted].
    const clearRow = rowOf(blind, clearId, CLEAR_NAME);
    expect(clearRow).toMatchObject({
      tasks: { gold_notice: { status: 'COMPLETED' }, plain_rate: { status: 'SKIPPED' } },
    });
    expect(rowOf(blind, sealedId, NAME)).toEqual({
      ...clearRow,
      result: '[encrypted]',
      outputText: '[encrypted]',
      search: { customer: '[encrypted]', amount: '[encrypted]', stage: '[encrypted]' },
    });

    // After `keys rotate` (docs/security.md#rotating-the-key) the index values sealed with the key from before still
    // open: `list` loads that key as it reads them and shows the run as before, twice (the second from the order kept
    // in the CLI's cache folder, which once kept the run out for good).
    const rotated = await lf('keys', 'rotate');
    expect(rotated.code, rotated.stderr).toBe(0);
    for (let i = 0; i < 2; i++) {
      const after = await list();
      expect(after.map((r) => r.runId).sort()).toEqual([clearId, sealedId].sort());
      expect(rowOf(after, sealedId, NAME)).toEqual(rowOf(after, clearId, CLEAR_NAME));
    }
  }, 240_000);
});
