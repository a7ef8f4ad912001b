/**
 * What `list` and `status` read of a store, against the number of runs it holds (issue 65: the read commands stay flat
 * as settled runs grow). Structural, never timed: `list` reads the store's journal once however many runs it prints
 * (it asked the journal again for each run), and `status <id>` parses its own run's line of the run index, not every
 * line (it parsed them all to find one). The commands run in this process, as the CLI calls them.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listCmd, statusCmd } from '../../src/cli/commands/read.js';
import { closeStores } from '../../src/cli/flags/store.js';
import { FileEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { appendCommits, asRun, COMPLETED_RUN, FAILED_RUN, historyCommits } from '../query/fixtures.js';

// Every readdir counted by the directory it reads (the journal's is what `list` asks of each run it checks).
const readdirs = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const readdir = ((path: Parameters<typeof fs.readdir>[0], ...rest: unknown[]) => {
    readdirs.push(String(path));
    return (fs.readdir as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readdir;
  return { ...fs, readdir, default: { ...fs, readdir } };
});

afterEach(async () => {
  vi.restoreAllMocks();
  await closeStores();
});

const RUNS = 40;

/** A store of RUNS settled runs (golden histories under new ids), written through the file store as runs write. */
async function settledStore(): Promise<string> {
  const dir = join(tempDir('lf-read-cost-'), 'store');
  const store = new FileEventStore(dir);
  try {
    for (let i = 0; i < RUNS; i++)
      await appendCommits(
        store,
        asRun(historyCommits(i % 4 === 3 ? FAILED_RUN : COMPLETED_RUN), `r${String(i).padStart(3, '0')}`, i * 1000),
      );
  } finally {
    await store.close();
  }
  return dir;
}

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe(`the read commands on a store of ${RUNS} settled runs`, () => {
  it('list prints every run and reads the store journal once for all of them, not once a run', async () => {
    const store = await settledStore();
    const journal = join(store, 'journal');
    for (const pass of ['builds the index', 'reads it back']) {
      readdirs.length = 0;
      const { io, out, err } = captured();
      expect(await listCmd(io, { store }, { json: true }), pass).toBe(0);
      const runs = JSON.parse(out.join('\n')) as { runId: string; status: string }[];
      expect(runs, pass).toHaveLength(RUNS);
      expect(new Set(runs.map((r) => r.status)), pass).toEqual(new Set(['COMPLETED', 'FAILED']));
      expect(err, pass).toEqual([]);
      // The store's recovery when it is opened may read it too; the check of the runs listed reads it once for all.
      expect(readdirs.filter((d) => d === journal).length, pass).toBeLessThanOrEqual(2);
    }
  });

  it("status <id> parses its own run's line of the run index, not every line", async () => {
    const store = await settledStore();
    expect(await listCmd(captured().io, { store }, {})).toBe(0); // the index written, a line a run
    const parse = vi.spyOn(JSON, 'parse');
    const { io, out, err } = captured();
    expect(await statusCmd(io, { store }, 'r021', { json: true })).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ runId: 'r021', status: 'COMPLETED' });
    expect(err).toEqual([]);
    // A run's line of the index starts `{"id":"<runId>",`: only r021's is parsed (its head, for what the index recorded).
    const indexLines = parse.mock.calls.map(([text]) => String(text)).filter((t) => t.startsWith('{"id":'));
    expect(indexLines.length).toBeGreaterThan(0);
    expect(indexLines.every((t) => t.startsWith('{"id":"r021",'))).toBe(true);
  });
});
