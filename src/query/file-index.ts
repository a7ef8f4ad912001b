/**
 * The run index of the file store: `<store>/index/runs.json`, a cache of each
 * run's record keyed by its file's size, mtime and inode. A query stats every
 * run file and re-reads only the ones that changed; the cache is written back
 * (atomically: a new file renamed over the old) when anything did. Never
 * authoritative: a missing, stale or damaged cache is rebuilt from the files,
 * and deleting it changes no result, only the time a query takes.
 *
 * A long-lived reader (`live`, or any subscription) keeps the records in
 * memory and follows `runs/`: fs.watch names the files that changed (only
 * those are stat'ed and read, a run not settled is continued from its last
 * event), a cheap look every `pollMs` catches what the watch missed (a readdir
 * when the directory changed, a stat of the runs not settled), and a full
 * stat sweep every `sweepMs` the rest. Its queries answer from memory.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CorruptRunError, errorMessage } from '../errors/index.js';
import { RUN_ID_PATTERN, SETTLED_STATUSES, WorkflowStatus } from '../events/index.js';
import type { CorruptRun, FileEventStore } from '../store/index.js';
import { storeIoError } from '../store/io-errors.js';
import type { DamagedLog, RunIndexOptions } from './port.js';
import { HeldRunIndex } from './held-index.js';
import { advance, RecordGapError, track, type RunRecord, type TrackedRun } from './record.js';
import { RunRecordSchema } from './record-schema.js';

/**
 * 2: a run's agents include who reported its attempts' outcomes (2026-11-26); a cache of 1 is rebuilt from the logs.
 * 3: records hold search attributes (`search`, `searchTypes`); a cache of 2 is rebuilt from the logs.
 */
const CACHE_VERSION = 3;
/** Files stat'ed at once, and run files read and folded at once (a pool: one slow file does not hold the others). */
const STAT_CONCURRENCY = 64;
const READ_CONCURRENCY = 32;
/** A follower writes the cache back at most this often (it is 70 MB at 100,000 runs): and when it closes. */
const SAVE_EVERY_MS = 10 * 60_000;
/** Watch events are gathered this long: a burst of appends to one run is read once. */
const WATCH_DEBOUNCE_MS = 25;

interface Entry {
  size: number;
  mtimeMs: number;
  ino: number;
  record: RunRecord | null;
  corrupt: { file: string; reason: string } | null;
  /**
   * The log is shorter than this index once recorded it (damage.ts): what it
   * recorded, kept until the log reaches that event again or `reindex`
   * forgets it. Absent when the log is whole.
   */
  damaged?: Recorded;
}
/** The last event (and the status it led to) this index recorded of a run. */
export interface Recorded { seq: number; status: WorkflowStatus }
interface Stat { runId: string; size: number; mtimeMs: number; ino: number }

const CacheFileSchema = z.object({
  version: z.literal(CACHE_VERSION),
  runs: z.record(z.string(), z.object({
    size: z.number(), mtimeMs: z.number(), ino: z.number(),
    record: RunRecordSchema.nullable(), corrupt: z.object({ file: z.string(), reason: z.string() }).nullable(),
    damaged: z.object({ seq: z.number(), status: WorkflowStatus }).optional(),
  })),
});

interface Following { watcher: FSWatcher | null; timers: NodeJS.Timeout[]; pending: Set<string>; flush: NodeJS.Timeout | null; dirMtimeMs: number }

export class FileRunIndex extends HeldRunIndex<RunIndexOptions & { storeDir?: string }> {
  private entries: Map<string, Entry> | null = null;
  private readonly corrupt = new Map<string, { file: string; reason: string }>();
  /** Runs whose log is shorter than this index recorded it, told to `onDamaged` at every query. */
  private readonly damaged = new Map<string, DamagedLog>();
  /** Runs not settled, with their fold, while following: the next change continues them. */
  private readonly tracked = new Map<string, TrackedRun>();
  /** Every look at the files runs in this one lane: a look never interleaves with another. */
  private lane: Promise<unknown> = Promise.resolve();
  private following: Following | null = null;
  private started: Promise<void> | null = null;
  private dirty = false;
  /** The cache could not be read or written: said once (a query goes on from the run files). */
  private cacheWarned = false;
  readonly cacheFile: string;

