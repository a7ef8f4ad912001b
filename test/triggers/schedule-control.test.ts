/**
 * Schedule control's core on a controlled clock (docs/operations.md#schedules):
 * a schedules.json written before the new fields still loads and fires; a
 * pause holds across a new Scheduler over the same file (a serve restart);
 * on resume catch_up decides the paused slots (latest: one run naming the
 * others); a queued slot starts while paused; a version without the
 * schedule stops it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  controlSchedules,
  runIdForManual,
  FileScheduleCursor,
  MemoryScheduleCursor,
  scheduleCursorFile,
  Scheduler,
  slotStamp,
  type ScheduledStart,
} from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { tempDir } from '../helpers/cli.js';

const flow = (catchUp: string, version = 1, schedule = true) =>
  def(`
workflow:
  id: hourly
  version: ${version}
  triggers:
${schedule ? `    - { schedule: "0 * * * *", catch_up: ${catchUp} }` : '    - { event: hourly_asked }'}
  tasks:
    - { id: note, type: SET, values: { ok: true } }
`);
const T0 = Date.parse('2026-11-23T08:00:00.000Z');
const h = (n: number) => T0 + n * 3600_000;

function firer(
  cursor: FileScheduleCursor | MemoryScheduleCursor,
  defs: () => ReturnType<typeof flow>[],
  started: ScheduledStart[],
) {
  const ids = new Set<string>();
  return new Scheduler({
    cursor,
    definitions: defs,
    graceMs: 0,
    start: async (s) => {
      const duplicate = ids.has(s.runId);
      ids.add(s.runId);
      if (!duplicate) started.push(s);
      return { duplicate };
    },
  });
}

describe('schedule control', () => {
  it('a manual run id fits the run id bound however long the workflow id', () => {
    const at = Date.parse('2026-11-23T10:15:02.123Z');
    expect(runIdForManual('daily_ops', 0, at)).toBe('daily_ops-s0-m20261123T101502Z123');
    const long = runIdForManual('w'.repeat(127), 0, at);
    expect(long.length).toBeLessThanOrEqual(128);
    expect(long).toMatch(/-[0-9a-f]{12}-s0-m20261123T101502Z123$/);
  });

  it('a cursor written before pause existed loads and fires; a pause holds across a new Scheduler over the file', async () => {
    const dir = tempDir('lf-sched-ctl-');
    mkdirSync(dir, { recursive: true });
    // The previous version's file: no paused, queued or resumedAt.
    writeFileSync(
      scheduleCursorFile(dir),
      JSON.stringify({
        version: 1,
        revision: 3,
        schedules: {
          'hourly.0': {
            revision: 3,
            entry: { cron: '0 * * * *', timezone: 'UTC', through: new Date(h(0)).toISOString() },
          },
        },
      }),
    );
    const d = flow('latest');
    const started: ScheduledStart[] = [];
    await firer(new FileScheduleCursor(scheduleCursorFile(dir)), () => [d], started).fireDue(h(1));
    expect(started.map((s) => s.runId)).toEqual([`hourly-s0-${slotStamp(h(1))}`]);

    const cursor = new FileScheduleCursor(scheduleCursorFile(dir));
    await controlSchedules(
      { cursor, definitions: [d], hasRun: async () => false, now: () => h(1) + 60_000 },
      { action: 'pause', workflowId: 'hourly', by: 'alice' },
    );
    await firer(new FileScheduleCursor(scheduleCursorFile(dir)), () => [d], started).fireDue(h(2));
    await firer(new FileScheduleCursor(scheduleCursorFile(dir)), () => [d], started).fireDue(h(4)); // "restarted"
    expect(started).toHaveLength(1);

    await controlSchedules(
      { cursor, definitions: [d], hasRun: async () => false, now: () => h(4) + 60_000 },
      { action: 'resume', workflowId: 'hourly' },
    );
    await firer(new FileScheduleCursor(scheduleCursorFile(dir)), () => [d], started).fireDue(h(4) + 120_000);
    // catch_up latest: the newest paused slot once, naming the others.
    expect(started.slice(1).map((s) => [s.runId, s.schedule.missedCount])).toEqual([
      [`hourly-s0-${slotStamp(h(4))}`, 2],
    ]);
  });

  it('catch_up none: resume fires the next slot only; a trigger starts one manual run even while paused', async () => {
    const cursor = new MemoryScheduleCursor();
    const d = flow('none');
    const started: ScheduledStart[] = [];
    const s = firer(cursor, () => [d], started);
    await s.fireDue(h(0) - 1);
    const o = { cursor, definitions: [d], hasRun: async () => false };
    await controlSchedules({ ...o, now: () => h(0) }, { action: 'pause', workflowId: 'hourly' });
    const t = await controlSchedules({ ...o, now: () => h(0) + 5000 }, { action: 'trigger', workflowId: 'hourly' });
    await s.fireDue(h(3));
    expect(started.map((x) => [x.runId, x.schedule.manual])).toEqual([[t.queued![0]!.runId, true]]);
    await controlSchedules({ ...o, now: () => h(3) + 1 }, { action: 'resume', workflowId: 'hourly' });
    await s.fireDue(h(3) + 2);
    expect(started).toHaveLength(1);
    await s.fireDue(h(4));
    expect(started.slice(1).map((x) => x.runId)).toEqual([`hourly-s0-${slotStamp(h(4))}`]);
  });

  it('a version without the schedule stops it, and its actions are refused', async () => {
    const cursor = new MemoryScheduleCursor();
    let defs = [flow('all')];
    const started: ScheduledStart[] = [];
    const s = firer(cursor, () => defs, started);
    await s.fireDue(h(0) - 1);
    await s.fireDue(h(0));
    defs = [flow('all', 2, false)];
    await s.fireDue(h(5));
    expect(started.map((x) => x.runId)).toEqual([`hourly-s0-${slotStamp(h(0))}`]);
    await expect(
      controlSchedules(
        { cursor, definitions: defs, hasRun: async () => false },
        { action: 'trigger', workflowId: 'hourly' },
      ),
    ).rejects.toThrow('workflow "hourly" has no schedule trigger (in version 2)');
  });
});
