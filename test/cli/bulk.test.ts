/**
 * docs/runs.md "Many runs at once: --query" (and coordination.md's emergency
 * stop) as a user does it: runs of a workflow waiting for a person, then
 * `cancel --query … --dry-run`, the same without --yes (refused, nothing
 * changed), with --yes, and again (nothing left to do); `pause --query`; a
 * level that may not cancel refused before any run is touched; on NATS the
 * same command and the same JSON. resume, retry and approve --query: their
 * usage errors, and an approval judged per task (a refusal listed, exit 2).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { bulkOnCluster, ClusterClient } from '../../src/exports/cluster.js';

const HOLD = 'workflow:\n  id: hold\n  tasks:\n    - { id: review, type: HUMAN }\n';
const OTHER = HOLD.replace('id: hold', 'id: other');

let dir = '';
const inDir = (env: Record<string, string> = {}) => ({
  cwd: dir,
  env: { LEDGERFLOW_STORE: join(dir, 'store'), ...env },
});
const statusOf = async (runId: string) =>
  JSON.parse((await cli(['status', runId, '--json'], inDir())).stdout).status as string;

describe('cancel and pause --query on the embedded store', () => {
  const holds: string[] = [];
  let other = '';
  beforeAll(async () => {
    dir = tempDir('lf-bulk-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'hold.yaml'), HOLD);
    writeFileSync(join(dir, 'definitions', 'other.yaml'), OTHER);
    for (let i = 0; i < 3; i++)
      holds.push(JSON.parse((await cli(['run', 'definitions/hold.yaml', '--json'], inDir())).stdout).runId);
    other = JSON.parse((await cli(['run', 'definitions/other.yaml', '--json'], inDir())).stdout).runId;
  }, 60_000);

  it('a dry run says how many and which; no --yes off a terminal is refused; --yes cancels them, once', async () => {
    const dry = await cli(['cancel', '--query', 'workflow=hold status=WAITING', '--dry-run'], inDir());
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      '3 run(s) match; 3 would be cancelled, 0 already are (or have settled); nothing changed',
    );
    for (const id of holds) expect(dry.stdout).toContain(`  ${id}  hold  WAITING`);

    const unconfirmed = await cli(['cancel', '--query', 'workflow=hold status=WAITING'], inDir());
    expect([unconfirmed.code, unconfirmed.stderr.includes('cancel of 3 run(s) not confirmed: add --yes')]).toEqual([
      2,
      true,
    ]);
    expect(await statusOf(holds[0]!)).toBe('WAITING');

    const done = await cli(
      ['cancel', '--query', 'workflow=hold status=WAITING', '--reason', 'emergency stop', '--yes'],
      inDir(),
    );
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('cancelled 3 run(s); 0 already cancelled or settled; 0 refused');
    for (const id of holds) expect(await statusOf(id)).toBe('CANCELLED');
    expect(await statusOf(other)).toBe('WAITING'); // not matched
    const history = JSON.parse((await cli(['history', holds[0]!, '--json'], inDir())).stdout) as {
      type: string;
      data: { reason?: string };
    }[];
    expect(history.find((e) => e.type === 'run.cancelled')!.data.reason).toBe('emergency stop');

    const again = await cli(['cancel', '--query', 'workflow=hold', '--yes', '--json'], inDir());
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      action: 'cancel',
      matched: 3,
      cancelled: [],
      already: expect.arrayContaining(holds),
      refused: [],
    });
  }, 60_000);

  it('pause --query pauses what runs; a filter that is no filter, or none, is refused', async () => {
    const paused = await cli(['pause', '--query', 'workflow=other', '--yes', '--json'], inDir());
    expect(JSON.parse(paused.stdout)).toMatchObject({ action: 'pause', matched: 1, paused: [other] });
    expect(await statusOf(other)).toBe('PAUSED');
    for (const [query, why] of <Array<[string, string]>>[
      ['bogus=1', 'bogus is not a run filter'],
      ['nonsense', 'is not key=value'],
      ['limit=5', 'limit pages a list'],
    ]) {
      const r = await cli(['cancel', '--query', query, '--yes'], inDir());
      expect([r.code, r.stderr.includes(why)], r.stderr).toEqual([2, true]);
    }
    const both = await cli(['cancel', other, '--query', 'workflow=other'], inDir());
    expect([both.code, both.stderr.includes('give a run id or --query, not both')]).toEqual([2, true]);
  }, 60_000);

  it('with a users file, a level that may not cancel is refused before any run is touched', async () => {
    expect(
      (await cli(['users', 'add', 'ops-east', '--level', 'L2', '--password-stdin'], { cwd: dir, stdin: 'pw\n' })).code,
    ).toBe(0);
    const r = await cli(
      ['cancel', '--query', 'workflow=other', '--yes'],
      inDir({ LEDGERFLOW_USER: 'ops-east', LEDGERFLOW_PASSWORD: 'pw' }),
    );
    expect(
      [r.code, r.stderr.includes('ops-east is L2 (Station OPS); controlling runs needs L1 (CMD.BRIDGE) or higher')],
      r.stderr,
    ).toEqual([2, true]);
    expect(await statusOf(other)).toBe('PAUSED');
  }, 60_000);
});

describe.skipIf(noNats)('cancel --query over NATS', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('cancels every matching run through the engines, the same JSON', async () => {
    const d = tempDir('lf-bulk-nats-');
    const id = `hold-${Date.now().toString(36)}`;
    writeFileSync(join(d, 'hold.yaml'), HOLD.replace('id: hold', `id: ${id}`));
    expect((await cli(['--nats', c.url, 'deploy', join(d, 'hold.yaml')])).code).toBe(0);
    const engine = spawnCli(['--nats', c.url, 'engine']);
    procs.push(engine);
    const runs: string[] = [];
    for (let i = 0; i < 2; i++)
      runs.push(JSON.parse((await cli(['--nats', c.url, 'start', id, '--json'])).stdout).runId);
    for (const r of runs)
      expect(
        JSON.parse((await cli(['--nats', c.url, 'wait', r, '--or-waiting', '--timeout', '30s', '--json'])).stdout)
          .status,
      ).toBe('WAITING');
    const done = await cli(['--nats', c.url, 'cancel', '--query', `workflow=${id}`, '--yes', '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toEqual({
      action: 'cancel',
      matched: 2,
      cancelled: expect.arrayContaining(runs),
      already: [],
      refused: [],
    });
    for (const r of runs)
      expect(JSON.parse((await cli(['--nats', c.url, 'wait', r, '--timeout', '30s', '--json'])).stdout).status).toBe(
        'CANCELLED',
      );
  }, 90_000);

  it('the library over NATS (bulkOnCluster): a dry run, then a pause of the matching runs, the same answer', async () => {
    const d = tempDir('lf-bulk-lib-');
    const id = `hold-${Date.now().toString(36)}`;
    writeFileSync(join(d, 'hold.yaml'), HOLD.replace('id: hold', `id: ${id}`));
    expect((await cli(['--nats', c.url, 'deploy', join(d, 'hold.yaml')])).code).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine']));
    const runs: string[] = [];
    for (let i = 0; i < 2; i++)
      runs.push(JSON.parse((await cli(['--nats', c.url, 'start', id, '--json'])).stdout).runId);
    for (const r of runs)
      expect(
        JSON.parse((await cli(['--nats', c.url, 'wait', r, '--or-waiting', '--timeout', '30s', '--json'])).stdout)
          .status,
      ).toBe('WAITING');
    const client = new ClusterClient(c.url);
    try {
      await waitFor(
        'the index has both',
        async () =>
          ((await bulkOnCluster(client, 'pause', { workflow: id }, { dryRun: true })).would as string[]).length === 2,
        { timeout: 15_000 },
      );
      expect(await bulkOnCluster(client, 'pause', { workflow: id }, { reason: 'maintenance' })).toEqual({
        action: 'pause',
        matched: 2,
        paused: expect.arrayContaining(runs),
        already: [],
        refused: [],
      });
    } finally {
      await client.close();
    }
    for (const r of runs)
      expect(JSON.parse((await cli(['--nats', c.url, 'status', r, '--json'])).stdout).status).toBe('PAUSED');
  }, 90_000);
});

describe('resume, retry and approve --query on the embedded store', () => {
  let d = '';
  const at = (env: Record<string, string> = {}) => ({ cwd: d, env: { LEDGERFLOW_STORE: join(d, 'store'), ...env } });
  const status = async (runId: string) =>
    JSON.parse((await cli(['status', runId, '--json'], at())).stdout).status as string;
  beforeAll(() => {
    d = tempDir('lf-bulk-more-');
    mkdirSync(join(d, 'definitions'));
    writeFileSync(
      join(d, 'definitions', 'gate.yaml'),
      'workflow:\n  id: gate\n  tasks:\n    - { id: low, type: HUMAN, agent_level: L2 }\n    - { id: high, type: HUMAN }\n',
    );
  });

  it('retry --query takes a run whose <id>-retry name a run of its own holds: under <id>-retry-2, as its dry run said', async () => {
    // docs/operations.md: a run counts as already retried only when it has a retry run; any run may be named anything.
    writeFileSync(join(d, 'definitions', 'hold.yaml'), HOLD);
    writeFileSync(join(d, 'definitions', 'other.yaml'), OTHER);
    expect((await cli(['run', 'definitions/hold.yaml', '--id', 'foo'], at())).code).toBe(3);
    expect((await cli(['cancel', 'foo'], at())).code).toBe(0);
    expect((await cli(['run', 'definitions/other.yaml', '--id', 'foo-retry'], at())).code).toBe(3);
    const query = ['retry', '--query', 'run-id=foo workflow=hold'];
    const dry = await cli([...query, '--dry-run'], at());
    expect(dry.stdout + dry.stderr).toContain('1 would be retried');
    const done = await cli([...query, '--yes', '--json'], at());
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({
      retried: ['foo'],
      already: [],
      started: [{ runId: 'foo-retry-2', retryOf: 'foo' }],
    });
    expect(await status('foo-retry')).toBe('WAITING'); // the other workflow's run, untouched
    // Again: foo now has its retry, so nothing more is started.
    // (run-id= matches ids that begin so: foo-retry-2 too, which is not FAILED or CANCELLED.)
    const again = JSON.parse((await cli([...query, '--yes', '--json'], at())).stdout) as Record<string, string[]>;
    expect([again.retried, again.already?.includes('foo')]).toEqual([[], true]);
    expect((await cli(['status', 'foo-retry-3'], at())).code).toBe(2);
  }, 60_000);

  it('a run id with --query, --task without --query, a bad --decision: exit 2 saying so', async () => {
    for (const [args, why] of <Array<[string[], string]>>[
      [['resume', 'r1', '--query', 'workflow=gate'], 'give a run id or --query, not both'],
      [['retry', 'r1', '--query', 'workflow=gate'], 'give a run id or --query, not both'],
      [['approve', 'r1', 'low', '--query', 'workflow=gate'], 'give a run id or --query, not both'],
      [['approve', 'r1', 'low', '--task', 'low'], '--task and --decision go with --query'],
      [
        ['approve', '--query', 'workflow=gate', '--decision', 'maybe', '--yes'],
        '--decision: "maybe" is not approved or rejected',
      ],
      [['reject', '--query', 'workflow=gate', '--decision', 'approved', '--yes'], 'contradicts reject'],
      [['resume'], 'which run?'],
      [['retry', '--query', 'workflow=gate', '--task', 'low', '--yes'], 'unknown option'],
    ]) {
      const r = await cli(args, at());
      expect([r.code, r.stderr.includes(why)], `${args.join(' ')}: ${r.stderr}`).toEqual([2, true]);
    }
  }, 60_000);

  it('with a users file an approval is judged per task: an L2 may decide a task of agent_level L2, and one it may not (default L0) is listed as refused', async () => {
    const runs: string[] = [];
    for (let i = 0; i < 2; i++)
      runs.push(JSON.parse((await cli(['run', 'definitions/gate.yaml', '--json'], at())).stdout).runId);
    expect(
      (await cli(['users', 'add', 'clerk', '--level', 'L2', '--password-stdin'], { cwd: d, stdin: 'pw\n' })).code,
    ).toBe(0);
    const clerk = at({ LEDGERFLOW_USER: 'clerk', LEDGERFLOW_PASSWORD: 'pw' });
    const low = await cli(['approve', '--query', 'workflow=gate', '--task', 'low', '--yes', '--json'], clerk);
    expect(low.code, low.stdout + low.stderr).toBe(0);
    expect(JSON.parse(low.stdout)).toMatchObject({
      action: 'approve',
      matched: 2,
      approved: expect.arrayContaining(runs),
      refused: [],
    });
    const high = await cli(['approve', '--query', 'workflow=gate', '--yes', '--json'], clerk);
    expect(high.code).toBe(2); // refusals listed: exit 2
    const out = JSON.parse(high.stdout) as { approved: string[]; refused: Array<{ runId: string; code: string }> };
    expect(out.approved).toEqual([]);
    expect(out.refused.map((r) => r.runId).sort()).toEqual([...runs].sort());
    for (const id of runs) expect(await status(id)).toBe('WAITING');
  }, 60_000);
});
