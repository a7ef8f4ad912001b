/**
 * `archive list`'s counts on the file store, kept in `<dir>/archive/summary.json` so listing reads one small file and
 * 64 stats instead of every index line. Derived data: the file records the size and mtime of every index shard as they
 * were when it was written, and counts only while the shards are still exactly that. Any write it did not account for
 * (a move killed before the summary was written, recovery's withdrawals, an older version's move) changes a shard and
 * makes the next `archive list` count again from the shards (the full pass) and write it afresh. Written only under the
 * store's `archive` lock, after the shards it counts.
 */
import { rename, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir, unlessMissing, writeSynced } from '../durable-fs.js';
import type { ArchiveShards } from './shards.js';

/** Runs archived per period (periods with none left out). */
export type PeriodCounts = Map<string, number>;

interface SummaryFile {
  periods: Record<string, number>;
  shards: Record<string, [number, number]>;
}

export class ArchiveSummary {
  private readonly path: string;

  constructor(
    private readonly dir: string,
    private readonly shards: ArchiveShards,
  ) {
    this.path = join(dir, 'summary.json');
  }

  /** The counts, when the summary was written after the shards' last change; null when it is missing or stale. */
  async read(): Promise<PeriodCounts | null> {
    const text = await unlessMissing(readFile(this.path, 'utf8'));
    if (text === null) return null;
    let file: SummaryFile;
    try {
      file = JSON.parse(text) as SummaryFile;
    } catch {
      return null; // torn: counted again
    }
    if (!same(await this.shards.stamp(), file.shards ?? {})) return null;
    return new Map(Object.entries(file.periods ?? {}));
  }

  /**
   * The full pass: every index line read, without the archive's lock (at a million runs it takes seconds, which moves
   * would wait); then, under it (`locked`), the summary written if no shard changed meanwhile.
   */
  async rebuild(locked: (fn: () => Promise<void>) => Promise<void>): Promise<PeriodCounts> {
    const before = await this.shards.stamp();
    const counts: PeriodCounts = new Map();
    for await (const entries of this.shards.byShard())
      for (const e of entries) counts.set(e.period, (counts.get(e.period) ?? 0) + 1);
    await locked(async () => {
      if (same(await this.shards.stamp(), before)) await this.write(counts);
    });
    return counts;
  }

  /** Records `counts` as what the shards hold now (the caller has just made them so). */
  async write(counts: PeriodCounts): Promise<void> {
    const periods: Record<string, number> = {};
    for (const [p, n] of [...counts].sort(([a], [b]) => a.localeCompare(b))) if (n > 0) periods[p] = n;
    const file: SummaryFile = { periods, shards: await this.shards.stamp() };
    const tmp = `${this.path}.tmp`;
    await writeSynced(tmp, JSON.stringify(file));
    await rename(tmp, this.path);
    await syncDir(this.dir);
  }
}

function same(a: Record<string, [number, number]>, b: Record<string, [number, number]>): boolean {
  if (Object.keys(a).length !== Object.keys(b).length) return false;
  return Object.entries(a).every(([shard, [size, mtime]]) => b[shard]?.[0] === size && b[shard]?.[1] === mtime);
}

/** `counts` with `delta` runs added to each period's (negative: taken away). */
export function adjusted(counts: PeriodCounts, delta: Map<string, number>): PeriodCounts {
  const out = new Map(counts);
  for (const [p, n] of delta) out.set(p, (out.get(p) ?? 0) + n);
  for (const [p, n] of out) if (n <= 0) out.delete(p);
  return out;
}
