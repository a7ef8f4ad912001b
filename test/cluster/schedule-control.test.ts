/**
 * Schedule control on NATS (docs/operations.md#schedules): a pause is held in
 * KV LF_SCHEDULES, so it survives killing the engine and starting another;
 * resume fires the next slot (catch_up none: not the paused ones); trigger
 * starts exactly one run, recorded as a manual slot; backfill over an hour
 * of a `*\/15 * * * *` schedule starts 4 runs and a second one none; a new
 * version without the schedule stops it. Time is the engines' injected
 * clock, moved by the test; the test waits on conditions, never on the wall.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterEngine } from '../../src/cluster/index.js';
import { slotStamp } from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { cli, tempDir } from '../helpers/cli.js';

const yaml = (version: number, schedule: boolean) => `
workflow:
  id: quarter
  version: ${version}
  triggers:
${schedule ? '    - { schedule: "*/15 * * * *", catch_up: none }' : '    - { event: quarter_asked }'}
  tasks:
    - { id: note, type: SET, values: { ok: true } }
`;

const T0 = Date.parse('2026-11-23T08:00:00.000Z');
const at = (min: number) => T0 + min * 60_000;
const slotRun = (min: number) => `quarter-s0-${slotStamp(at(min))}`;

describe.skipIf(noNats)('schedule control over NATS', () => {
  let now = at(0) - 1000;
  const c = useCluster({
    deploy: [def(yaml(1, true))],
    engine: { now: () => now, schedules: { tickMs: 20, graceMs: 0 } },
  });
  const settle = async (running: ClusterEngine[]) => {
    const before = running.map((e) => e.stats.scheduleTicks);
    await waitFor('every engine to tick at the new time', () =>
      running.every((e, i) => e.stats.scheduleTicks >= before[i]! + 2),
    );
  };
  const runs = async () => (await c.client.store.listRuns({ workflowId: 'quarter' })).map((r) => r.runId).sort();

  it('a pause survives killing the engine and starting another; resume fires the next slot, not the paused ones (catch_up none)', async () => {
    await c.addEngine();
    await settle(c.engines); // first sight: the schedule fires from here on
    now = at(0);
    await waitFor('slot 08:00', async () => (await c.client.store.lastSeq(slotRun(0))) > 0);

    const paused = await c.client.schedules({
      action: 'pause',
      workflowId: 'quarter',
      reason: 'db migration',
      by: 'alice',
    });
    expect(paused.schedules).toEqual([
      {
        workflowId: 'quarter',
        trigger: 0,
        paused: { at: expect.any(String), by: 'alice', reason: 'db migration' },
        changed: true,
      },
    ]);
    now = at(15);
    await settle(c.engines);
    await c.stopEngine(c.engines[0]!);
    await c.addEngine();
    now = at(30);
    await settle(c.engines);
    expect(await runs()).toEqual([slotRun(0)]);
    // Resumed a minute after 08:30, as a person would be: with the clock stopped on 08:30:00.000, a tick between the
    // resume and the next move of the clock saw 08:30 as due now, not as a slot in the pause (seen once in a fresh clone).
    now = at(31);
    await settle(c.engines);

    await c.client.schedules({ action: 'resume', workflowId: 'quarter' });
    now = at(45);
    await waitFor('the next slot after the resume', async () => (await c.client.store.lastSeq(slotRun(45))) > 0);
    await settle(c.engines);
    expect(await runs()).toEqual([slotRun(0), slotRun(45)]); // 08:15 and 08:30 fell in the pause: catch_up none fires neither
  });

  it('trigger starts exactly one run, recorded as a manual slot', async () => {
    const before = await runs();
    const r = await c.client.schedules({ action: 'trigger', workflowId: 'quarter' });
    expect(r.queued).toHaveLength(1);
    const id = r.queued![0]!.runId;
    expect(id).toMatch(/^quarter-s0-m\d{8}T\d{6}Z\d{3}$/);
    await waitFor('the triggered run', async () => (await c.client.store.lastSeq(id)) > 0);
    await settle(c.engines);
    expect((await runs()).filter((x) => !before.includes(x))).toEqual([id]);
    const [started] = await c.client.store.read(id, { fromSeq: 1, toSeq: 1 });
    expect(started!.type === 'run.started' && started!.data.source?.schedule).toEqual({
      trigger: 0,
      slot: r.queued![0]!.slot,
      cron: '*/15 * * * *',
      timezone: 'UTC',
      manual: true,
    });
  });

  it('backfill over an hour starts 4 runs; a second backfill starts none', async () => {
    const from = new Date(Date.parse('2026-11-22T00:00:00Z')).getTime();
    const to = from + 3600_000;
    const first = await c.client.schedules({ action: 'backfill', workflowId: 'quarter', from, to });
    expect(first.queued!.map((q) => q.runId)).toEqual(
      ['000000', '001500', '003000', '004500'].map((t) => `quarter-s0-20261122T${t}Z`),
    );
    await waitFor('the backfilled runs', async () =>
      (await Promise.all(first.queued!.map((q) => c.client.store.lastSeq(q.runId)))).every((n) => n > 0),
    );
    await settle(c.engines);
    const second = await c.client.schedules({ action: 'backfill', workflowId: 'quarter', from, to });
    expect(second).toMatchObject({ queued: [], existing: 4 });
  });

  it("the CLI over NATS: pause shows in `schedules`, backfill --json is the embedded store's shape, an unknown workflow is exit 2", async () => {
    const cwd = tempDir('lf-sched-ctl-nats-');
    const paused = await cli(['--nats', c.url, 'schedules', 'pause', 'quarter', '--reason', 'month end'], {
      cwd,
      env: { LEDGERFLOW_USER: 'carol' },
    });
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain('schedule quarter triggers[0]: paused since');
    const rows = JSON.parse((await cli(['--nats', c.url, 'schedules', '--json'], { cwd })).stdout);
    expect(rows.find((r: { workflowId: string }) => r.workflowId === 'quarter').paused).toEqual({
      at: expect.any(String),
      by: 'carol',
      reason: 'month end',
    });
    expect((await cli(['--nats', c.url, 'schedules', 'resume', 'quarter'], { cwd })).code).toBe(0);
    const range = ['--from', '2026-11-21T00:00:00Z', '--to', '2026-11-21T00:30:00Z'];
    const first = JSON.parse(
      (await cli(['--nats', c.url, 'schedules', 'backfill', 'quarter', ...range, '--json'], { cwd })).stdout,
    );
    expect(first).toEqual({
      action: 'backfill',
      workflowId: 'quarter',
      queued: [
        expect.objectContaining({ runId: 'quarter-s0-20261121T000000Z' }),
        expect.objectContaining({ runId: 'quarter-s0-20261121T001500Z' }),
      ],
      existing: 0,
      ahead: 0,
      started: 2,
    });
    const again = JSON.parse(
      (await cli(['--nats', c.url, 'schedules', 'backfill', 'quarter', ...range, '--json'], { cwd })).stdout,
    );
    expect(again).toEqual({ action: 'backfill', workflowId: 'quarter', queued: [], existing: 2, ahead: 0, started: 0 });
    const unknown = await cli(['--nats', c.url, 'schedules', 'trigger', 'nope'], { cwd });
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no workflow "nope"')]);
  }, 60_000);

  it('a new version without the schedule stops it', async () => {
    await c.client.deploy(def(yaml(2, false)));
    // The loop reads the deployed definitions every 5 s (wall time): let it, with the clock held, before moving past slots.
    const ticks = c.engines[0]!.stats.scheduleTicks;
    await waitFor('the schedule loop to re-read the registry', () => c.engines[0]!.stats.scheduleTicks > ticks + 300, {
      timeout: 30_000,
    });
    now = at(90);
    await settle(c.engines);
    expect((await runs()).filter((x) => x.startsWith('quarter-s0-20261123T') && x > slotRun(45))).toEqual([]);
    await expect(c.client.schedules({ action: 'pause', workflowId: 'quarter' })).rejects.toThrow(/no schedule trigger/);
  });
});
