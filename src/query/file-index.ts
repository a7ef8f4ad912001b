/**
 * The run index of the file store: `<store>/index/runs.jsonl`, a cache of each run's record keyed by its file's size,
 * mtime and inode. A query stats every run file and re-reads only the ones that changed; the cache is written back
 * (atomically: a new file renamed over the old) when anything did. Never authoritative: a missing, stale or damaged
 * cache is rebuilt from the files, and deleting it changes no result, only the time a query takes.
 *
 * A long-lived reader (`live`, or any subscription) keeps the records in memory and follows `runs/`: fs.watch names the
 * files that changed (only those are stat'ed and read, a run not settled is continued from its last event), a cheap
 * look every `pollMs` catches what the watch missed (a readdir when the directory changed, a stat of the runs not
 * settled), and a full stat sweep every `sweepMs` the rest. Its queries answer from memory.
 *
 * The cache itself (loaded, written back, what it witnessed of each run) is file-index-disk.ts, which this extends with
 * the looks at the run files.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../errors/index.js';
import type { CorruptRun } from '../store/index.js';
import { RUN_ID_PATTERN, SETTLED_STATUSES } from '../events/index.js';
import type { KeptVersion } from './cache-figures.js';
import type { CacheEntry } from './cache-lines.js';
import { DIR_SETTLE_MS } from './cache-ids.js';
import { figuresFromTail, pageFromTail } from './cache-tail.js';
import { damageOf, recordedOf } from './file-index-disk.js';
import { FileIndexReads, type Stat } from './file-index-read.js';
import type { RunRecord } from './record.js';
import { revealRecord } from './record-values.js';
import type { RunPage } from './paging.js';
import { pagesOnly, type RunQuery } from './query.js';

/**
 * Run files stat'ed in one go, between two turns of the event loop. A stat here is synchronous: 100,000 took 0.4 s so
 * against 1.5–2.7 s through the thread pool (each a round trip), and a slice of them holds the loop ~3 ms.
 */
const STAT_SLICE = 512;
/** Run files read and folded at once (a pool: one slow file does not hold the others). */
const READ_CONCURRENCY = 32;
/** A follower writes the cache back at most this often (it is 70 MB at 100,000 runs): and when it closes. */
const SAVE_EVERY_MS = 10 * 60_000;
/** Watch events are gathered this long: a burst of appends to one run is read once. */
const WATCH_DEBOUNCE_MS = 25;
/** Run logs to read from which a look tells `onProgress` it starts (read 0), then how far it has come (a few hundred take well under a second). */
const PROGRESS_FROM = 1_000;
/** How often it is told. */
const PROGRESS_EVERY_MS = 1_000;

interface Following {
  watcher: FSWatcher | null;
  timers: NodeJS.Timeout[];
  pending: Set<string>;
  flush: NodeJS.Timeout | null;
  dirMtimeMs: number;
}

export class FileRunIndex extends FileIndexReads {
  /** Every look at the files runs in this one lane: a look never interleaves with another. */
  private lane: Promise<unknown> = Promise.resolve();
  private following: Following | null = null;
  private started: Promise<void> | null = null;
  /** Whether the records are held (ready() has built them): a live index answers from them from then on. */
  private built = false;

  override async close(): Promise<void> {
    await super.close();
    await this.serial(() => this.saveIfDirty());
    this.cold.close();
  }

  /**
   * A query that only pages, asked once (`list`), or asked of a live index whose records are still being built (the
   * dashboard's first page on a large store: building 100,000 records took 3-4 s): the page read from the cache's end
   * (cache-tail.ts) when the cache vouches for it, without the look at every run file; else, and for every other
   * query, the records as current().
   */
  override async query(q: RunQuery): Promise<RunPage> {
    const held = this.opts.live || this.following !== null;
    if (pagesOnly(q) && !(held && this.built)) {
      const fromTail = async () => {
        await this.store.ready(); // a commit a crash left in the journal is in its log first, as for any read
        const sealer = await this.sealerReady();
        const reveal = sealer ? (r: RunRecord) => revealRecord(sealer, r) : undefined;
        return pageFromTail(this.cacheFile, this.store.runsDir, q, (ids) => this.readMade(ids), reveal);
      };
      // Asked once: in the lane. While the records are built (the lane busy): beside it, as it only reads.
      if (held) void this.ready().catch((err: unknown) => this.warn(err));
      const tail = held ? await fromTail() : await this.serial(fromTail);
      if (tail) {
        for (const c of tail.corrupt) this.opts.onCorrupt?.(c);
        for (const d of tail.damaged) this.opts.onDamaged?.(d);
        return tail.page;
      }
    }
    return super.query(q);
  }

