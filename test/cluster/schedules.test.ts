/**
 * Schedules on NATS: three engines fire a per-second schedule, each slot
 * once; after all engines were down, catch_up latest / none / all decide
 * what the missed slots become. Time is the engines' injected clock, moved
 * by the test one slot at a time (the engines tick on real timers and read
 * it), so the test waits on conditions and never on the wall clock.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterClient, ClusterEngine } from '../../src/cluster/index.js';
import { slotStamp } from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

const skipReason = inject('natsSkipReason');

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

describe.skipIf(!!skipReason)('schedules over NATS: three engines, one run per slot', () => {
  let server: NatsServer;
  let client: ClusterClient;
  let now = at(0);
  let engines: ClusterEngine[] = [];

  const startEngine = async () => {
    const e = new ClusterEngine({ nats: server.url, now: () => now, schedules: { tickMs: 20, graceMs: 0 } });
    await e.start();
    return e;
  };
  /** Every running engine has ticked twice at the current time: whatever it would fire, it has. */
  const settle = async (running: ClusterEngine[]) => {
    const before = running.map((e) => e.stats.scheduleTicks);
    await waitFor('every engine to tick at the new time', () => running.every((e, i) => e.stats.scheduleTicks >= before[i]! + 2));
  };
  const runs = async () => (await client.store.listRuns({ workflowId: 'tick' })).map((r) => r.runId).sort();

  beforeAll(async () => {
    server = await startNatsServer();
    client = new ClusterClient(server.url);
    await client.deploy(perSecond);
    for (let i = 0; i < 3; i++) engines.push(await startEngine());
    await settle(engines); // first sight at T0: nothing from the past fires
  }, 60_000);

  afterAll(async () => {
    for (const e of engines) await e.stop();
    await client?.close();
    await server?.dispose();
  });

  it('fires each slot once with three engines, and with one of them down', async () => {
    expect(await runs()).toEqual([]);
    for (let s = 1; s <= 4; s++) {
      if (s === 3) {
        await engines[0]!.stop(); // one engine down: the other two go on firing each slot once
        engines = engines.slice(1);
      }
      now = at(s);
      await waitFor(`the runs of slot ${s}`, async () => (await Promise.all([0, 1, 2].map((i) => client.store.lastSeq(runId(i, s))))).every((n) => n > 0));
      await settle(engines);
    }
    expect(await runs()).toEqual([1, 2, 3, 4].flatMap((s) => [0, 1, 2].map((i) => runId(i, s))).sort());
    const view = await client.wait(runId(0, 4), { timeoutMs: 10_000 });
    expect(view).toMatchObject({ status: 'COMPLETED', input: { mode: 'latest' } });
    const [started] = await client.store.read(runId(0, 4), { fromSeq: 1, toSeq: 1 });
    expect(started!.type === 'run.started' && started!.data.source).toEqual({ schedule: { trigger: 0, slot: '2026-11-23T08:00:04.000Z', cron: '* * * * * *', timezone: 'UTC' } });
  });

  it('after every engine was down for ten slots: latest fires the most recent once, none fires nothing, all fires each', async () => {
    for (const e of engines) await e.stop();
    engines = [];
    now = at(14) + 500; // slots 5 … 14 passed while nothing ran
    engines.push(await startEngine(), await startEngine());
    await waitFor('the catch-up runs', async () => (await runs()).length >= 12 + 1 + 10);
    await settle(engines);
    const after = new Set(await runs());
    const missed = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
    // latest: slot 14 once, standing for the nine before it.
    expect(missed.filter((s) => after.has(runId(0, s)))).toEqual([14]);
    const [started] = await client.store.read(runId(0, 14), { fromSeq: 1, toSeq: 1 });
    expect(started!.type === 'run.started' && started!.data.source?.schedule).toMatchObject({ slot: new Date(at(14)).toISOString(), missedCount: 9, missed: missed.slice(0, 9).map((s) => new Date(at(s)).toISOString()) });
    // none: nothing; all: each, once.
    expect(missed.filter((s) => after.has(runId(1, s)))).toEqual([]);
    expect(missed.filter((s) => after.has(runId(2, s)))).toEqual(missed);
    expect(after.size).toBe(12 + 1 + 10);
    expect(engines.reduce((n, e) => n + e.stats.scheduled, 0)).toBe(11);
    // And on from there, each slot once again.
    now = at(15);
    await waitFor('slot 15', async () => (await Promise.all([0, 1, 2].map((i) => client.store.lastSeq(runId(i, 15))))).every((n) => n > 0));
    await settle(engines);
    expect((await runs()).length).toBe(12 + 11 + 3);
  });
});
