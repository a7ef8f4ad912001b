/**
 * `archive list` reads a per-period summary instead of every archived run's entry (src/store/archive/summary.ts,
 * src/store/jetstream/archive-summary.ts): after each archive, restore and archive again it answers exactly as the full
 * pass over the index does, without that pass; a store without a summary (written by an older version) and a write the
 * summary did not see (an older version's move) are counted again. Kills mid-move: archive-chaos and nats-chaos.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect, it, vi } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { Engine } from '../../src/local/index.js';
import { ArchiveShards } from '../../src/store/archive/shards.js';
import { ArchiveSummary } from '../../src/store/archive/summary.js';
import { writeTotals } from '../../src/store/jetstream/archive-summary.js';
import { FileEventStore, JetStreamEventStore, type EventStore, type RunSummary } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { INVOICE_YAML } from './docs-scenario.js';
import { fileFullPass, natsFullPass } from './full-pass.js';

const LAST_YEAR = '2025-01-15T00:00:00.000Z';

async function settledRuns(store: EventStore, n: number, id = 'invoice'): Promise<RunSummary[]> {
  const { definition } = parseDefinition(INVOICE_YAML.replace('id: invoice', `id: ${id}`), `${id}.yaml`);
  const engine = new Engine({ store });
  for (let i = 0; i < n; i++) await engine.run(definition!, { amount: i }, { handlers: {} });
  return store.listRuns({ workflowId: id });
}

/** Settled a year ago as far as the archive's period goes (the month a run settled in). */
const aYearAgo = (runs: RunSummary[]) => runs.map((r) => ({ ...r, completedAt: LAST_YEAR }));

describe('archive list from the summary (embedded store)', () => {
  it('answers as the full pass after archive, restore and archive again, without reading the index', async () => {
    const dir = tempDir('lf-archive-summary-');
    const store = new FileEventStore(dir);
    const runs = await settledRuns(store, 12);
    const all = vi.spyOn(ArchiveShards.prototype, 'byShard');
    const listed = async () => {
      all.mockClear();
      const periods = await store.archive().periods();
      return { periods, readTheIndex: all.mock.calls.length > 0 };
    };
    expect(await listed()).toEqual({ periods: [], readTheIndex: false });

    // The first move of a store with no summary yet leaves it to `archive list`, which counts once and writes it.
    await store.archive().archive(aYearAgo(runs.slice(0, 4)), new Date());
    expect(await listed()).toEqual({ periods: await fileFullPass(dir), readTheIndex: true });
    const steps: [string, () => Promise<unknown>][] = [
      ['archive', () => store.archive().archive(runs.slice(4, 10), new Date())],
      ['restore', () => store.archive().restore(runs[5]!.runId)],
      ['restore a year-old run', () => store.archive().restore(runs[0]!.runId)],
      ['archive again', () => store.archive().archive(runs.slice(0, 12), new Date())],
    ];
    for (const [step, run] of steps) {
      await run();
      expect(await listed(), step).toEqual({ periods: await fileFullPass(dir), readTheIndex: false });
    }
    const [old, now] = await fileFullPass(dir);
    expect([old!.runs, now!.runs]).toEqual([3, 9]);

    // A store written by an older version: no summary, counted from the index and written.
    rmSync(join(dir, 'archive', 'summary.json'));
    expect(await listed()).toEqual({ periods: await fileFullPass(dir), readTheIndex: true });
    expect((await listed()).readTheIndex).toBe(false);

    // An older version's restore adds an index line the summary never saw: counted again.
    await new ArchiveShards(join(dir, 'archive', 'index')).add([{ runId: runs[1]!.runId, restored: LAST_YEAR }]);
    const after = await listed();
    expect(after).toEqual({ periods: await fileFullPass(dir), readTheIndex: true });
    expect(after.periods[0]!.runs).toBe(2);
    all.mockRestore();
    await store.close();
  });

  it('a count the index changed under (a move meanwhile) is answered but not kept', async () => {
    const dir = tempDir('lf-archive-summary-');
    const store = new FileEventStore(dir);
    const runs = await settledRuns(store, 3);
    await store.archive().archive(runs.slice(0, 2), new Date());
    const archiveDir = join(dir, 'archive');
    const summary = new ArchiveSummary(archiveDir, new ArchiveShards(join(archiveDir, 'index')));
    const counts = await summary.rebuild(async (write) => {
      await store.archive().archive(runs.slice(2), new Date());
      await write();
    });
    expect([...counts.values()]).toEqual([2]);
    expect(await summary.read()).toBeNull();
    expect((await store.archive().periods())[0]!.runs).toBe(3);
    expect(await summary.read()).toEqual(new Map([[new Date().toISOString().slice(0, 7), 3]]));
    await store.close();
  });
});

describe.skipIf(noNats)('archive list from the summary (NATS)', () => {
  const c = useCluster();

  it('answers as the full pass after archive, restore and archive again, from a summary that stays current', async () => {
    const store = new JetStreamEventStore({ servers: c.url });
    const runs = await settledRuns(store, 10, 'summary');
    const nc = await c.connect();
    const kv = await new Kvm(jetstream(nc)).create('LF_ARCHIVE_INDEX', { history: 1 });
    /** The summary is the bucket's last write: `archive list` reads it and nothing else. */
    const current = async () => {
      const [got, status] = await Promise.all([kv.get('summary'), kv.status()]);
      return got?.operation === 'PUT' && got.revision === status.streamInfo.state.last_seq;
    };
    expect(await store.archive().periods()).toEqual([]);
    expect(await current()).toBe(true);

    const steps: [string, () => Promise<unknown>][] = [
      ['archive', () => store.archive().archive(aYearAgo(runs.slice(0, 3)), new Date())],
      ['archive', () => store.archive().archive(runs.slice(3, 8), new Date())],
      ['restore', () => store.archive().restore(runs[4]!.runId)],
      ['restore a year-old run', () => store.archive().restore(runs[0]!.runId)],
      [
        'archive again',
        async () => store.archive().archive(await store.listRuns({ workflowId: 'summary' }), new Date()),
      ],
    ];
    for (const [step, run] of steps) {
      await run();
      expect(await current(), step).toBe(true);
      expect(await store.archive().periods(), step).toEqual(await natsFullPass(nc));
    }
    expect((await store.archive().periods()).map((p) => p.runs)).toEqual([2, 8]);

    // A key the summary never saw (an older engine's move): counted again, and the summary current once more.
    await kv.put('in.2024-02.someone-elses-run', '');
    expect(await current()).toBe(false);
    const periods = await store.archive().periods();
    expect(periods).toEqual(await natsFullPass(nc));
    expect(periods[0]).toMatchObject({ period: '2024-02', runs: 1 });
    expect(await current()).toBe(true);
    await kv.delete('in.2024-02.someone-elses-run');
    expect((await store.archive().periods()).map((p) => p.runs)).toEqual([2, 8]);

    // A count the bucket was written under is not kept: the put expects the last write it saw.
    const seen = (await kv.status()).streamInfo.state.last_seq;
    await kv.put('in.2024-03.another', '');
    expect(await writeTotals(nc, 'LF_ARCHIVE_INDEX', new Map([['2024-03', { runs: 0, bytes: 0 }]]), seen)).toBe(false);
    expect(await current()).toBe(false);
    expect((await store.archive().periods()).map((p) => p.runs)).toEqual([1, 2, 8]);
    expect(await current()).toBe(true);
    await store.close();
  }, 60_000);
});
