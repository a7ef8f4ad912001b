/**
 * The dashboard's first page on a large store (`ledgerflow ui`, `serve`: a live run index): answered from the end of
 * the index's cache while the index is still building its records, instead of after the whole build (3-4 s at
 * 100,000 settled runs). Deterministic, not timed: the build is held at its listing of runs/ until the page is back,
 * then let go; the page is the one the built index gives, and queries after the build answer from the records held.
 */
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openRunIndex, type RunIndex } from '../../src/query/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { appendCommits, asRun, COMPLETED_RUN, FAILED_RUN, historyCommits } from './fixtures.js';

const RUNS = 120;
const idOf = (i: number) => `r${String(i).padStart(3, '0')}`;
/** Run i's start: a second apart, shuffled (start order is not id order). */
const startOf = (i: number) => ((i * 37) % RUNS) * 1000;

const open: { index: RunIndex; store: FileEventStore }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const o of open.splice(0)) {
    await o.index.close();
    await o.store.close();
  }
});

/** A store of settled runs whose index cache a one-shot look wrote, and whose runs/ last changed a minute ago. */
async function settledStore(): Promise<string> {
  const dir = join(tempDir('lf-live-first-page-'), 'store');
  const s = new FileEventStore(dir);
  for (let i = 0; i < RUNS; i++)
    await appendCommits(s, asRun(historyCommits(i % 10 === 0 ? FAILED_RUN : COMPLETED_RUN), idOf(i), startOf(i)));
  const once = openRunIndex({ store: s });
  expect((await once.query({})).runs).toHaveLength(RUNS); // the whole look, which writes the cache
  await once.close();
  await s.close();
  const past = new Date(Date.now() - 60_000);
  utimesSync(join(dir, 'runs'), past, past);
  return dir;
}

describe('a live file run index answers its first page before its records are built', () => {
  it('the first page comes from the cache while the build is held; later pages from the records, the same runs', async () => {
    const dir = await settledStore();
    const store = new FileEventStore(dir);
    // The build lists runs/ (FileEventStore.runFiles) before it stats every run file: held there until let go.
    let letGo!: () => void;
    const held = new Promise<void>((r) => {
      letGo = r;
    });
    const realRunFiles = store.runFiles.bind(store);
    const listing = vi.spyOn(store, 'runFiles').mockImplementation(async () => {
      await held;
      return realRunFiles();
    });
    const index = openRunIndex({ store, live: true });
    open.push({ index, store });

    // Answered while the build cannot finish: it waits at its listing until letGo().
    const first = await index.query({ limit: 50 });
    expect(first.total).toBe(RUNS);
    const newest = [...Array(RUNS).keys()].sort((a, b) => startOf(b) - startOf(a)).map(idOf);
    expect(first.runs.map((r) => r.runId)).toEqual(newest.slice(0, 50));

    letGo();
    const after = await index.query({ limit: 50 });
    expect(after.runs.map((r) => r.runId)).toEqual(first.runs.map((r) => r.runId));
    expect(after.runs).toEqual(first.runs);
    expect(after.total).toBe(RUNS);
    // A filtered query (which the cache's end never answers) is answered from the records: the one build, let go. The
    // page above may come from the cache's end again if the build has not reached its listing yet (a loaded machine),
    // so the listing is counted after this query, which waits for the build: once in all, no new look.
    const failed = await index.query({ status: 'FAILED', limit: 50 });
    expect(failed.runs.map((r) => r.runId).sort()).toEqual(
      [...Array(RUNS).keys()].filter((i) => i % 10 === 0).map(idOf),
    );
    expect(listing).toHaveBeenCalledTimes(1);
    await index.query({ status: 'FAILED', limit: 50 });
    expect(listing).toHaveBeenCalledTimes(1);
  });

  it('a run made after the cache was written is on the first page too (read from its log)', async () => {
    const dir = await settledStore();
    const store = new FileEventStore(dir);
    await appendCommits(store, asRun(historyCommits(COMPLETED_RUN), 'made-later', RUNS * 1000));
    let letGo!: () => void;
    const held = new Promise<void>((r) => {
      letGo = r;
    });
    const realRunFiles = store.runFiles.bind(store);
    vi.spyOn(store, 'runFiles').mockImplementation(async () => {
      await held;
      return realRunFiles();
    });
    const index = openRunIndex({ store, live: true });
    open.push({ index, store });
    const first = await index.query({ limit: 5 });
    expect(first.runs[0]!.runId).toBe('made-later');
    letGo();
    expect((await index.query({ limit: 5 })).runs).toEqual(first.runs);
  });
});
