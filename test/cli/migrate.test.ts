/**
 * docs/runs.md "Migrating in-flight runs" as a user does it: the refund
 * workflow's runs wait for review under version 1; `migrate refund --to 2
 * --dry-run` judges them and changes nothing; without --dry-run each gets
 * run.migrated; the same command again finds them already on version 2; a
 * migrated run approved completes under version 2 (its new task runs) and
 * replays; version 3 (a task renamed) cannot take over as is and takes over
 * with --map. With a users file an L2 may not migrate. Over NATS the same
 * commands, with the engines holding the run: approved after the migration,
 * it completes under the new version. POST /api/definitions/:id/migrate on
 * `ledgerflow ui`, whose Service drives the waiting run as the migration lands.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { startUiProcess, type UiProcess } from '../server/ui-helpers.js';

/** The YAML blocks of the docs' section, by the file named in their first line. */
function docsDefinitions(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'docs', 'runs.md'), 'utf8');
  const section = text.slice(text.indexOf('## Migrating in-flight runs'), text.indexOf('## The monitor'));
  const out: Record<string, string> = {};
  for (const m of section.matchAll(/```yaml\n# (\S+)\n([\s\S]*?)```/g)) out[m[1]!] = m[2]!;
  return out;
}
const V3 = (v2: string) =>
  v2
    .replace('version: 2', 'version: 3')
    .replace('id: cool_off', 'id: grace')
    .replace('depends_on: [cool_off]', 'depends_on: [grace]');

interface Row {
  runId: string;
  verdict: string;
  migrated?: boolean;
  divergence?: { seq: number; type: string; reason: string };
}
interface Answer {
  judged: number;
  as_is: number;
  with_map: number;
  cannot: number;
  already: number;
  migrated: number;
  runs: Row[];
}

