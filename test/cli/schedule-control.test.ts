/**
 * docs/operations.md#schedules on the embedded store, as a user does it:
 * a pause survives a `serve` restart (no slot fires while paused) and resume
 * fires the next slot, not the paused ones (catch_up: none); trigger starts
 * exactly one run, a manual slot; backfill over an hour of `*\/15 * * * *`
 * starts 4 runs and a second one none; an unknown workflow or a bad flag is
 * exit 2 naming it; with a users file these need L1. serve fires on the real
 * clock: the test waits on a per-second schedule beside the paused one (its
 * runs say serve is ticking), never on a sleep.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { openStore } from '../../src/store/index.js';

const flow = (id: string, cron: string) => `
workflow:
  id: ${id}
  triggers:
    - { schedule: "${cron}", catch_up: none }
  tasks:
    - { id: note, type: SET, values: { ok: true } }
`;

function place() {
  const cwd = tempDir('lf-sched-control-');
  const defs = join(cwd, 'definitions');
  mkdirSync(defs);
  writeFileSync(join(defs, 'beat.yaml'), flow('beat', '* * * * * *'));
  writeFileSync(join(defs, 'nightly.yaml'), flow('nightly', '* * * * * *'));
  writeFileSync(join(defs, 'quarter.yaml'), flow('quarter', '*/15 * * * *'));
  return { cwd, store: join(cwd, 'store'), defs };
}

