/**
 * The archive's promise on NATS under kill -9 (docs/retention.md#what-a-crash-does): settled runs on a real
 * nats-server, `ledgerflow archive` and `restore` processes SIGKILLed at random points, and after each the next call's
 * recovery: every run is then either on the stream (LF_EVENTS) or in the archive (KV LF_ARCHIVE_INDEX), never both
 * nor neither, reads exactly as before, and `archive list` (its summary) counts what the full pass over the keys and
 * objects counts. Seeded, so a failure repeats.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { Engine } from '../../src/local/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';
import { cli } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { INVOICE_YAML } from './docs-scenario.js';
import { natsFullPass } from './full-pass.js';
import { killed, prng } from './kills.js';

const RUNS = 120;
const ROUNDS = 8;

const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

describe.skipIf(noNats)('archive and restore killed with SIGKILL at random points (NATS)', () => {
  const c = useCluster();

  it(`${RUNS} runs: after every kill and recovery, each run is on the stream or archived, never both nor neither`, async () => {
    const { definition } = parseDefinition(INVOICE_YAML.replace('id: invoice', 'id: chaos'), 'chaos.yaml');
    const setup = new JetStreamEventStore({ servers: c.url });
    const engine = new Engine({ store: setup });
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) runIds.push((await engine.run(definition!, { amount: i }, { handlers: {} })).runId);
    const before = new Map<string, string>();
    for (const id of runIds) before.set(id, JSON.stringify(await setup.read(id)));
    await setup.close();

    const random = prng(64);
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 3 === 2) {
        // Work for the archive again: most archived runs restored (uninterrupted), one restore killed at random.
        const store = new JetStreamEventStore({ servers: c.url });
        const archived = [];
        for (const id of runIds) if (await store.archive().find(id)) archived.push(id);
        for (const id of archived.slice(0, Math.floor(archived.length * 0.7))) await store.archive().restore(id);
        await store.close();
        const last = archived.at(-1);
        if (last) outcomes.push(`restore ${await killed(procs, ['--nats', c.url, 'restore', last], random() * 300)}`);
      }
      // Killed right after a random batch's progress line (as the next batch moves), a random moment into it: within
      // 30 ms, less than a batch of 10 moves takes (3-7 ms each), so the kill lands however fast the machine is (at
      // up to 150 ms, a quiet machine finished first in half the rounds).
      const probe = new JetStreamEventStore({ servers: c.url });
      const liveNow = (await probe.listRuns({ workflowId: 'chaos' })).length;
      await probe.close();
      const batches = 1 + Math.floor(random() * Math.max(1, Math.ceil(liveNow / 10) - 1));
      const at = Math.floor(random() * 30);
      const args = ['--nats', c.url, 'archive', '--older-than', '0s', '--workflow', 'chaos', '--batch', '10'];
      outcomes.push(`archive ${await killed(procs, args, at, batches)} ${at} ms after batch ${batches}`);

      // Recovery, as the next call does it; then each run in exactly one place, reading as before.
      const store = new JetStreamEventStore({ servers: c.url });
      await store.archive().recover();
      const live = new Set((await store.listRuns({ workflowId: 'chaos' })).map((r) => r.runId));
      for (const id of runIds) {
        const archived = (await store.archive().find(id)) !== null;
        expect(live.has(id) !== archived, `round ${round} (${outcomes.join(', ')}): run ${id}`).toBe(true);
        expect(JSON.stringify(await store.read(id)), `round ${round}: run ${id} reads as before`).toBe(before.get(id));
      }
      expect(await store.archive().periods(), `round ${round} (${outcomes.at(-1)}): archive list`).toEqual(
        await natsFullPass(await store.connection()),
      );
      await store.close();
    }
    const done = await cli(['--nats', c.url, 'archive', '--older-than', '0s', '--workflow', 'chaos']);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse((await cli(['--nats', c.url, 'list', '--workflow', 'chaos', '--json'])).stdout)).toEqual([]);
    const store = new JetStreamEventStore({ servers: c.url });
    for (const id of runIds) expect(JSON.stringify(await store.read(id))).toBe(before.get(id));
    const periods = await store.archive().periods();
    expect(periods).toEqual(await natsFullPass(await store.connection()));
    expect(periods.reduce((n, p) => n + p.runs, 0)).toBe(RUNS);
    await store.close();
    expect(outcomes.filter((o) => o.includes('killed')).length, outcomes.join('\n')).toBeGreaterThanOrEqual(ROUNDS / 2);
  }, 400_000);
});
