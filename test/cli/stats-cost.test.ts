/**
 * What `stats` reads of the embedded store against the settled runs it holds (issue 65: the same cost at 100,000
 * settled runs as at 1,000; docs/metrics.md). Structural, never timed: the settled runs' figures are kept with the run
 * index's cache per workflow and version, so `stats` parses none of their lines and stats none of their files, and adds
 * the runs in flight and those made since. Its figures are the whole look's: the same JSON with the cache removed (every
 * record read), after runs were made, moved on and a lease came and went since the cache was written.
 */
import fs, { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeStores } from '../../src/cli/flags/store.js';
import { listCmd } from '../../src/cli/commands/read.js';
import { statsCmd } from '../../src/cli/commands/stats.js';
import { FileEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { appendCommits, asRun, historyCommits } from '../query/fixtures.js';

// Every statSync of a run file counted, as in list-page-cost.test.ts (the index's looks at run files are synchronous).
const stats = { runFiles: 0 };
const realStatSync = fs.statSync;
const writable = fs as { statSync: typeof fs.statSync };
beforeAll(() => {
  writable.statSync = ((path: Parameters<typeof fs.statSync>[0], ...rest: unknown[]) => {
    if (String(path).endsWith('.jsonl') && String(path).includes('/runs/')) stats.runFiles++;
    return (realStatSync as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.statSync;
  syncBuiltinESMExports();
});
afterAll(() => {
  writable.statSync = realStatSync;
  syncBuiltinESMExports();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await closeStores();
});

const WF = 'lead_qualification';
const HISTORIES = [
  'lead_qualification/route_lead-default-to-nurture_lead-ok.jsonl',
  'lead_qualification/route_lead-qualified-to-register_opportunity-ok.jsonl',
  'lead_qualification/compute_value-fails-no-retries-to-run-FAILED.jsonl',
  'lead_qualification/compute_value-times-out-no-retries-to-run-FAILED.jsonl',
];
const RUNS = 120;
const idOf = (i: number) => `s${String(i).padStart(3, '0')}`;

/** RUNS settled runs of four endings, runs/ a minute old, the index built by a first `list --all`. */
async function settledStore(): Promise<string> {
  const store = join(tempDir('lf-stats-cost-'), 'store');
  const s = new FileEventStore(store);
  try {
    for (let i = 0; i < RUNS; i++)
      await appendCommits(s, asRun(historyCommits(HISTORIES[i % HISTORIES.length]!), idOf(i), i * 1000));
  } finally {
    await s.close();
  }
  const past = new Date(Date.now() - 60_000);
  utimesSync(join(store, 'runs'), past, past);
  expect(await listCmd(captured().io, { store }, { all: true })).toBe(0);
  return store;
}

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

/** `stats WF --json`, counting the index lines parsed and the run files stat'ed. */
async function counted(store: string, opts: { version?: string } = {}) {
  const parse = vi.spyOn(JSON, 'parse');
  stats.runFiles = 0;
  const c = captured();
  expect(await statsCmd(c.io, { store }, WF, { json: true, ...opts })).toBe(0);
  const parsedLines = parse.mock.calls.filter(([t]) => String(t).startsWith('{"id":')).length;
  parse.mockRestore();
  return { figures: JSON.parse(c.out.join('\n')) as { runs: { total: number } }, parsedLines, statted: stats.runFiles };
}

/** The same `stats` with the index's cache removed: every run's record read from its log. */
async function recounted(store: string, opts: { version?: string } = {}) {
  rmSync(join(store, 'index', 'runs.jsonl'));
  return (await counted(store, opts)).figures;
}

describe(`stats on a store of ${RUNS} settled runs`, () => {
  it('reads none of the settled runs and gives the figures of every record, per version too', async () => {
    const store = await settledStore();
    const kept = await counted(store);
    expect(kept.figures.runs.total).toBe(RUNS);
    expect(kept.parsedLines).toBe(0);
    expect(kept.statted).toBeLessThanOrEqual(2);
    const v1 = await counted(store, { version: '1' });
    expect(v1.parsedLines).toBe(0);
    expect(await recounted(store)).toEqual(kept.figures);
    expect(await recounted(store, { version: '1' })).toEqual(v1.figures);
  });

  it('on a busy store (a run made, one in flight that moved on, a lease) it reads those runs only, as the whole look counts', async () => {
    const store = await settledStore();
    const waiting = asRun(historyCommits(HISTORIES[0]!), 'moving', (RUNS + 1) * 1000);
    const s = new FileEventStore(store);
    try {
      await appendCommits(s, waiting, 0, 1);
    } finally {
      await s.close();
    }
    expect((await counted(store)).figures.runs).toMatchObject({ total: RUNS + 1, active: 1 });
    const again = new FileEventStore(store);
    try {
      await appendCommits(again, waiting, 1);
      await appendCommits(again, asRun(historyCommits(HISTORIES[2]!), 'latest', (RUNS + 2) * 1000));
    } finally {
      await again.close();
    }
    writeFileSync(join(store, 'runs', 'latest.driver'), '{}');
    rmSync(join(store, 'runs', 'latest.driver'));
    const busy = await counted(store);
    expect(busy.figures.runs).toMatchObject({ total: RUNS + 2, active: 0 });
    expect(busy.parsedLines).toBeLessThanOrEqual(2);
    expect(busy.statted).toBeLessThanOrEqual(4);
    expect(await recounted(store)).toEqual(busy.figures);
  });

  it('a run removed since the index was written sends it to every record', async () => {
    const store = await settledStore();
    rmSync(join(store, 'runs', `${idOf(7)}.jsonl`));
    const after = await counted(store);
    expect(after.figures.runs.total).toBe(RUNS - 1);
    expect(after.statted).toBeGreaterThanOrEqual(RUNS - 1);
  });
});