  /**
   * What `stats` reads of a workflow without the whole look (cache-figures.ts): the kept figures of its settled runs and
   * the records of its others, when asked once (not live, not followed) and the cache vouches for itself; else null.
   */
  async keptFigures(workflowId: string): Promise<{ kept: Record<string, KeptVersion>; others: RunRecord[] } | null> {
    if (this.opts.live || this.following) return null;
    const got = await this.serial(async () => {
      await this.store.ready(); // a commit a crash left in the journal is in its log first, as for any read
      return figuresFromTail(this.cacheFile, this.store.runsDir, workflowId, (ids) => this.readMade(ids));
    });
    if (!got) return null;
    for (const c of got.corrupt) this.opts.onCorrupt?.(c);
    return { kept: got.kept, others: got.others };
  }

  /**
   * Runs a page from the cache's end did not find in it (made since, or in flight and moved on), read from their logs
   * as the whole look reads them (their records as it holds them: values opened).
   */
  private async readMade(runIds: string[]): Promise<{ records: RunRecord[]; corrupt: CorruptRun[] }> {
    const records: RunRecord[] = [];
    const corrupt: CorruptRun[] = [];
    await pool(runIds, READ_CONCURRENCY, async (runId) => {
      const st = statSync(join(this.store.runsDir, `${runId}.jsonl`), { throwIfNoEntry: false });
      const s = st && { runId, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
      const got = s && (await this.readEntry(s, undefined, undefined, this.following !== null));
      if (!got) return; // removed meanwhile, or empty: not a run
      if (got.entry.corrupt) corrupt.push({ runId, ...got.entry.corrupt });
      else if (got.record) records.push(got.record);
    });
    return { records, corrupt };
  }

  /** Live or subscribed: the records held (built once, then followed). Else: every file stat'ed now. */
  protected async current(): Promise<void> {
    if (this.opts.live || this.following) return this.ready();
    await this.lookAll();
  }

  /** Every file stat'ed (those that changed read), and the cache written back when anything did. */
  private lookAll(): Promise<void> {
    return this.serial(async () => {
      await this.scan('all');
      await this.saveIfDirty();
    });
  }

  /** Builds the records once (the cache, then the files that changed) and starts following runs/. */
  protected ready(): Promise<void> {
    this.started ??= this.lookAll().then(
      () => {
        this.built = true;
        this.follow();
      },
      (err: unknown) => {
        this.started = null;
        throw err;
      },
    );
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
    const sweep = setInterval(
      () => void this.serial(() => this.scan('all')).catch((err: unknown) => this.warn(err)),
      this.opts.sweepMs ?? 300_000,
    );
    const save = setInterval(
      () => void this.serial(() => this.saveIfDirty()).catch((err: unknown) => this.warn(err)),
      SAVE_EVERY_MS,
    );
    for (const t of [poll, sweep, save]) {
      t.unref();
      f.timers.push(t);
    }
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
      w.on('error', () => {
        w.close();
        if (f.watcher === w) f.watcher = null;
      });
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
    this.built = false;
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

  /**
   * `all`: readdir, stat every run file, read the changed ones. `light` (a follower's poll): readdir only when runs/
   * itself changed (a run file made or removed), and stat only new runs, runs not settled and corrupt ones. Tells
   * listeners about each record that changed.
   */
  private async scan(mode: 'all' | 'light'): Promise<void> {
    await this.sealerReady();
    const entries = (this.entries ??= await this.loadCache());
    let runIds: string[] | null = null;
    if (mode === 'all' || (await this.dirChanged())) {
      // runs/ as it stood before its listing: vouched for (a page needs no listing while it stays so) once it is
      // DIR_SETTLE_MS old, when no file made after the listing can share its mtime.
      const dir = statSync(this.store.runsDir, { throwIfNoEntry: false });
      const age = dir ? Date.now() - dir.mtimeMs : 0;
      this.dirStable = dir && age > DIR_SETTLE_MS ? dir.mtimeMs : null;
      if (this.dirStable !== this.dirLoaded) this.dirty = true;
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
      for (const h of this.set.values()) if (!SETTLED_STATUSES.includes(h.status)) wanted.add(h.runId);
      look = [...wanted];
    }
    await this.update(look);
  }

  /** Whether runs/ changed since the last look (its mtime moves when a file is made or removed in it). */
  private async dirChanged(): Promise<boolean> {
    const f = this.following;
    const st = await stat(this.store.runsDir).catch(() => null);
    const m = st?.mtimeMs ?? 0;
    if (!f || f.dirMtimeMs !== m) {
      if (f) f.dirMtimeMs = m;
      return true;
    }
    return false;
  }

  /** Stats the given runs and reads the ones whose file changed (gone: dropped). */
  private async update(runIds: string[]): Promise<void> {
    await this.sealerReady();
    const entries = (this.entries ??= await this.loadCache());
    const stale: Stat[] = [];
    for (let i = 0; i < runIds.length; i += STAT_SLICE) {
      if (i > 0) await new Promise((r) => setImmediate(r)); // a slice at a time: requests are answered between slices
      for (const runId of runIds.slice(i, i + STAT_SLICE)) {
        const st = statSync(join(this.store.runsDir, `${runId}.jsonl`), { throwIfNoEntry: false });
        if (!st) {
          this.drop(runId);
          continue;
        } // deleted
        const had = entries.get(runId);
        if (!had || had.size !== st.size || had.mtimeMs !== st.mtimeMs || had.ino !== st.ino)
          stale.push({ runId, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
      }
    }
    const records: RunRecord[] = [];
    // Reading 100,000 logs takes half a minute: a caller told how far it has come says so (a long silence reads as a hang).
    let read = 0;
    const tell = this.opts.onProgress;
    const long = tell !== undefined && stale.length >= PROGRESS_FROM;
    if (long) tell(0, stale.length);
    const ticker = long ? setInterval(() => tell(read, stale.length), PROGRESS_EVERY_MS) : null;
    ticker?.unref();
    try {
      await pool(stale, READ_CONCURRENCY, async (s) => {
        try {
          await this.take(entries, s, records);
        } finally {
          read++;
        }
      });
    } finally {
      if (ticker) clearInterval(ticker);
    }
    // Many at once (a build): sorted once; a few (a follower's look): each put in its place.
    const changed = records.length > 64 ? this.set.putAll(records) : records.filter((r) => this.set.put(r));
    for (const r of changed) for (const l of this.listeners) l(r);
  }

  /** Reads one changed run's log into its entry and record (gone: dropped; damaged or corrupt: kept so). */
  private async take(entries: Map<string, CacheEntry>, s: Stat, records: RunRecord[]): Promise<void> {
    const had = entries.get(s.runId);
    const held = this.set.held(s.runId);
    const got = await this.readEntry(s, had, held, this.following !== null);
    if (!got) {
      this.drop(s.runId);
      return;
    }
    const { entry: e, record } = got;
    // What this index recorded of the run before: a log that no longer reaches it lost events (damage.ts).
    const recorded = recordedOf(had, held);
    if (record && recorded && record.lastSeq < recorded.seq) {
      e.damaged = recorded;
      this.damaged.set(s.runId, damageOf(s.runId, recorded, record.lastSeq, this.cacheFile, this.store.runsDir));
    } else this.damaged.delete(s.runId);
    entries.set(s.runId, e);
    this.dirty = true;
    if (e.corrupt) {
      this.corrupt.set(s.runId, e.corrupt);
      this.set.delete(s.runId);
      return;
    }
    this.corrupt.delete(s.runId);
    // A file replaced (another inode) or cut short holds a shorter log: its record replaces the old one whatever its seq.
    if (had && (had.ino !== s.ino || e.damaged)) this.set.delete(s.runId);
    if (record) records.push(record);
  }

  private drop(runId: string): void {
    if (this.entries?.delete(runId)) this.dirty = true;
    this.set.delete(runId);
    this.corrupt.delete(runId);
    this.damaged.delete(runId);
    this.tracked.delete(runId);
  }
}

/** Runs `fn` over `items` with at most `n` at once. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
