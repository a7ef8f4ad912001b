/**
 * `list` prints a page (issue 65): the newest 50 matching runs by default, text and --json alike, and says on stderr
 * when more match; `--limit n` and `--all` show more. The commands run in this process, as the CLI calls them.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listCmd, LIST_PAGE } from '../../src/cli/commands/read.js';
import { closeStores } from '../../src/cli/flags/store.js';
import { UsageError } from '../../src/errors/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { appendCommits, asRun, COMPLETED_RUN, FAILED_RUN, historyCommits } from '../query/fixtures.js';

afterEach(async () => {
  await closeStores();
});

const RUNS = 64;
/** Run i's start, a second apart in a shuffled order (start order is not id order). */
const startOf = (i: number) => ((i * 37) % RUNS) * 1000;

/** A store of RUNS settled runs (golden histories under new ids), every fourth FAILED. */
async function settledStore(runs = RUNS): Promise<string> {
  const dir = join(tempDir('lf-list-page-'), 'store');
  const store = new FileEventStore(dir);
  try {
    for (let i = 0; i < runs; i++)
      await appendCommits(
        store,
        asRun(historyCommits(i % 4 === 3 ? FAILED_RUN : COMPLETED_RUN), `r${String(i).padStart(3, '0')}`, startOf(i)),
      );
  } finally {
    await store.close();
  }
  return dir;
}

/** The run ids newest first, as the index orders them (start time, then id). */
const newestFirst = (ids: number[]) =>
  ids.sort((a, b) => startOf(b) - startOf(a) || b - a).map((i) => `r${String(i).padStart(3, '0')}`);

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

async function list(store: string, opts: Parameters<typeof listCmd>[2]) {
  const c = captured();
  expect(await listCmd(c.io, { store }, opts)).toBe(0);
  return c;
}

describe(`list on a store of ${RUNS} settled runs`, () => {
  it('prints the newest 50 by default, text and --json alike, and says on stderr that more match', async () => {
    const store = await settledStore();
    const all = newestFirst([...Array(RUNS).keys()]);
    const asJson = await list(store, { json: true });
    const rows = JSON.parse(asJson.out.join('\n')) as { runId: string }[];
    expect(rows.map((r) => r.runId)).toEqual(all.slice(0, LIST_PAGE));
    expect(asJson.err).toEqual([]); // stdout is the page, nothing else said
    const text = await list(store, {});
    const lines = text.out.join('\n').split('\n');
    expect(lines).toHaveLength(LIST_PAGE + 1); // the header, then the page
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(all.slice(0, LIST_PAGE));
    expect(text.err).toEqual([
      `the newest ${LIST_PAGE} of ${RUNS} matching runs shown; for more: --limit n (up to 500), --all (every one), or GET /api/runs and its nextCursor`,
    ]);
  });

  it('--all prints every match, --limit n the newest n, and a page that holds them all says nothing more', async () => {
    const store = await settledStore();
    const every = await list(store, { all: true, json: true });
    expect((JSON.parse(every.out.join('\n')) as { runId: string }[]).map((r) => r.runId)).toEqual(
      newestFirst([...Array(RUNS).keys()]),
    );
    const failed = await list(store, { status: 'failed' }); // 16 match: one page
    expect(failed.out.join('\n').split('\n')).toHaveLength(RUNS / 4 + 1);
    expect(failed.err).toEqual([]);
    const three = await list(store, { limit: '3', status: 'failed' });
    expect(
      three.out
        .join('\n')
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(newestFirst([...Array(RUNS).keys()].filter((i) => i % 4 === 3)).slice(0, 3));
    expect(three.err.join('\n')).toContain(`the newest 3 of ${RUNS / 4} matching runs shown`);
  });

  it('refuses --all with --limit (exit 2)', async () => {
    const store = await settledStore(1);
    await expect(listCmd(captured().io, { store }, { all: true, limit: '5' })).rejects.toBeInstanceOf(UsageError);
  });
});
