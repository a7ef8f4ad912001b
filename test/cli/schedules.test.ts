import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { Engine } from '../../src/local/index.js';
import { openStore } from '../../src/store/index.js';
import { engineStarter, FileScheduleCursor, scheduleCursorFile, Scheduler } from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { cli, tempDir } from '../helpers/cli.js';

const DAILY = `
workflow:
  id: daily_ops
  input:
    required: [dept]
  triggers:
    - { schedule: "0 9 * * *", timezone: Europe/Berlin, catch_up: all, input: { dept: ops } }
    - { event: ops_requested, input: { dept: "\${event.data.dept}" } }
    - { cron: "@hourly", input: { dept: hourly } }
  tasks:
    - { id: note, type: SET, values: { dept: "\${workflow.input.dept}" } }
`;

function place(): { cwd: string; store: string; defs: string } {
  const cwd = tempDir('lf-sched-cli-');
  const defs = join(cwd, 'definitions');
  mkdirSync(defs);
  writeFileSync(join(defs, 'daily_ops.yaml'), DAILY);
  return { cwd, store: join(cwd, 'store'), defs };
}

describe('ledgerflow schedules (embedded store)', () => {
  it('lists each schedule trigger with its next fire times in UTC and in its zone, never fired yet', async () => {
    const p = place();
    const r = await cli(['--store', p.store, 'schedules', '--json', '--count', '2', '--definitions', p.defs], {
      cwd: p.cwd,
    });
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(
      rows.map((x: { workflowId: string; trigger: number; catchUp: string }) => [x.workflowId, x.trigger, x.catchUp]),
    ).toEqual([
      ['daily_ops', 0, 'all'],
      ['daily_ops', 2, 'latest'],
    ]);
    expect(rows[0].next).toHaveLength(2);
    for (const n of rows[0].next) {
      expect(Date.parse(n.utc)).toBeGreaterThan(Date.now() - 60_000);
      expect(n.local).toMatch(/^\d{4}-\d\d-\d\d 09:00:00 Europe\/Berlin \(\+0[12]:00\)$/);
    }
    expect(rows[0]).toMatchObject({ last: null, through: null });
    const text = await cli(['--store', p.store, 'schedules', '--definitions', p.defs], { cwd: p.cwd });
    expect(text.stdout).toContain('daily_ops triggers[0]  0 9 * * *  Europe/Berlin  catch_up all');
    expect(text.stdout).toContain('last  never fired (no serve or engine has seen it yet)');
  });

  it('shows the last slot fired and its run; status, list and history name the slot that started the run', async () => {
    const p = place();
    const store = openStore({ dir: p.store, nats: false });
    const d = def(DAILY);
    const scheduler = new Scheduler({
      cursor: new FileScheduleCursor(scheduleCursorFile(p.store)),
      definitions: () => [d],
      start: engineStarter(new Engine({ store })),
      graceMs: 0,
    });
    const T0 = Date.parse('2026-11-22T07:59:00Z');
    await scheduler.fireDue(T0);
    const fired = await scheduler.fireDue(Date.parse('2026-11-22T08:00:30Z'));
    expect(fired.fired.map((f) => f.runId)).toEqual(['daily_ops-s0-20261122T080000Z', 'daily_ops-s2-20261122T080000Z']); // 09:00 Berlin and @hourly (UTC)
    await store.close();

    const rows = JSON.parse(
      (await cli(['--store', p.store, 'schedules', '--json', '--definitions', p.defs], { cwd: p.cwd })).stdout,
    );
    expect(rows[0].last).toEqual({
      slot: '2026-11-22T08:00:00.000Z',
      runId: 'daily_ops-s0-20261122T080000Z',
      status: 'COMPLETED',
    }); // a SET-only run settles as it starts
    const runId = 'daily_ops-s0-20261122T080000Z';
    expect((await cli(['--store', p.store, 'status', runId], { cwd: p.cwd })).stdout).toContain(
      'started by schedule triggers[0] (0 9 * * * Europe/Berlin) for slot 2026-11-22T08:00:00.000Z',
    );
    expect((await cli(['--store', p.store, 'list'], { cwd: p.cwd })).stdout).toContain(
      '(schedule triggers[0] slot 2026-11-22T08:00:00.000Z)',
    );
    // The two slots fire side by side: which run.started came first (list's order) is not fixed, so compare them by trigger.
    const schedules = JSON.parse((await cli(['--store', p.store, 'list', '--json'], { cwd: p.cwd })).stdout).map(
      (r: { schedule: { trigger: number; slot: string } }) => r.schedule,
    );
    expect(schedules.sort((a: { trigger: number }, b: { trigger: number }) => a.trigger - b.trigger)).toEqual([
      { trigger: 0, slot: '2026-11-22T08:00:00.000Z' },
      { trigger: 2, slot: '2026-11-22T08:00:00.000Z' },
    ]);
    expect((await cli(['--store', p.store, 'history', runId], { cwd: p.cwd })).stdout).toContain(
      'input {"dept":"ops"}  (schedule triggers[0] slot 2026-11-22T08:00:00.000Z)',
    );
  });

  it('refuses a bad --count', async () => {
    const p = place();
    const r = await cli(['--store', p.store, 'schedules', '--count', '0', '--definitions', p.defs], { cwd: p.cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--count 0 must be a whole number of at least 1');
  });
});

// The test run's nats-server.
const nats = useCluster({ server: 'shared' });
describe.skipIf(noNats)('ledgerflow schedules --nats', () => {
  it('lists the schedules of the deployed definitions', async () => {
    const id = `sched_cli_${Date.now()}`;
    await nats.client.deploy(def(DAILY.replace('id: daily_ops', `id: ${id}`)));
    const r = await cli(['--nats', nats.url, 'schedules', '--json', '--count', '1'], {
      cwd: tempDir('lf-sched-nats-'),
    });
    expect(r.code, r.stderr).toBe(0);
    const mine = JSON.parse(r.stdout).filter((x: { workflowId: string }) => x.workflowId === id);
    expect(mine.map((x: { trigger: number; next: unknown[] }) => [x.trigger, x.next.length])).toEqual([
      [0, 1],
      [2, 1],
    ]);
  });
});