  constructor(private readonly store: FileEventStore, opts: RunIndexOptions & { storeDir?: string } = {}) {
    super(store, opts);
    this.cacheFile = join(opts.storeDir ?? store.dir, 'index', 'runs.json');
  }

  protected corruptRuns(): Iterable<CorruptRun> {
    return [...this.corrupt].map(([runId, c]) => ({ runId, ...c }));
  }

  protected override damagedRuns(): Iterable<DamagedLog> {
    return this.damaged.values();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.unfollow();
    await this.serial(async () => { if (this.dirty && this.entries) await this.saveCache(this.entries); });
  }

  /** Live or subscribed: the records held (built once, then followed). Else: every file stat'ed now. */
  protected async current(): Promise<void> {
    if (this.opts.live || this.following) return this.ready();
    await this.serial(async () => {
      await this.scan('all');
      if (this.dirty && this.entries) await this.saveCache(this.entries);
    });
  }

  /** Builds the records once (the cache, then the files that changed) and starts following runs/. */
  protected ready(): Promise<void> {
    this.started ??= this.serial(async () => {
      await this.scan('all');
      if (this.dirty && this.entries) await this.saveCache(this.entries);
    }).then(() => this.follow(), (err: unknown) => { this.started = null; throw err; });
    return this.started;
  }

  private follow(): void {
    if (this.following || this.closed) return;
    const f: Following = { watcher: null, timers: [], pending: new Set(), flush: null, dirMtimeMs: -1 };
    this.following = f;
    this.watchRuns(f);
    const poll = setInterval(() => {
      if (!f.watcher) this.watchRuns(f); // runs/ did not exist yet, or the watch failed
      void this.serial(() => this.scan('light')).catch((err: unknown) => this.warn(err));
    }, this.opts.pollMs ?? 1000);
    const sweep = setInterval(() => void this.serial(() => this.scan('all')).catch((err: unknown) => this.warn(err)), this.opts.sweepMs ?? 300_000);
    const save = setInterval(() => void this.serial(async () => { if (this.dirty && this.entries) await this.saveCache(this.entries); }).catch((err: unknown) => this.warn(err)), SAVE_EVERY_MS);
    for (const t of [poll, sweep, save]) { t.unref(); f.timers.push(t); }
  }

  private watchRuns(f: Following): void {
    try {
      const w = watch(this.store.runsDir, { persistent: false }, (_type, name) => {
        const file = name === null ? '' : String(name);
        if (!file.endsWith('.jsonl')) return; // locks, driver leases, torn tails
        f.pending.add(file.slice(0, -'.jsonl'.length));
        f.flush ??= setTimeout(() => {
          f.flush = null;
          const ids = [...f.pending].filter((id) => RUN_ID_PATTERN.test(id));
          f.pending.clear();
          void this.serial(() => this.update(ids)).catch((err: unknown) => this.warn(err));
        }, WATCH_DEBOUNCE_MS);
      });
      w.on('error', () => { w.close(); if (f.watcher === w) f.watcher = null; });
      f.watcher = w;
    } catch {
      f.watcher = null; // no runs/ yet, or no watch here: the next poll tries again, and looks meanwhile
    }
  }

  protected unfollow(): void {
    const f = this.following;
    if (!f) return;
    f.watcher?.close();
    for (const t of f.timers) clearInterval(t);
    if (f.flush) clearTimeout(f.flush);
    this.following = null;
    this.started = null;
    this.tracked.clear();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lane.then(fn, fn);
    this.lane = run.catch(() => undefined);
    return run;
  }

  protected warn(err: unknown): void {
    const message = `run index of ${this.store.runsDir}: ${errorMessage(err)}`;
    if (this.opts.onWarning) this.opts.onWarning(message);
    else process.emitWarning(`ledgerflow: ${message}`, 'LedgerflowIndexWarning');
  }

  /** A cache that cannot be read or written costs time, never an answer: warned about once, and the query goes on. */
  private cacheFailed(what: string, err: unknown): void {
    if (this.cacheWarned) return;
    this.cacheWarned = true;
    this.warn(storeIoError(`cannot ${what} its cache ${this.cacheFile}`, err, {}, '; the runs are read from their logs instead (only slower)'));
  }

