/**
 * `ledgerflow stats <workflow>` over more settled runs than it keeps durations of one by one
 * (docs/metrics.md#per-workflow-figures): 6,000 runs of lead_qualification, each of a duration of its own, on the
 * embedded store and on NATS. `stats --json` (from the figures the index keeps) gives what `stats --since <before
 * them all> --json` (every record read) gives; the count, mean and maximum are those of the runs' durations as `list
 * --json` shows them, p50 and p95 within 1% of the nearest-rank ones; and what the index keeps of the durations is a
 * few kilobytes, not a number a run. On the embedded store the first read of the store, which reads every run log into
 * the index, says so on stderr (docs/queries.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { FileEventStore, JetStreamEventStore, type EventStore } from '../../src/store/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { asRun, COMPLETED_RUN, historyCommits } from '../query/fixtures.js';

const RUNS = 6_000;
const WF = 'lead_qualification';
const shape = historyCommits(COMPLETED_RUN);

/** Run `n`'s events in one commit, its settling event moved on by a duration of its own (0 to 50 s more). */
function runOf(n: number): EventEnvelope[] {
  const events = asRun(shape, `many-${String(n).padStart(5, '0')}`, n * 1000).flat();
  const last = events.at(-1)!;
  const extra = (n * 7919) % 50_000;
  events[events.length - 1] = { ...last, time: new Date(Date.parse(last.time) + extra).toISOString() };
  return events;
}

async function fill(store: EventStore): Promise<void> {
  for (let i = 0; i < RUNS; i += 200)
    await Promise.all(
      Array.from({ length: Math.min(200, RUNS - i) }, (_, k) => {
        const events = runOf(i + k);
        return store.append({ runId: events[0]!.runId, expectedSeq: 0, dedupId: `${events[0]!.runId}/all`, events });
      }),
    );
}

/** Nearest-rank percentile of the ascending `sorted`. */
const nearestRank = (sorted: number[], p: number) => sorted[Math.ceil((p / 100) * sorted.length) - 1]!;

/**
 * `stats --json` twice (the index built, then its kept figures) and with `--since` before every run (every record
 * read): the same figures; checked against the durations `list --all --json` shows.
 */
async function expectFigures(lf: (...args: string[]) => ReturnType<typeof cli>): Promise<void> {
  const json = async (...args: string[]) => {
    const r = await lf(...args, '--json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  await json('stats', WF);
  const kept = await json('stats', WF);
  const whole = await json('stats', WF, '--since', '2000-01-01T00:00:00.000Z');
  const { since: _a, ...keptFigures } = kept;
  const { since: _b, ...wholeFigures } = whole;
  expect(keptFigures).toEqual(wholeFigures);

  const listed = (await json('list', '--workflow', WF, '--all')) as { durationMs: number }[];
  const durations = listed.map((r) => r.durationMs).sort((a, b) => a - b);
  expect(durations).toHaveLength(RUNS);
  expect(new Set(durations).size).toBeGreaterThan(RUNS / 2);
  const t = kept.execution_time;
  expect(t.settled).toBe(RUNS);
  expect(t.maxMs).toBe(durations.at(-1));
  expect(t.meanMs).toBe(Math.round(durations.reduce((a, b) => a + b, 0) / RUNS));
  for (const [p, got] of [
    [50, t.p50Ms],
    [95, t.p95Ms],
  ] as const) {
    const exact = nearestRank(durations, p);
    expect(Math.abs(got - exact), `p${p}: ${got} against ${exact}`).toBeLessThanOrEqual(exact * 0.01 + 1);
  }
}

/** The `{"figures":…}` line of a file, in bytes (it must be there). */
function figuresLineBytes(file: string): number {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('{"figures":'));
  expect(line, `${file} has a figures line`).toBeDefined();
  return Buffer.byteLength(line!);
}

describe('stats over thousands of settled runs', () => {
  it('on the embedded store: the kept figures are the whole look, within 1% on p50/p95, a few KB kept', async () => {
    const dir = tempDir('lf-stats-many-');
    const storeDir = join(dir, 'store');
    const store = new FileEventStore(storeDir);
    try {
      await fill(store);
    } finally {
      await store.close();
    }
    // The first read of the store reads every run log into the index, and says so on stderr (docs/queries.md); stdout
    // stays the JSON. The next reads answer from the index's cache and say nothing of it.
    const lf = (...args: string[]) => cli(['--store', storeDir, ...args], { cwd: dir });
    const first = await lf('list', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(
      "reading the run index: 6,000 run logs to read (once: what is read is kept in the index's cache)",
    );
    expect(JSON.parse(first.stdout)).toHaveLength(50);
    await expectFigures(lf);
    const again = await lf('list');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('reading the run index');
    const cache = readdirSync(storeDir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('runs.jsonl'));
    expect(cache).toBeDefined();
    expect(figuresLineBytes(join(storeDir, cache!))).toBeLessThan(16 * 1024);
  }, 120_000);

  describe.skipIf(noNats)('on NATS', () => {
    const c = useCluster();
    it('the kept figures are the whole look, within 1% on p50/p95, a few KB kept', async () => {
      const store = new JetStreamEventStore({ servers: c.url });
      try {
        await fill(store);
      } finally {
        await store.close();
      }
      const cacheDir = tempDir('lf-stats-many-cache-');
      const lf = (...args: string[]) =>
        cli(['--nats', c.url, ...args], { env: { LEDGERFLOW_STATE_FILE: '', LEDGERFLOW_COMPILE_CACHE: cacheDir } });
      const reindexed = await lf('reindex');
      expect(reindexed.code, reindexed.stderr).toBe(0);
      await expectFigures(lf);
      const order = readdirSync(cacheDir).find((f) => f.endsWith('.order'));
      expect(order).toBeDefined();
      expect(figuresLineBytes(join(cacheDir, order!))).toBeLessThan(16 * 1024);
    }, 120_000);
  });
});
