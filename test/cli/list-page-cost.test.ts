/**
 * What `list`'s default page reads of a store, against the settled runs it holds (issue 65: a page costs the same at
 * 100,000 settled runs as at 1,000). Structural, never timed: the page is read from the end of the run index's cache,
 * so it parses about a page of its lines and stats about a page of run files, not one of each a run (it did both for
 * every run). And what that look keeps: a log cut by hand is reported when its run is shown, a run made since is
 * listed, a busy store (runs made, moving on and removed since the index was written) gives the page the whole look
 * gives while reading only those runs, and `list --all` still looks at every run file.
 */
import fs, { readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { listCmd, LIST_PAGE } from '../../src/cli/commands/read.js';
import { closeStores } from '../../src/cli/flags/store.js';
import { FileEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { APPROVED_RUN, appendCommits, asRun, COMPLETED_RUN, FAILED_RUN, historyCommits } from '../query/fixtures.js';

// Every statSync of a run file counted (the index's looks at the run files are synchronous: file-index.ts,
// cache-tail.ts). Wrapped on the module itself and synced to its named exports: a vi.mock is not applied to a module
// another test file of the same worker loaded first.
const stats = { runFiles: 0, listings: 0 };
const realStatSync = fs.statSync;
const realReaddirSync = fs.readdirSync;
const writable = fs as { statSync: typeof fs.statSync; readdirSync: typeof fs.readdirSync };
beforeAll(() => {
  writable.statSync = ((path: Parameters<typeof fs.statSync>[0], ...rest: unknown[]) => {
    if (String(path).endsWith('.jsonl') && String(path).includes('/runs/')) stats.runFiles++;
    return (realStatSync as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.statSync;
  writable.readdirSync = ((path: Parameters<typeof fs.readdirSync>[0], ...rest: unknown[]) => {
    if (String(path).endsWith('/runs')) stats.listings++;
    return (realReaddirSync as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readdirSync;
  syncBuiltinESMExports();
});
afterAll(() => {
  writable.statSync = realStatSync;
  writable.readdirSync = realReaddirSync;
  syncBuiltinESMExports();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await closeStores();
});

const RUNS = 150;
const idOf = (i: number) => `r${String(i).padStart(3, '0')}`;
/** Run i's start: a second apart, in a shuffled order (start order is not id order, nor the order files were made). */
const startOf = (i: number) => ((i * 37) % RUNS) * 1000;

/**
 * A store of RUNS settled runs whose runs/ last changed a minute ago (a store with no run made since: the cache
 * vouches for its listing once runs/ is older than a timestamp's tick), its index built by a first `list --all`.
 */
async function settledStore(): Promise<{ store: string; newest: string[] }> {
  const store = join(tempDir('lf-list-cost-'), 'store');
  const s = new FileEventStore(store);
  try {
    for (let i = 0; i < RUNS; i++) await appendCommits(s, asRun(historyCommits(COMPLETED_RUN), idOf(i), startOf(i)));
  } finally {
    await s.close();
  }
  const past = new Date(Date.now() - 60_000);
  utimesSync(join(store, 'runs'), past, past);
  expect(await listCmd(captured().io, { store }, { all: true })).toBe(0);
  const newest = [...Array(RUNS).keys()].sort((a, b) => startOf(b) - startOf(a)).map(idOf);
  return { store, newest };
}

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

/** `list` with these flags, counting the index lines parsed and the run files stat'ed. */
async function counted(store: string, opts: Parameters<typeof listCmd>[2]) {
  const parse = vi.spyOn(JSON, 'parse');
  stats.runFiles = 0;
  stats.listings = 0;
  const c = captured();
  expect(await listCmd(c.io, { store }, { json: true, ...opts })).toBe(0);
  const parsedLines = parse.mock.calls.filter(([t]) => String(t).startsWith('{"id":')).length;
  parse.mockRestore();
  const rows = JSON.parse(c.out.join('\n')) as { runId: string; status: string; damaged?: unknown }[];
  return { rows, err: c.err, parsedLines, statted: stats.runFiles, listed: stats.listings };
}

describe(`list's default page on a store of ${RUNS} settled runs`, () => {
  it('parses and stats about a page of runs, not every run; --all still looks at every run file', async () => {
    const { store, newest } = await settledStore();
    const page = await counted(store, {});
    expect(page.rows.map((r) => r.runId)).toEqual(newest.slice(0, LIST_PAGE));
    // The page and the one line that tells more match, from the cache's end; none of the other runs.
    expect(page.parsedLines).toBeLessThanOrEqual(LIST_PAGE + 2);
    expect(page.statted).toBeLessThanOrEqual(LIST_PAGE);
    const all = await counted(store, { all: true });
    expect(all.rows).toHaveLength(RUNS);
    expect(all.statted).toBeGreaterThanOrEqual(RUNS);
  });

  it('a log cut by hand is reported when its run is on the page; off the page, by list --all', async () => {
    const { store, newest } = await settledStore();
    const cut = (runId: string) => {
      const log = join(store, 'runs', `${runId}.jsonl`);
      truncateSync(log, readFileSync(log, 'utf8').indexOf('\n') + 101); // cut in its second line: one commit left whole
    };
    cut(newest[0]!);
    const shown = await counted(store, {});
    expect(shown.rows[0]).toMatchObject({ runId: newest[0], status: 'DAMAGED', damaged: { runId: newest[0] } });
    expect(shown.err.join('\n')).toContain(`run ${newest[0]}: its log is damaged`);

    const oldest = newest.at(-1)!;
    cut(oldest);
    const page = await counted(store, {});
    expect(page.rows.map((r) => r.runId)).not.toContain(oldest); // off the page: this look does not stat it
    const all = await counted(store, { all: true });
    expect(all.rows.find((r) => r.runId === oldest)).toMatchObject({ status: 'DAMAGED', damaged: { runId: oldest } });
    expect(all.err.join('\n')).toContain(`run ${oldest}: its log is damaged`);
  });

  it('a run made since the index was written is listed, read alone: runs/ is listed against the ids the index holds', async () => {
    const { store, newest } = await settledStore();
    const s = new FileEventStore(store);
    try {
      await appendCommits(s, asRun(historyCommits(COMPLETED_RUN), 'newcomer', RUNS * 1000));
    } finally {
      await s.close();
    }
    const page = await counted(store, {});
    expect(page.rows.map((r) => r.runId)).toEqual(['newcomer', ...newest.slice(0, LIST_PAGE - 1)]);
    expect(page.parsedLines).toBeLessThanOrEqual(LIST_PAGE + 2);
    expect(page.statted).toBeLessThanOrEqual(LIST_PAGE + 2);
  });

  it('an index written while runs/ was young (a store just filled) is vouched for by the first page that lists runs/: the next lists nothing', async () => {
    const store = join(tempDir('lf-list-young-'), 'store');
    const s = new FileEventStore(store);
    try {
      for (let i = 0; i < 60; i++) await appendCommits(s, asRun(historyCommits(COMPLETED_RUN), idOf(i), startOf(i)));
    } finally {
      await s.close();
    }
    expect(await listCmd(captured().io, { store }, { all: true })).toBe(0); // runs/ changed just now: not vouched for
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(store, 'runs'), past, past);
    const first = await counted(store, {});
    expect(first.listed).toBe(1);
    const next = await counted(store, {});
    expect(next.listed).toBe(0);
    expect(next.rows.map((r) => r.runId)).toEqual(first.rows.map((r) => r.runId));
    // A run made since is seen again by a listing.
    writeFileSync(join(store, 'runs', 'lease.driver'), '{}');
    rmSync(join(store, 'runs', 'lease.driver'));
    expect((await counted(store, {})).listed).toBe(1);
  });

  it("on a busy store (runs made, moved on, removed, leases taken since the index) the page is the whole look's, and reads only those runs", async () => {
    const { store, newest } = await settledStore();
    const gate = asRun(historyCommits(APPROVED_RUN), 'waiting', (RUNS + 1) * 1000);
    const s = new FileEventStore(store);
    try {
      await appendCommits(s, gate, 0, 1); // waiting for its approval
    } finally {
      await s.close();
    }
    expect((await counted(store, {})).rows[0]).toMatchObject({ runId: 'waiting', status: 'RUNNING' });
    // runs/ changes every moment under serve: the run moves on, another is made, one is removed, a lease comes and goes.
    const again = new FileEventStore(store);
    try {
      await appendCommits(again, gate, 1);
      await appendCommits(again, asRun(historyCommits(FAILED_RUN), 'latest', (RUNS + 2) * 1000));
    } finally {
      await again.close();
    }
    rmSync(join(store, 'runs', `${newest[1]}.jsonl`));
    writeFileSync(join(store, 'runs', 'latest.driver'), '{}');
    rmSync(join(store, 'runs', 'latest.driver'));

    const page = await counted(store, {});
    const all = await counted(store, { all: true });
    expect(page.rows.map((r) => r.runId)).toEqual(all.rows.slice(0, LIST_PAGE).map((r) => r.runId));
    expect(page.rows.slice(0, 3)).toMatchObject([
      { runId: 'latest', status: 'FAILED' },
      { runId: 'waiting', status: 'COMPLETED' },
      { runId: newest[0] },
    ]);
    expect(page.rows.map((r) => r.runId)).not.toContain(newest[1]);
    expect(page.parsedLines).toBeLessThanOrEqual(LIST_PAGE + 2);
    expect(page.statted).toBeLessThanOrEqual(LIST_PAGE + 4);
    expect(all.rows).toHaveLength(RUNS + 1);
  });
});
