/**
 * The run index of the file store: `<store>/index/runs.json`, a cache of each
 * run's record keyed by its file's size, mtime and inode. A query stats every
 * run file and re-reads only the ones that changed; the cache is written back
 * (atomically: a new file renamed over the old) when anything did. Never
 * authoritative: a missing, stale or damaged cache is rebuilt from the files,
 * and deleting it changes no result, only the time a query takes. A
 * long-lived reader keeps the records in memory and follows `runs/`.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CorruptRunError } from '../errors/index.js';
import { RUN_ID_PATTERN } from '../events/index.js';
import type { CorruptRun, FileEventStore } from '../store/index.js';
import type { RunIndex, RunIndexOptions } from './port.js';
import { pageOf, type RunPage, type RunQuery } from './query.js';
import { recordOf, type RunRecord } from './record.js';
import { RunRecordSchema } from './record-schema.js';

const CACHE_VERSION = 1;
const STAT_BATCH = 64;
const READ_BATCH = 16;

interface Entry {
  size: number;
  mtimeMs: number;
  ino: number;
  record: RunRecord | null;
  corrupt: { file: string; reason: string } | null;
}

const CacheFileSchema = z.object({
  version: z.literal(CACHE_VERSION),
  runs: z.record(z.string(), z.object({
    size: z.number(), mtimeMs: z.number(), ino: z.number(),
    record: RunRecordSchema.nullable(), corrupt: z.object({ file: z.string(), reason: z.string() }).nullable(),
  })),
});

export class FileRunIndex implements RunIndex {
  private entries: Map<string, Entry> | null = null;
  private running: Promise<RunRecord[]> | null = null;
  private readonly subs = new Set<() => void>();
  readonly cacheFile: string;

  constructor(private readonly store: FileEventStore, private readonly opts: RunIndexOptions & { storeDir?: string } = {}) {
    this.cacheFile = join(opts.storeDir ?? store.dir, 'index', 'runs.json');
  }

  async query(q: RunQuery): Promise<RunPage> {
    await this.refresh();
    const records: RunRecord[] = [];
    for (const [runId, e] of this.entries!) {
      if (e.record) records.push(e.record);
      else if (e.corrupt) this.opts.onCorrupt?.({ runId, ...e.corrupt });
    }
    return pageOf(records, q, 'newest');
  }

  async get(runId: string): Promise<RunRecord | null> {
    if (!RUN_ID_PATTERN.test(runId)) return null;
    const events = await this.store.read(runId);
    return events.length > 0 ? recordOf(events) : null;
  }

  subscribe(onChange: (r: RunRecord) => void): { close(): void } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const look = async () => {
      try {
        for (const r of await this.refresh()) if (!stopped) onChange(r);
      } catch (err) {
        process.emitWarning(`ledgerflow: run index of ${this.store.runsDir}: ${(err as Error).message}`, 'LedgerflowIndexWarning');
      }
    };
    // A burst of appends (one per commit) is looked at once: debounced.
    const soon = () => {
      if (timer || stopped) return;
      timer = setTimeout(() => { timer = undefined; void look(); }, 50);
      timer.unref();
    };
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(this.store.runsDir, { persistent: false }, soon);
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = undefined; // no runs/ yet, or no watch here: the poll below still finds changes
    }
    // Watch events can be missed or coalesced: a periodic look as well.
    const poll = setInterval(soon, this.opts.pollMs ?? 1000);
    poll.unref();
    const close = () => { stopped = true; watcher?.close(); clearInterval(poll); if (timer) clearTimeout(timer); this.subs.delete(close); };
    this.subs.add(close);
    void look();
    return { close };
  }

  async close(): Promise<void> {
    for (const close of [...this.subs]) close();
    await this.running?.catch(() => undefined);
  }

  /** One refresh at a time; a caller arriving during one waits for it and then runs its own (it may have missed a change). */
  private async refresh(): Promise<RunRecord[]> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.refreshNow();
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  /** Stats every run file, re-reads the changed ones; returns the records that changed. */
  private async refreshNow(): Promise<RunRecord[]> {
    this.entries ??= await this.loadCache();
    const entries = this.entries;
    let names: string[];
    try {
      names = await readdir(this.store.runsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      names = [];
    }
    const runIds = names.filter((n) => n.endsWith('.jsonl')).map((n) => n.slice(0, -'.jsonl'.length)).filter((id) => RUN_ID_PATTERN.test(id));
    let dirty = false;
    const present = new Set(runIds);
    for (const id of [...entries.keys()]) if (!present.has(id)) { entries.delete(id); dirty = true; }
    const stale: { runId: string; size: number; mtimeMs: number; ino: number }[] = [];
    for (let i = 0; i < runIds.length; i += STAT_BATCH) {
      const batch = await Promise.all(runIds.slice(i, i + STAT_BATCH).map(async (runId) => {
        try {
          const st = await stat(join(this.store.runsDir, `${runId}.jsonl`));
          return { runId, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // deleted meanwhile
          throw err;
        }
      }));
      for (const s of batch) {
        if (!s) continue;
        const had = entries.get(s.runId);
        if (!had || had.size !== s.size || had.mtimeMs !== s.mtimeMs || had.ino !== s.ino) stale.push(s);
      }
    }
    const changed: RunRecord[] = [];
    for (let i = 0; i < stale.length; i += READ_BATCH) {
      const batch = await Promise.all(stale.slice(i, i + READ_BATCH).map((s) => this.readEntry(s)));
      for (const [s, e] of batch) {
        dirty = true;
        if (!e) { entries.delete(s.runId); continue; }
        entries.set(s.runId, e);
        if (e.record) changed.push(e.record);
      }
    }
    if (dirty) await this.saveCache(entries);
    return changed;
  }

  /** The entry of a run whose file changed (stat taken before the read: a later append makes it stale again, never wrong). */
  private async readEntry(s: { runId: string; size: number; mtimeMs: number; ino: number }): Promise<[typeof s, Entry | null]> {
    const base = { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
    try {
      const events = await this.store.read(s.runId);
      if (events.length === 0) return [s, null]; // empty or removed: not a run
      return [s, { ...base, record: recordOf(events), corrupt: null }];
    } catch (err) {
      if (err instanceof CorruptRunError) return [s, { ...base, record: null, corrupt: { file: err.where, reason: err.reason } }];
      throw err;
    }
  }

  private async loadCache(): Promise<Map<string, Entry>> {
    let text: string;
    try {
      text = await readFile(this.cacheFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw err;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      raw = null; // a damaged cache is rebuilt from the run files, as a missing one is
    }
    const parsed = CacheFileSchema.safeParse(raw);
    return parsed.success ? new Map(Object.entries(parsed.data.runs) as [string, Entry][]) : new Map();
  }

  private async saveCache(entries: Map<string, Entry>): Promise<void> {
    await mkdir(join(this.cacheFile, '..'), { recursive: true });
    const tmp = `${this.cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: CACHE_VERSION, runs: Object.fromEntries(entries) }));
    await rename(tmp, this.cacheFile); // readers see the old cache or the new one, never half of one
  }
}

export type { CorruptRun };
