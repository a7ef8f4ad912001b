/**
 * The file store's run index keeps a settled run's record on disk (docs/dashboard.md, "Memory"): a
 * long-lived reader (`ledgerflow ui`, `serve`) holds of each settled run only what a page is sorted
 * and filtered by, and reads the rest back when a page shows it. Every query answers as folding the
 * logs does, whether the records came from a build, from the cache, or from a cache another process
 * replaced meanwhile; and the memory a settled run costs is a few hundred bytes, not its record.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { FileRunIndex, openRunIndex, pageOf, recordOf, type RunQuery, type RunRecord } from '../../src/query/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { APPROVED_RUN, appendCommits, asRun, COMPLETED_RUN, FAILED_RUN, historyCommits } from './fixtures.js';

const stores: FileEventStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const HELD_HEAP = fileURLToPath(new URL('./held-heap.mts', import.meta.url));
const KINDS = [COMPLETED_RUN, FAILED_RUN, APPROVED_RUN].map(historyCommits);

/** `n` runs written as the file store writes them (one line a commit), settled but the last one, which waits for its approval. */
function storeOf(n: number, dir = tempDir('lf-cold-')): { dir: string; runs: Map<string, EventEnvelope[]> } {
  const runs = new Map<string, EventEnvelope[]>();
  mkdirSync(join(dir, 'runs'), { recursive: true });
  for (let i = 0; i < n; i++) {
    const runId = `run-${String(i).padStart(6, '0')}`;
    const commits = asRun(KINDS[i % 3]!, runId, i * 1000);
    const kept = i === n - 1 && i % 3 === 2 ? commits.slice(0, 2) : commits;
    runs.set(runId, kept.flat());
    writeFileSync(
      join(dir, 'runs', `${runId}.jsonl`),
      kept.map((events) => `${JSON.stringify({ dedupId: `${runId}/${events[0]!.seq}`, events })}\n`).join(''),
    );
  }
  return { dir, runs };
}

const QUERIES: RunQuery[] = [
  {},
  { limit: 7 },
  { status: 'FAILED', limit: 5 },
  { status: 'COMPLETED' },
  { outputContains: 'NURTURE' },
  { workflow: 'compliance_alerts', limit: 3 },
  { since: '2026-01-01T00:00:30.000Z', limit: 10 },
];

/** Each query's page, as the index gives it and as folding every log gives it. */
async function expectSameAsFolding(
  index: { query(q: RunQuery): Promise<{ runs: RunRecord[]; total: number; nextCursor: string | null }> },
  runs: Map<string, EventEnvelope[]>,
): Promise<void> {
  const truth = [...runs.values()].map((events) => recordOf(events));
  for (const q of QUERIES) {
    const got = await index.query(q);
    expect(got, JSON.stringify(q)).toEqual(pageOf(truth, q, 'newest'));
    if (got.nextCursor)
      expect(await index.query({ ...q, cursor: got.nextCursor })).toEqual(
        pageOf(truth, { ...q, cursor: got.nextCursor }, 'newest'),
      );
  }
}

describe('settled runs kept on disk by the file run index', () => {
  it('answers every query as folding the logs does: built from the logs, loaded from the cache, and after another process replaced the cache', async () => {
    const { dir, runs } = storeOf(90);
    const store = new FileEventStore(dir);
    stores.push(store);

    const built = openRunIndex({ store, live: true, pollMs: 600_000, sweepMs: 600_000 });
    await expectSameAsFolding(built, runs);
    await built.close(); // writes the cache

    const loaded = openRunIndex({ store, live: true, pollMs: 20 });
    await expectSameAsFolding(loaded, runs);
    expect(await loaded.children('run-000000')).toEqual([]);
    expect((await loaded.versions()).map((v) => v.runs).reduce((a, b) => a + b)).toBe(90);

    // The waiting run moves on and settles; a one-off query (another process) writes a new cache over the one `loaded` read.
    const waiting = asRun(KINDS[2]!, 'run-000089', 89 * 1000);
    await appendCommits(store, waiting, 2);
    runs.set('run-000089', waiting.flat());
    await openRunIndex({ store }).query({ limit: 1 });
    await expect
      .poll(async () => (await loaded.query({ runId: 'run-000089' })).runs[0]?.status, { timeout: 10_000 })
      .toBe('COMPLETED');
    await expectSameAsFolding(loaded, runs);
    await loaded.close(); // writes its cache again, from the records it refers to in the replaced file and its spill

    const again = new FileRunIndex(store, { live: true });
    await expectSameAsFolding(again, runs);
    await again.close();
  });

  it('costs a few hundred bytes of heap a settled run held, not its record (about 1 KB): built from the logs, and loaded from the cache', () => {
    const small = storeOf(1_000);
    const large = storeOf(11_000);
    // In a process of its own: this one's heap holds what every other test left.
    for (const from of ['logs', 'cache']) {
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', HELD_HEAP, small.dir, large.dir, '1000', '11000'],
        { encoding: 'utf8', timeout: 120_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const { perRun } = JSON.parse(r.stdout) as { perRun: number };
      expect(perRun, `heap a settled run (${from})`).toBeLessThan(600);
    }
    expect(existsSync(join(large.dir, 'index', 'runs.jsonl'))).toBe(true);
  }, 240_000);
});