describe('schedule control on the embedded store', () => {
  it('a pause survives a serve restart; resume fires the next slot, not the paused ones', async () => {
    const p = place();
    const paused = await cli(['--store', p.store, 'schedules', 'pause', 'nightly', '--reason', 'ledger migration'], {
      cwd: p.cwd,
      env: { LEDGERFLOW_USER: 'alice' },
    });
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^schedule nightly triggers\[0\]: paused since \S+ by alice \(ledger migration\)\n$/);

    const store = openStore({ dir: p.store, nats: false });
    const runsOf = async (wf: string) => (await store.listRuns({ workflowId: wf })).map((r) => r.runId).sort();
    const serveFor = async (beats: number) => {
      const child = spawnCli(['--store', p.store, 'serve', '--definitions', p.defs], { cwd: p.cwd });
      let err = '';
      child.stderr!.on('data', (d) => {
        err += d;
      });
      const before = (await runsOf('beat')).length;
      try {
        await waitFor(`${beats} beats`, async () => (await runsOf('beat')).length >= before + beats, {
          timeout: 30_000,
          detail: () => err,
        });
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('close', r));
      }
    };
    try {
      await serveFor(2);
      await serveFor(2); // a second serve: the pause is in <store>/schedules.json
      expect(await runsOf('nightly')).toEqual([]);
      const shown = JSON.parse((await cli(['--store', p.store, 'schedules', '--json'], { cwd: p.cwd })).stdout);
      expect(shown.find((r: { workflowId: string }) => r.workflowId === 'nightly').paused).toEqual({
        at: expect.any(String),
        by: 'alice',
        reason: 'ledger migration',
      });

      const resumedAt = Date.now();
      const resumed = await cli(['--store', p.store, 'schedules', 'resume', 'nightly', '--json'], { cwd: p.cwd });
      expect(JSON.parse(resumed.stdout)).toEqual({
        action: 'resume',
        workflowId: 'nightly',
        schedules: [{ workflowId: 'nightly', trigger: 0, paused: null, changed: true }],
      });
      const child = spawnCli(['--store', p.store, 'serve', '--definitions', p.defs], { cwd: p.cwd });
      try {
        await waitFor('a slot of nightly after the resume', async () => (await runsOf('nightly')).length > 0, {
          timeout: 30_000,
        });
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('close', r));
      }
      // Every run of nightly is a slot after the resume: the seconds of the pause were missed, and catch_up none fires none.
      for (const id of await runsOf('nightly')) {
        const [started] = await store.read(id, { fromSeq: 1, toSeq: 1 });
        const slot = started!.type === 'run.started' ? started!.data.source?.schedule?.slot : undefined;
        expect(Date.parse(slot!)).toBeGreaterThan(resumedAt);
      }
    } finally {
      await store.close();
    }
  }, 120_000);

  it('trigger starts exactly one run, a manual slot; backfill over an hour starts 4 runs, and a second one none', async () => {
    const p = place();
    const t = await cli(['--store', p.store, 'schedules', 'trigger', 'quarter', '--json'], { cwd: p.cwd });
    expect(t.code, t.stderr).toBe(0);
    const trig = JSON.parse(t.stdout);
    expect(trig).toMatchObject({ action: 'trigger', workflowId: 'quarter', started: 1 });
    expect(trig.queued).toHaveLength(1);
    expect(trig.queued[0]).toMatchObject({
      trigger: 0,
      manual: true,
      runId: expect.stringMatching(/^quarter-s0-m\d{8}T\d{6}Z\d{3}$/),
    });
    const status = await cli(['--store', p.store, 'status', trig.queued[0].runId], { cwd: p.cwd });
    expect(status.stdout).toContain(
      `started by schedule triggers[0] (*/15 * * * * UTC) for a manual slot (schedules trigger) at ${trig.queued[0].slot}`,
    );

    const range = ['--from', '2026-11-25T00:00:00Z', '--to', '2026-11-25T01:00:00Z'];
    const first = await cli(['--store', p.store, 'schedules', 'backfill', 'quarter', ...range], { cwd: p.cwd });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('backfill quarter: 4 runs started; 0 slots had a run already\n');
    const second = JSON.parse(
      (await cli(['--store', p.store, 'schedules', 'backfill', 'quarter', ...range, '--json'], { cwd: p.cwd })).stdout,
    );
    expect(second).toEqual({
      action: 'backfill',
      workflowId: 'quarter',
      queued: [],
      existing: 4,
      ahead: 0,
      started: 0,
    });
    const list = JSON.parse(
      (await cli(['--store', p.store, 'list', '--json', '--workflow', 'quarter'], { cwd: p.cwd })).stdout,
    );
    expect(list.map((r: { runId: string }) => r.runId).sort()).toEqual(
      [
        ...['000000', '001500', '003000', '004500'].map((x) => `quarter-s0-20261125T${x}Z`),
        trig.queued[0].runId,
      ].sort(),
    );
  }, 60_000);

  it("backfilled runs queue behind the workflow's concurrency limit as any start does", async () => {
    const p = place();
    writeFileSync(
      join(p.defs, 'held.yaml'),
      'workflow:\n  id: held\n  concurrency: { limit: 1 }\n  triggers:\n    - { schedule: "*/15 * * * *" }\n  tasks:\n    - { id: review, type: HUMAN }\n',
    );
    const r = await cli(
      [
        '--store',
        p.store,
        'schedules',
        'backfill',
        'held',
        '--from',
        '2026-11-25T00:00:00Z',
        '--to',
        '2026-11-25T01:00:00Z',
        '--json',
      ],
      { cwd: p.cwd },
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ existing: 0, started: 4 });
    const list = JSON.parse(
      (await cli(['--store', p.store, 'list', '--json', '--workflow', 'held'], { cwd: p.cwd })).stdout,
    );
    expect(list.map((x: { status: string }) => x.status).sort()).toEqual(['QUEUED', 'QUEUED', 'QUEUED', 'WAITING']);
  }, 60_000);

  it('an unknown workflow, a bad flag or a level below L1 is exit 2 naming it', async () => {
    const p = place();
    const unknown = await cli(['--store', p.store, 'schedules', 'pause', 'nope'], { cwd: p.cwd });
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no workflow "nope"')]);
    const badTime = await cli(
      ['--store', p.store, 'schedules', 'backfill', 'quarter', '--from', 'yesterday', '--to', '2026-11-25T01:00:00Z'],
      { cwd: p.cwd },
    );
    expect([badTime.code, badTime.stderr]).toEqual([2, expect.stringContaining('--from "yesterday" is not a time')]);
    const badTrigger = await cli(['--store', p.store, 'schedules', 'trigger', 'quarter', '--trigger', '3'], {
      cwd: p.cwd,
    });
    expect([badTrigger.code, badTrigger.stderr]).toEqual([2, expect.stringContaining('--trigger 3')]);
    const noTo = await cli(['--store', p.store, 'schedules', 'backfill', 'quarter', '--from', '2026-11-25T00:00:00Z'], {
      cwd: p.cwd,
    });
    expect([noTo.code, noTo.stderr]).toEqual([2, expect.stringContaining('--to')]);

    for (const [name, level] of [
      ['bob', 'L1'],
      ['ops-east', 'L2'],
    ] as const) {
      const r = await cli(
        [
          'users',
          'add',
          name,
          '--level',
          level,
          ...(level === 'L2' ? ['--domains', 'inventory'] : []),
          '--password-stdin',
        ],
        { cwd: p.cwd, stdin: `${name}-pw\n` },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const as = (user: string) => ({ cwd: p.cwd, env: { LEDGERFLOW_USER: user, LEDGERFLOW_PASSWORD: `${user}-pw` } });
    const refused = await cli(['--store', p.store, 'schedules', 'pause', 'quarter'], as('ops-east'));
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining('ops-east is L2 (Station OPS)')]);
    const allowed = await cli(['--store', p.store, 'schedules', 'pause', 'quarter'], as('bob'));
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('by bob');
  }, 60_000);
});