describe('migrate on the embedded store, from the docs', () => {
  let dir = '';
  const at = (env: Record<string, string> = {}) => ({
    cwd: dir,
    env: { LEDGERFLOW_STORE: join(dir, 'store'), ...env },
  });
  const runs: string[] = [];
  beforeAll(async () => {
    dir = tempDir('lf-migrate-');
    mkdirSync(join(dir, 'definitions'));
    const defs = docsDefinitions();
    expect(Object.keys(defs)).toEqual(['definitions/refund.yaml', 'definitions/refund-v2.yaml']);
    for (const [file, yaml] of Object.entries(defs)) writeFileSync(join(dir, file), yaml);
    for (let i = 0; i < 2; i++) {
      const r = await cli(['run', 'definitions/refund.yaml', '--json'], at());
      runs.push(JSON.parse(r.stdout).runId);
    }
  }, 60_000);

  it('a dry run sorts the runs and changes nothing; the migration moves them; again, they are already on it', async () => {
    const dry = await cli(['migrate', 'refund', '--to', '2', '--dry-run'], at());
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      '2 unsettled run(s) of refund judged against refund v2: 2 take over as is, 0 with the task map, 0 cannot, 0 already on it',
    );
    for (const id of runs) expect(dry.stdout).toContain(`  ${id}  WAITING  v1  takes over as is\n`);
    expect(dry.stdout).toContain('dry run: nothing changed');
    const history = JSON.parse((await cli(['history', runs[0]!, '--json'], at())).stdout) as { type: string }[];
    expect(history.map((e) => e.type)).not.toContain('run.migrated');

    const real = await cli(['migrate', 'refund', '--to', '2', '--as', 'ops'], at());
    expect(real.code, real.stderr).toBe(0);
    for (const id of runs) expect(real.stdout).toContain(`  ${id}  WAITING  v1  takes over as is → migrated`);
    expect(real.stdout).toContain('migrated 2 run(s) to refund v2');
    const migrated = (
      JSON.parse((await cli(['history', runs[0]!, '--json'], at())).stdout) as {
        type: string;
        data: Record<string, unknown>;
      }[]
    ).at(-1)!;
    expect(migrated).toMatchObject({
      type: 'run.migrated',
      data: { from: { version: 1 }, to: { version: 2 }, map: {}, by: 'ops' },
    });

    // list (the run index) shows the version they run under now.
    const listed = JSON.parse((await cli(['list', '--workflow', 'refund', '--json'], at())).stdout) as {
      runId: string;
      version: number;
    }[];
    expect(listed.filter((r) => runs.includes(r.runId)).map((r) => r.version)).toEqual([2, 2]);

    const again = await cli(['migrate', 'refund', '--to', '2', '--json'], at());
    expect(again.code).toBe(0);
    const answer = JSON.parse(again.stdout) as Answer;
    expect(answer).toMatchObject({ judged: 2, already: 2, migrated: 0 });
    expect(answer.runs.map((r) => r.verdict)).toEqual(['already', 'already']);
  }, 60_000);

  it('a migrated run approved completes under the new version (its new task runs), and replays', async () => {
    const approved = await cli(['approve', runs[0]!, 'review', '--as', 'ops'], at());
    expect(approved.code, approved.stderr).toBe(0);
    const status = JSON.parse((await cli(['status', runs[0]!, '--json'], at())).stdout) as {
      status: string;
      version: number;
      tasks: Record<string, { status: string }>;
    };
    expect(status).toMatchObject({ status: 'COMPLETED', version: 2 });
    expect(status.tasks.record?.status).toBe('COMPLETED');
    const replay = await cli(['replay', runs[0]!], at());
    expect(
      [replay.code, replay.stdout.includes('✓ every event leads to the state it recorded')],
      replay.stdout,
    ).toEqual([0, true]);
  }, 60_000);

  it('a renamed task: cannot as is (the first divergence), takes over with --map, and goes on under the new id', async () => {
    writeFileSync(join(dir, 'definitions', 'refund-v3.yaml'), V3(docsDefinitions()['definitions/refund-v2.yaml']!));
    const plain = await cli(['migrate', 'refund', '--to', '3', '--json'], at());
    expect(plain.code).toBe(1);
    const cannot = JSON.parse(plain.stdout) as Answer;
    expect(cannot).toMatchObject({ judged: 1, cannot: 1, migrated: 0 });
    expect(cannot.runs[0]).toMatchObject({
      runId: runs[1],
      verdict: 'cannot',
      divergence: {
        seq: 2,
        type: 'timer.fired',
        reason: expect.stringContaining('the definition has no task "cool_off"'),
      },
    });

    const mapped = await cli(['migrate', 'refund', '--to', '3', '--map', 'cool_off=grace'], at());
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(mapped.stdout).toContain(
      `  ${runs[1]}  WAITING  v2  takes over with the task map (cool_off=grace) → migrated`,
    );
    expect((await cli(['approve', runs[1]!, 'review', '--as', 'ops'], at())).code).toBe(0);
    const status = JSON.parse((await cli(['status', runs[1]!, '--json'], at())).stdout) as {
      status: string;
      version: number;
      tasks: Record<string, { status: string }>;
    };
    expect(status).toMatchObject({ status: 'COMPLETED', version: 3 });
    expect(Object.entries(status.tasks).map(([id, t]) => [id, t.status])).toEqual([
      ['grace', 'COMPLETED'],
      ['review', 'COMPLETED'],
      ['record', 'COMPLETED'],
    ]);
    const all = await cli(['replay', '--all'], at());
    expect([all.code, all.stdout], all.stdout).toEqual([
      0,
      expect.stringContaining('✓ every event leads to the state it recorded'),
    ]);
  }, 60_000);

  it('bad input says what to fix, and with a users file an L2 may not migrate (a dry run it may)', async () => {
    for (const [args, why] of <Array<[string[], string]>>[
      [['migrate', 'refund', '--to', 'two'], '--to two: give a version number of refund'],
      [['migrate', 'refund', '--to', '9'], 'no definition of refund@9'],
      [['migrate', 'refund', '--to', '3', '--map', 'cool_off'], '--map cool_off: write old_task=new_task'],
      [['migrate', 'refund', '--to', '3', '--map', 'cool_off=nope'], 'refund v3 has no task "nope"'],
      [['migrate', 'refund'], "required option '--to <version>'"],
    ]) {
      const r = await cli(args, at());
      expect([r.code, r.stderr.includes(why)], `${args.join(' ')}: ${r.stderr}`).toEqual([2, true]);
    }
    const started = JSON.parse((await cli(['run', 'definitions/refund.yaml', '--json'], at())).stdout).runId as string;
    expect(
      (await cli(['users', 'add', 'clerk', '--level', 'L2', '--password-stdin'], { cwd: dir, stdin: 'pw\n' })).code,
    ).toBe(0);
    const clerk = at({ LEDGERFLOW_USER: 'clerk', LEDGERFLOW_PASSWORD: 'pw' });
    const refused = await cli(['migrate', 'refund', '--to', '2'], clerk);
    expect([refused.code, refused.stderr.includes('clerk is L2 (Station OPS)')], refused.stderr).toEqual([2, true]);
    const dry = await cli(['migrate', 'refund', '--to', '2', '--dry-run', '--json'], clerk);
    expect(dry.code, dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout) as Answer).runs).toEqual([
      expect.objectContaining({ runId: started, verdict: 'as_is' }),
    ]);
  }, 60_000);
});

