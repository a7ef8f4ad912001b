/**
 * Schedules on NATS: three engines fire a per-second schedule, each slot
 * once; after all engines were down, catch_up latest / none / all decide
 * what the missed slots become. Time is the engines' injected clock, moved
 * by the test one slot at a time (the engines tick on real timers and read
 * it), so the test waits on conditions and never on the wall clock.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEngine } from '../../src/cluster/index.js';
import { slotStamp } from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const perSecond = def(`
workflow:
  id: tick
  version: 1
  input:
    required: [mode]
  triggers:
    - { schedule: "* * * * * *", catch_up: latest, input: { mode: latest } }
    - { schedule: "* * * * * *", catch_up: none, input: { mode: none } }
    - { schedule: "* * * * * *", catch_up: all, input: { mode: all } }
  tasks:
    - { id: note, type: SET, values: { mode: "\${workflow.input.mode}" } }
`);

const T0 = Date.parse('2026-11-23T08:00:00.000Z');
const at = (s: number) => T0 + s * 1000;
const runId = (trigger: number, s: number) => `tick-s${trigger}-${slotStamp(at(s))}`;

describe.skipIf(noNats)('schedules over NATS: three engines, one run per slot', () => {
  let now = at(0);
  const c = useCluster({ deploy: [perSecond], engine: { now: () => now, schedules: { tickMs: 20, graceMs: 0 } } });

  /** Every running engine has ticked twice at the current time: whatever it would fire, it has. */
  const settle = async (running: ClusterEngine[]) => {
    const before = running.map((e) => e.stats.scheduleTicks);
    await waitFor('every engine to tick at the new time', () =>
      running.every((e, i) => e.stats.scheduleTicks >= before[i]! + 2),
    );
  };
  const runs = async () => (await c.client.store.listRuns({ workflowId: 'tick' })).map((r) => r.runId).sort();

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) await c.addEngine();
    await settle(c.engines); // first sight at T0: nothing from the past fires
  }, 60_000);

  it('fires each slot once with three engines, and with one of them down', async () => {
    expect(await runs()).toEqual([]);
    for (let s = 1; s <= 4; s++) {
      if (s === 3) {
        await c.stopEngine(c.engines[0]!); // one engine down: the other two go on firing each slot once
      }
      now = at(s);
      await waitFor(`the runs of slot ${s}`, async () =>
        (await Promise.all([0, 1, 2].map((i) => c.client.store.lastSeq(runId(i, s))))).every((n) => n > 0),
      );
      await settle(c.engines);
    }
    expect(await runs()).toEqual([1, 2, 3, 4].flatMap((s) => [0, 1, 2].map((i) => runId(i, s))).sort());
    const view = await c.runs.wait(runId(0, 4), { timeoutMs: 10_000 });
    expect(view).toMatchObject({ status: 'COMPLETED', input: { mode: 'latest' } });
    const [started] = await c.client.store.read(runId(0, 4), { fromSeq: 1, toSeq: 1 });
    expect(started!.type === 'run.started' && started!.data.source).toEqual({
      schedule: { trigger: 0, slot: '2026-11-23T08:00:04.000Z', cron: '* * * * * *', timezone: 'UTC' },
    });
  });

  it('after every engine was down for ten slots: latest fires the most recent once, none fires nothing, all fires each', async () => {
    for (const e of [...c.engines]) await c.stopEngine(e);
    now = at(14) + 500; // slots 5 … 14 passed while nothing ran
    await c.addEngine();
    await c.addEngine();
    await waitFor('the catch-up runs', async () => (await runs()).length >= 12 + 1 + 10);
    await settle(c.engines);
    const after = new Set(await runs());
    const missed = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
    // latest: slot 14 once, standing for the nine before it.
    expect(missed.filter((s) => after.has(runId(0, s)))).toEqual([14]);
    const [started] = await c.client.store.read(runId(0, 14), { fromSeq: 1, toSeq: 1 });
    expect(started!.type === 'run.started' && started!.data.source?.schedule).toMatchObject({
      slot: new Date(at(14)).toISOString(),
      missedCount: 9,
      missed: missed.slice(0, 9).map((s) => new Date(at(s)).toISOString()),
    });
    // none: nothing; all: each, once.
    expect(missed.filter((s) => after.has(runId(1, s)))).toEqual([]);
    expect(missed.filter((s) => after.has(runId(2, s)))).toEqual(missed);
    expect(after.size).toBe(12 + 1 + 10);
    expect(c.engines.reduce((n, e) => n + e.stats.scheduled, 0)).toBe(11);
    // And on from there, each slot once again.
    now = at(15);
    await waitFor('slot 15', async () =>
      (await Promise.all([0, 1, 2].map((i) => c.client.store.lastSeq(runId(i, 15))))).every((n) => n > 0),
    );
    await settle(c.engines);
    expect((await runs()).length).toBe(12 + 11 + 3);
  });
});