  /**
   * `all`: readdir, stat every run file, read the changed ones. `light` (a
   * follower's poll): readdir only when runs/ itself changed (a run file
   * made or removed), and stat only new runs, runs not settled and corrupt
   * ones. Tells listeners about each record that changed.
   */
  private async scan(mode: 'all' | 'light'): Promise<void> {
    const entries = (this.entries ??= await this.loadCache());
    let runIds: string[] | null = null;
    if (mode === 'all' || (await this.dirChanged())) {
      const listing = await this.store.runFiles();
      runIds = listing.runIds;
      const present = new Set(runIds);
      for (const id of [...entries.keys()]) if (!present.has(id)) this.drop(id);
    }
    let look: string[];
    if (mode === 'all') look = runIds!;
    else {
      const wanted = new Set<string>();
      for (const id of runIds ?? []) if (!entries.has(id)) wanted.add(id);
      for (const id of this.tracked.keys()) wanted.add(id);
      for (const id of this.corrupt.keys()) wanted.add(id);
      for (const [id, e] of entries) if (e.record && !SETTLED_STATUSES.includes(e.record.status)) wanted.add(id);
      look = [...wanted];
    }
    await this.update(look);
  }

  /** Whether runs/ changed since the last look (its mtime moves when a file is made or removed in it). */
  private async dirChanged(): Promise<boolean> {
    const f = this.following;
    const st = await stat(this.store.runsDir).catch(() => null);
    const m = st?.mtimeMs ?? 0;
    if (!f || f.dirMtimeMs !== m) { if (f) f.dirMtimeMs = m; return true; }
    return false;
  }