describe.skipIf(noNats)('migrate over NATS, from the docs', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('an engine holds a waiting run; migrated, then approved, it completes under version 2 and replays', async () => {
    const d = tempDir('lf-migrate-nats-');
    const id = `refund-${Date.now().toString(36)}`;
    const defs = docsDefinitions();
    const files = Object.entries(defs).map(([file, yaml]) => {
      const path = join(d, file.replace('definitions/', ''));
      writeFileSync(path, yaml.replace('id: refund', `id: ${id}`));
      return path;
    });
    expect((await cli(['--nats', c.url, 'deploy', files[0]!])).code).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine']));
    const run = JSON.parse((await cli(['--nats', c.url, 'start', id, '--json'])).stdout).runId as string;
    // Past its WAIT (the run is WAITING during it too): waiting for review.
    await waitFor(
      `run ${run} waiting for review`,
      async () =>
        (
          JSON.parse((await cli(['--nats', c.url, 'status', run, '--json'])).stdout) as {
            tasks: Record<string, { status: string }>;
          }
        ).tasks.review?.status === 'PENDING_APPROVAL',
      { timeout: 30_000 },
    );
    expect((await cli(['--nats', c.url, 'deploy', files[1]!])).code).toBe(0);

    const dry = await cli(['--nats', c.url, 'migrate', id, '--to', '2', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      judged: 1,
      as_is: 1,
      migrated: 0,
      runs: [{ runId: run, verdict: 'as_is' }],
    });
    const real = await cli(['--nats', c.url, 'migrate', id, '--to', '2', '--json']);
    expect(real.code, real.stderr).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ judged: 1, migrated: 1 });

    const approved = await cli(['--nats', c.url, 'approve', run, 'review', '--as', 'ops']);
    expect(approved.code, approved.stderr).toBe(0);
    const done = JSON.parse((await cli(['--nats', c.url, 'wait', run, '--timeout', '30s', '--json'])).stdout) as {
      status: string;
      version: number;
      tasks: Record<string, { status: string }>;
    };
    expect(done).toMatchObject({ status: 'COMPLETED', version: 2 });
    expect(done.tasks.record?.status).toBe('COMPLETED');
    const replay = await cli(['--nats', c.url, 'replay', run]);
    expect(
      [replay.code, replay.stdout.includes('✓ every event leads to the state it recorded')],
      replay.stdout,
    ).toEqual([0, true]);
  }, 120_000);
});

describe('POST /api/definitions/:id/migrate on ledgerflow ui (its Service driving the run)', () => {
  let ui: UiProcess | undefined;
  afterEach(async () => {
    await ui?.stop();
    ui = undefined;
  });

  it('a dry run, a real one refused without the count and taken with it; the driven run goes on under version 2', async () => {
    const dir = tempDir('lf-migrate-ui-');
    mkdirSync(join(dir, 'defs'));
    for (const [file, yaml] of Object.entries(docsDefinitions()))
      writeFileSync(join(dir, 'defs', file.replace('definitions/', '')), yaml);
    ui = await startUiProcess(['--store', join(dir, 'store')], ['--definitions', join(dir, 'defs')], { cwd: dir });
    const auth = { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${ui!.base}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Record<string, any> };
    };
    const run = async (id: string) =>
      (
        (await (await fetch(`${ui!.base}/api/runs/${id}`, { headers: auth })).json()) as {
          run: { status: string; version: number; tasks: Record<string, { status: string }> };
        }
      ).run;
    const started = await post('/api/workflows/refund/start', { input: {}, version: 1 });
    expect(started.status).toBe(200);
    const runId = started.body.runId as string;
    // Past its WAIT (the run is WAITING during it too): waiting for review.
    await waitFor(
      `run ${runId} waiting for review`,
      async () => (await run(runId)).tasks.review?.status === 'PENDING_APPROVAL',
      { timeout: 15_000 },
    );

    const dry = await post('/api/definitions/refund/migrate', { to: 2, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      workflowId: 'refund',
      to: { version: 2 },
      dryRun: true,
      judged: 1,
      as_is: 1,
      migrated: 0,
      runs: [{ runId, verdict: 'as_is', from: 1 }],
    });
    const unconfirmed = await post('/api/definitions/refund/migrate', { to: 2 });
    expect([unconfirmed.status, unconfirmed.body.error.code]).toEqual([409, 'LF_CONFIRM_MISMATCH']);
    const bad = await post('/api/definitions/refund/migrate', { to: 7, dryRun: true });
    expect([bad.status, bad.body.error.message]).toEqual([
      400,
      expect.stringContaining('to: workflow refund has no version 7'),
    ]);
    const real = await post('/api/definitions/refund/migrate', { to: 2, confirm: 1 });
    expect(real.status, JSON.stringify(real.body)).toBe(200);
    expect(real.body).toMatchObject({
      dryRun: false,
      migrated: 1,
      runs: [{ runId, verdict: 'as_is', migrated: true }],
    });

    const approved = await post(`/api/runs/${runId}/approve`, { task: 'review' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    await waitFor(`run ${runId} COMPLETED`, async () => (await run(runId)).status === 'COMPLETED', { timeout: 15_000 });
    const done = await run(runId);
    expect([done.version, done.tasks.record?.status]).toEqual([2, 'COMPLETED']);
  }, 60_000);
});
