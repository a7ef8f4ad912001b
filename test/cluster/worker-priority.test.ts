/**
 * Priority for attempts waiting for a worker on NATS (docs/nats.md#priority-attempts-waiting-for-a-worker,
 * docs/limits.md#concurrency-limits-and-priority): a worker of concurrency 1 kept busy, runs started
 * with `start --priority` (the CLI, and the client's `priority`) queue for it; once it is free it takes every
 * higher-priority attempt before any lower one, equal priority in arrival order, runs without a
 * priority in between, as before. Two engines, the production nats.conf (the worker user), real
 * nats-server; with offers on (the default) and off.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { taskStream } from '../../src/cluster/index.js';
import type { Handlers } from '../../src/runtime/index.js';
import { cli, ROOT } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { gate, waitFor } from '../helpers/wait.js';

const report = def(`
workflow:
  id: priority-report
  version: 1
  input:
    required: [label]
  tasks:
    - id: report
      type: SIMPLE
      input: { label: "\${workflow.input.label}" }
`);

/** The handler: the blocker holds the worker's one slot until `release` opens; every call is noted in order. */
function reporter(ran: string[], release: Promise<void>, blocking: () => void): Handlers {
  return {
    report: async (input: Record<string, unknown>) => {
      const label = String(input.label);
      ran.push(label);
      if (label === 'blocker') {
        blocking();
        await release;
      }
      return { label };
    },
  };
}

/** Attempts stored in the queue's stream per subject (waiting or running: a work queue keeps them until acked). */
async function queued(jsm: JetStreamManager): Promise<Record<string, number>> {
  const info = await jsm.streams
    .info(taskStream('default').name, { subjects_filter: 'lf.q.default.report.>' })
    .catch(() => null);
  const plain = await jsm.streams
    .info(taskStream('default').name, { subjects_filter: 'lf.q.default.report' })
    .catch(() => null);
  return { ...(info?.state.subjects ?? {}), ...(plain?.state.subjects ?? {}) };
}

