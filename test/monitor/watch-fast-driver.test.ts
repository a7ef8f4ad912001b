/**
 * `watch` and a driver that finishes its run a moment after the watch read it (docs/runs.md#watch-runs-in-the-terminal):
 * the driver writes its last commit, then lets its lease go, and the follower delivers that commit a moment later. Asked
 * in between, the lease says nobody drives the run and a witness may have recorded commits the watch's read lacks; the
 * watch reads the log as it stands before it says either, so the run is shown settled: not as needing a driver, not as
 * damaged. The moment is forced (the checks themselves let the driver finish), never waited for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { watchRuns, type WatchOptions } from '../../src/monitor/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { HISTORIES_DIR } from '../fixtures/histories/histories.js';

const FILE = 'batch-inventory-validation/validate_each-0-retries-then-succeeds.jsonl';
const UNDRIVEN = 'no process drives this run: `ledgerflow serve` on this store drives it';

/** The golden history's commits under `runId`, as its driver appended them. */
function commits(runId: string): { dedupId: string; events: EventEnvelope[] }[] {
  return readFileSync(join(HISTORIES_DIR, FILE), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { dedupId: string; events: EventEnvelope[] })
    .map((c) => ({ dedupId: `${runId}-${c.dedupId}`, events: c.events.map((e) => ({ ...e, runId })) }));
}

async function append(store: MemoryEventStore, cs: { dedupId: string; events: EventEnvelope[] }[]): Promise<void> {
  for (const c of cs)
    await store.append({
      runId: c.events[0]!.runId,
      expectedSeq: c.events[0]!.seq - 1,
      dedupId: c.dedupId,
      events: c.events,
    });
}

/** A run of `store` left running, and `finish`: its driver's last commits (the run then COMPLETED, its lease let go). */
async function runningRun(store: MemoryEventStore, runId: string) {
  const all = commits(runId);
  await append(store, all.slice(0, -2));
  let finished = false;
  return {
    lastSeq: all.at(-1)!.events.at(-1)!.seq,
    finish: async () => {
      if (finished) return;
      finished = true;
      await append(store, all.slice(-2));
    },
  };
}

function output(): { out: WatchOptions['out']; text: () => string } {
  let text = '';
  return { out: { write: (t: string) => void (text += t) }, text: () => text };
}

describe('watch and a driver that finishes right after the watch read the run', () => {
  for (const mode of ['plain', 'json', 'frame'] as const) {
    it(`${mode}: asked while the driver has just let go, it reads the log and shows the run settled, not undriven`, async () => {
      const store = new MemoryEventStore();
      const run = await runningRun(store, 'fast-run');
      const o = output();
      const asked: string[] = [];
      const result = await watchRuns({
        store,
        target: { kind: 'run', runId: 'fast-run' },
        mode,
        out: mode === 'frame' ? { ...o.out, columns: 160, rows: 60 } : o.out,
        color: false,
        // The embedded store's check (lease free): the driver finishes the run just before it is asked.
        undriven: async (_runId, view) => {
          asked.push(view.status);
          await run.finish();
          return UNDRIVEN;
        },
        driverCheckMs: 60_000,
      });
      expect(result).toEqual({
        stopped: false,
        runs: [{ runId: 'fast-run', workflowId: 'batch-inventory-validation', status: 'COMPLETED' }],
      });
      expect(asked[0]).toBe('RUNNING'); // the check did come while the watch still showed it running
      expect(o.text()).not.toContain('no process drives this run');
      expect(o.text()).not.toContain('undriven');
    });
  }

  it('--workflow: a run that settles while the watch lists the runs is shown settled, not left out as settled before', async () => {
    const run = { finish: async () => {} };
    let listings = 0;
    // The store's listing: the discovery's first, then the watch's own, by which time the driver has finished the run.
    const store = new (class extends MemoryEventStore {
      override async listRuns(...args: Parameters<MemoryEventStore['listRuns']>) {
        if (++listings === 2) await run.finish();
        return super.listRuns(...args);
      }
    })();
    Object.assign(run, await runningRun(store, 'fast-run'));
    // An older run of the workflow, settled a day before the watch: not watched.
    const dayBefore = (t: string) => new Date(Date.parse(t) - 86_400_000).toISOString();
    await append(
      store,
      commits('old-run').map((c) => ({ ...c, events: c.events.map((e) => ({ ...e, time: dayBefore(e.time) })) })),
    );
    const o = output();
    const startedAt = commits('fast-run')[0]!.events[0]!.time;
    const result = await watchRuns({
      store,
      target: { kind: 'workflow', workflowId: 'batch-inventory-validation' },
      mode: 'plain',
      out: o.out,
      // The watch began while fast-run ran (the history's times: its last commit settles it after this).
      now: () => Date.parse(startedAt) + 1,
    });
    expect(result).toEqual({
      stopped: false,
      runs: [{ runId: 'fast-run', workflowId: 'batch-inventory-validation', status: 'COMPLETED' }],
    });
    expect(o.text()).toContain('fast-run  task.completed');
    expect(o.text()).not.toContain('old-run');
  });

  it('a witness that recorded the commits written after the read does not make the run DAMAGED', async () => {
    const store = new MemoryEventStore();
    const run = await runningRun(store, 'fast-run');
    const o = output();
    const result = await watchRuns({
      store,
      target: { kind: 'run', runId: 'fast-run' },
      mode: 'plain',
      out: o.out,
      // The run index or the journal, asked after the driver finished: it recorded the run to its last commit.
      damage: async (_runId, seq) => {
        await run.finish();
        return seq < run.lastSeq ? `the log ends at event ${seq}, but event ${run.lastSeq} was recorded` : null;
      },
    });
    expect(result.runs).toEqual([{ runId: 'fast-run', workflowId: 'batch-inventory-validation', status: 'COMPLETED' }]);
    expect(o.text()).not.toContain('DAMAGED');
  });

  it('a log that stays short of what was recorded is still DAMAGED', async () => {
    const store = new MemoryEventStore();
    await runningRun(store, 'cut-run');
    const o = output();
    const result = await watchRuns({
      store,
      target: { kind: 'run', runId: 'cut-run' },
      mode: 'plain',
      out: o.out,
      damage: async (_runId, seq) => `the log ends at event ${seq}, but event ${seq + 3} was recorded`,
    });
    expect(result.runs.map((r) => r.status)).toEqual(['DAMAGED']);
    expect(o.text()).toContain('cut-run  DAMAGED  the log ends at event');
  });
});