  /** Stats the given runs and reads the ones whose file changed (gone: dropped). */
  private async update(runIds: string[]): Promise<void> {
    const entries = (this.entries ??= await this.loadCache());
    const stale: Stat[] = [];
    await pool(runIds, STAT_CONCURRENCY, async (runId) => {
      let st;
      try {
        st = await stat(join(this.store.runsDir, `${runId}.jsonl`));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.drop(runId); // deleted
        return;
      }
      const had = entries.get(runId);
      if (!had || had.size !== st.size || had.mtimeMs !== st.mtimeMs || had.ino !== st.ino) stale.push({ runId, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
    });
    const records: RunRecord[] = [];
    await pool(stale, READ_CONCURRENCY, async (s) => {
      const e = await this.readEntry(s, entries.get(s.runId));
      if (!e) { this.drop(s.runId); return; }
      const had = entries.get(s.runId);
      // What this index recorded of the run before: a log that no longer reaches it lost events (damage.ts).
      const recorded = recordedOf(had);
      if (e.record && recorded && e.record.lastSeq < recorded.seq) {
        e.damaged = recorded;
        this.damaged.set(s.runId, damageOf(s.runId, recorded, e.record.lastSeq, this.cacheFile, this.store.runsDir));
      } else this.damaged.delete(s.runId);
      entries.set(s.runId, e);
      this.dirty = true;
      if (e.corrupt) { this.corrupt.set(s.runId, e.corrupt); this.set.delete(s.runId); return; }
      this.corrupt.delete(s.runId);
      // A file replaced (another inode) or cut short holds a shorter log: its record replaces the old one whatever its seq.
      if (had && (had.ino !== s.ino || e.damaged)) this.set.delete(s.runId);
      if (e.record) records.push(e.record);
    });
    // Many at once (a build): sorted once; a few (a follower's look): each put in its place.
    const changed = records.length > 64 ? this.set.putAll(records) : records.filter((r) => this.set.put(r));
    for (const r of changed) for (const l of this.listeners) l(r);
  }

  private drop(runId: string): void {
    if (this.entries?.delete(runId)) this.dirty = true;
    this.set.delete(runId);
    this.corrupt.delete(runId);
    this.damaged.delete(runId);
    this.tracked.delete(runId);
  }

  /**
   * The entry of a run whose file changed, read up to the size just stat'ed
   * (a later append makes it stale again, never wrong). A run followed here is
   * continued from its last event, and so is a settled run whose file only
   * grew (notifications noted after it settled change nothing but its last
   * seq: folding its whole log again would give the same record); any other
   * is folded from its whole log.
   */
  private async readEntry(s: Stat, had: Entry | undefined): Promise<Entry | null> {
    const base = { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
    try {
      const events = await this.store.readStatted(s.runId, s);
      if (events.length === 0) return null; // empty or removed: not a run
      let run: TrackedRun | null = null;
      const t = had?.ino === s.ino ? this.tracked.get(s.runId) ?? settledRun(had, s) : undefined;
      // A log that ends before the run followed here was cut short: folded again from what it holds.
      if (t && events.at(-1)!.seq >= t.record.lastSeq) {
        try {
          run = advance(t, events.filter((e) => e.seq > t.record.lastSeq));
        } catch (err) {
          if (!(err instanceof RecordGapError)) throw err; // the log is not the one followed: folded again below
        }
      }
      run ??= track(events);
      if (this.following && !SETTLED_STATUSES.includes(run.record.status)) this.tracked.set(s.runId, run);
      else this.tracked.delete(s.runId);
      return { ...base, record: run.record, corrupt: null };
    } catch (err) {
      if (err instanceof CorruptRunError) { this.tracked.delete(s.runId); return { ...base, record: null, corrupt: { file: err.where, reason: err.reason } }; }
      throw err;
    }
  }

  private async loadCache(): Promise<Map<string, Entry>> {
    let text: string;
    try {
      text = await readFile(this.cacheFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.cacheFailed('read', err);
      return new Map();
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      raw = null; // a damaged cache is rebuilt from the run files, as a missing one is
    }
    const parsed = CacheFileSchema.safeParse(raw);
    const entries = parsed.success ? new Map(Object.entries(parsed.data.runs) as [string, Entry][]) : new Map<string, Entry>();
    const records: RunRecord[] = [];
    for (const [id, e] of entries) {
      if (e.record) records.push(e.record);
      else if (e.corrupt) this.corrupt.set(id, e.corrupt);
      if (e.record && e.damaged) this.damaged.set(id, damageOf(id, e.damaged, e.record.lastSeq, this.cacheFile, this.store.runsDir));
    }
    this.set.putAll(records);
    return entries;
  }

  /** Never fails a query: a cache that cannot be written (a disk full) is warned about once, kept dirty, and its partial file removed. */
  private async saveCache(entries: Map<string, Entry>): Promise<void> {
    const tmp = `${this.cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    this.dirty = false;
    try {
      await mkdir(join(this.cacheFile, '..'), { recursive: true });
      await writeFile(tmp, JSON.stringify({ version: CACHE_VERSION, runs: Object.fromEntries(entries) }));
      await rename(tmp, this.cacheFile); // readers see the old cache or the new one, never half of one
    } catch (err) {
      this.dirty = true; // a later save (a follower's, or close) tries again
      await unlink(tmp).catch(() => undefined);
      this.cacheFailed('write', err);
    }
  }
}

/** The furthest this index recorded a run: its record, or what it kept of a log since cut short. */
function recordedOf(e: Entry | undefined): Recorded | null {
  if (!e?.record) return e?.damaged ?? null;
  const r: Recorded = { seq: e.record.lastSeq, status: e.record.status };
  return e.damaged && e.damaged.seq > r.seq ? e.damaged : r;
}

function damageOf(runId: string, recorded: Recorded, foundSeq: number, index: string, runsDir: string): DamagedLog {
  return { runId, recordedSeq: recorded.seq, recordedStatus: recorded.status, foundSeq, index, file: join(runsDir, `${runId}.jsonl`) };
}

/**
 * What the cache file at `cacheFile` recorded of each run (null: no cache, or
 * one that does not parse): how far each log reached when it was last read.
 */
export async function readRecorded(cacheFile: string): Promise<Map<string, Recorded> | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(cacheFile, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return null;
    throw err;
  }
  const parsed = CacheFileSchema.safeParse(raw);
  if (!parsed.success) return null;
  const out = new Map<string, Recorded>();
  for (const [id, e] of Object.entries(parsed.data.runs)) {
    const r = recordedOf(e as Entry);
    if (r) out.set(id, r);
  }
  return out;
}

/** A settled run's cached record, to continue when its file (the same one) only grew: nothing is folded for it any more. */
function settledRun(had: Entry | undefined, s: Stat): TrackedRun | undefined {
  const r = had?.record;
  if (!r || !had || s.size < had.size || !SETTLED_STATUSES.includes(r.status)) return undefined;
  return { record: r, compiled: null, snapshot: null, hash: '' };
}

/** Runs `fn` over `items` with at most `n` at once. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => { while (next < items.length) await fn(items[next++]!); };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

export type { CorruptRun };