for (const offers of [true, false]) {
  describe.skipIf(noNats)(`priority of attempts waiting for a worker (offers ${offers ? 'on' : 'off'})`, () => {
    const c = useCluster({ engines: 2, production: true, deploy: [report], engine: { directDispatch: offers } });

    it('a busy worker of concurrency 1 takes every higher priority first, equal priority in arrival order, runs without one in between', async () => {
      const ran: string[] = [];
      const release = gate();
      const blocking = gate();
      const logs: string[] = [];
      const worker = await c.addWorker({
        concurrency: 1,
        directOffers: offers,
        handlers: reporter(ran, release.opened, blocking.open),
        log: (l) => logs.push(l),
      });
      try {
        // A first run makes the queue's consumer, and the worker starts pulling (it says so): from then on it hears the levels.
        const first = await c.client.start('priority-report', { label: 'first' });
        expect((await c.runs.wait(first.runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
        await waitFor(
          'the worker pulling',
          () => logs.some((l) => l.includes('taking attempts of report from queue default')),
          { timeout: 30_000 },
        );
        const blocker = await c.client.start('priority-report', { label: 'blocker' });
        await blocking.opened;
        // Arrivals interleaved: each high comes after a low, so a FIFO queue would run them alternately.
        const arrivals: [string, number | undefined][] = [
          ['low-1', 10],
          ['high-1', 90],
          ['none-1', undefined],
          ['low-2', 10],
          ['high-2', 90],
          ['low-3', 10],
          ['none-2', undefined],
          ['high-3', 90],
          ['mid-1', 70],
        ];
        const runs: string[] = [blocker.runId];
        const jsm = await c.jsm();
        // "Arrival" is the order attempts are queued, and two engines may queue two quick starts either way round:
        // each start waits until its attempt is in the queue's stream (offered to the busy worker and refused, or
        // queued straight), so the order queued is the order started.
        const expected: Record<string, number> = { ...(await queued(jsm)) }; // the blocker's attempt may be on the default level
        for (const [label, priority] of arrivals) {
          if (label === 'high-3') {
            // As the docs tell a user: `ledgerflow start <workflow> --<input> v --priority 90`.
            const out = await cli([
              '--nats',
              c.as('engine'),
              'start',
              'priority-report',
              '--label',
              label,
              '--priority',
              String(priority),
              '--json',
            ]);
            expect(out.code, out.stderr).toBe(0);
            runs.push((JSON.parse(out.stdout) as { runId: string }).runId);
          } else {
            runs.push(
              (await c.client.start('priority-report', { label }, priority !== undefined ? { priority } : {})).runId,
            );
          }
          const subject = priority === undefined ? 'lf.q.default.report' : `lf.q.default.report.p${priority}`;
          expected[subject] = (expected[subject] ?? 0) + 1;
          await waitFor(
            `${label}'s attempt queued for the busy worker`,
            async () => {
              const q = await queued(jsm);
              return Object.entries(expected).every(([s, n]) => (q[s] ?? 0) >= n);
            },
            { timeout: 30_000 },
          );
        }
        const q = await queued(jsm);
        expect([q['lf.q.default.report.p10'], q['lf.q.default.report.p90'], q['lf.q.default.report.p70']]).toEqual([
          3, 3, 1,
        ]);
        release.open();
        for (const runId of runs) expect((await c.runs.wait(runId, { timeoutMs: 60_000 })).status).toBe('COMPLETED');
        expect(ran).toEqual([
          'first',
          'blocker',
          'high-1',
          'high-2',
          'high-3',
          'mid-1',
          'none-1',
          'none-2',
          'low-1',
          'low-2',
          'low-3',
        ]);
        // The histories say the same: each run's attempt completed in that order, one attempt each (none ran twice).
        const histories = await Promise.all(runs.map((r) => c.client.store.read(r)));
        const completed = histories
          .map((h) => {
            const done = h.find((e) => e.type === 'task.completed')!;
            return { label: (done.data as { output: { label: string } }).output.label, at: done.time };
          })
          .sort((a, b) => a.at.localeCompare(b.at))
          .map((x) => x.label);
        expect(completed).toEqual(ran.slice(1));
        for (const h of histories) expect(h.filter((e) => e.type === 'task.started')).toHaveLength(1);
        // A run's priority is in its run.started, absent when the start gave none.
        expect(histories[2]![0]!.data).toMatchObject({ priority: 90 });
        expect((histories[3]![0]!.data as { priority?: number }).priority).toBeUndefined();
      } finally {
        release.open();
        await c.stopWorker(worker);
      }
    }, 120_000);

    it('an idle worker takes a run with a priority at once; no attempt is left on a level', async () => {
      const release = gate();
      const ran: string[] = [];
      const worker = await c.addWorker({
        concurrency: 2,
        directOffers: offers,
        handlers: reporter(ran, release.opened, () => {}),
      });
      try {
        const { runId } = await c.client.start('priority-report', { label: 'urgent' }, { priority: 99 });
        expect((await c.runs.wait(runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
        const jsm = await c.jsm();
        await waitFor('the levels emptied', async () => Object.values(await queued(jsm)).every((n) => n === 0));
      } finally {
        await c.stopWorker(worker);
      }
    }, 60_000);
  });
}

describe.skipIf(noNats)('a nats.conf from before levels (no lf.levels line for the worker user)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lf-prio-conf-'));
  const config = join(dir, 'nats.conf');
  writeFileSync(config, readFileSync(join(ROOT, 'nats.conf'), 'utf8').replaceAll(/, "lf\.levels\.[a-z]+\.>"/g, ''));
  const c = useCluster({ engines: 1, production: true, config, deploy: [report] });

  it('the worker says it cannot hear the levels, reads them from the stream before each pull, and still takes the higher priority first', async () => {
    expect(readFileSync(config, 'utf8')).not.toMatch(/subscribe: \[.*lf\.levels/);
    const ran: string[] = [];
    const logs: string[] = [];
    const release = gate();
    const blocking = gate();
    const worker = await c.addWorker({
      concurrency: 1,
      handlers: reporter(ran, release.opened, blocking.open),
      log: (l) => logs.push(l),
    });
    try {
      // A first run makes the queue's consumer; then the worker pulls, and has said it cannot hear the levels.
      const first = await c.client.start('priority-report', { label: 'first' });
      expect((await c.runs.wait(first.runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
      await waitFor(
        'the worker to say it cannot hear the levels',
        () =>
          logs.some((l) =>
            /priority levels of report on queue default: .*read from the stream before each pull/.test(l),
          ),
        { timeout: 30_000 },
      );
      const runs = [(await c.client.start('priority-report', { label: 'blocker' })).runId];
      await blocking.opened;
      for (const [label, priority] of [
        ['low-1', 10],
        ['none-1', undefined],
        ['high-1', 90],
        ['low-2', 10],
        ['high-2', 90],
      ] as const) {
        runs.push(
          (await c.client.start('priority-report', { label }, priority !== undefined ? { priority } : {})).runId,
        );
      }
      const jsm = await c.jsm();
      await waitFor(
        'every attempt queued for the busy worker',
        async () => {
          const q = await queued(jsm);
          return (
            (q['lf.q.default.report.p10'] ?? 0) === 2 &&
            (q['lf.q.default.report.p90'] ?? 0) === 2 &&
            (q['lf.q.default.report'] ?? 0) >= 1
          );
        },
        { timeout: 30_000 },
      );
      release.open();
      for (const runId of runs) expect((await c.runs.wait(runId, { timeoutMs: 60_000 })).status).toBe('COMPLETED');
      expect(ran).toEqual(['first', 'blocker', 'high-1', 'high-2', 'none-1', 'low-1', 'low-2']);
    } finally {
      release.open();
      await c.stopWorker(worker);
    }
  }, 120_000);
});

describe.skipIf(noNats)('a worker pulls no more than its --concurrency', () => {
  const c = useCluster({ engines: 1, production: true, deploy: [report], engine: { directDispatch: false } });

  it('six queued attempts, a worker of concurrency 2: never more than two run at once (the pull was refilled as attempts arrived, not as they ended)', async () => {
    let running = 0;
    let most = 0;
    const gates = new Map(Array.from({ length: 6 }, (_, i) => [`r${i}`, gate()]));
    const handlers: Handlers = {
      report: async (input: Record<string, unknown>) => {
        running++;
        most = Math.max(most, running);
        try {
          await gates.get(String(input.label))!.opened;
        } finally {
          running--;
        }
        return { label: String(input.label) };
      },
    };
    const runs: string[] = [];
    for (let i = 0; i < 6; i++) runs.push((await c.client.start('priority-report', { label: `r${i}` })).runId);
    const jsm = await c.jsm();
    await waitFor('every attempt queued', async () => ((await queued(jsm))['lf.q.default.report'] ?? 0) === 6, {
      timeout: 30_000,
    });
    const worker = await c.addWorker({ concurrency: 2, directOffers: false, handlers });
    try {
      // One at a time, in queue order: each completes (a commit's round trip, long after a greedy pull would have
      // brought the rest) while the next two run.
      for (let i = 0; i < 6; i++) {
        await waitFor(`r${i} running`, () => running === Math.min(2, 6 - i), { timeout: 30_000 });
        gates.get(`r${i}`)!.open();
        expect((await c.runs.wait(runs[i]!, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
        expect(most).toBe(2);
      }
    } finally {
      for (const g of gates.values()) g.open();
      await c.stopWorker(worker);
    }
  }, 90_000);
});

describe.skipIf(noNats)('priority levels and a hostile worker user', () => {
  const c = useCluster({ engines: 1, production: true, deploy: [report] });

  it('the worker user can neither queue an attempt on a level nor tell workers of one', async () => {
    const nc = await c.connect('worker');
    const js = jetstream(nc);
    await expect(js.publish('lf.q.default.report.p99', new TextEncoder().encode('{}'))).rejects.toThrow(
      /permission|no responders|timeout/i,
    );
    await expect(nc.request('lf.levels.default.report.p99', new Uint8Array(), { timeout: 2000 })).rejects.toThrow(
      /permission|no responders|timeout/i,
    );
  }, 30_000);
});
