/**
 * The file run index's cache, `<store>/index/runs.jsonl` (lines in cache-lines.ts): each run's entry (its
 * file's size, mtime and inode) and record, read once into the records held and written back when anything
 * changed; settled records kept slim, their text left on disk (cold-records.ts); what the cache recorded of a
 * run kept as the witness a log cut short is told by (damage.ts). FileRunIndex (file-index.ts) extends this
 * with the looks at the run files and the following; this file is what it keeps between looks.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SETTLED_STATUSES } from '../events/index.js';
import type { CorruptRun, FileEventStore } from '../store/index.js';
import { storeIoError } from '../store/io-errors.js';
import { ColdRecords } from './cold-records.js';
import { HeldRunIndex } from './held-index.js';
import {
  cacheFileIn,
  loadCache as readCache,
  saveCache as writeCache,
  type CacheEntry,
  type Recorded,
} from './cache-lines.js';
import type { DamagedLog, RunIndexOptions } from './port.js';
import { RecordSet, slimOf, type HeldRecord, type SlimFields } from './record-set.js';
import type { RunRecord } from './record.js';
import { revealRecord, sealRecord } from './record-values.js';

export abstract class FileIndexCache extends HeldRunIndex<RunIndexOptions & { storeDir?: string }> {
  protected entries: Map<string, CacheEntry> | null = null;
  /** Settled records on disk (the cache loaded, and a private spill): the set keeps their slim rows. */
  protected readonly cold: ColdRecords;
  protected readonly corrupt = new Map<string, { file: string; reason: string }>();
  /** Runs whose log is shorter than this index recorded it, told to `onDamaged` at every query. */
  protected readonly damaged = new Map<string, DamagedLog>();
  protected dirty = false;
  /** The mtime of runs/ at the last full listing, when old enough to vouch for it (written in the trailer: cache-tail.ts). */
  protected dirStable: number | null = null;
  /** What the cache loaded said of runs/ (undefined: no trailer read). */
  protected dirLoaded: number | null | undefined = undefined;
  /** The cache could not be read or written: said once (a query goes on from the run files). */
  protected cacheWarned = false;
  readonly cacheFile: string;

  constructor(
    protected readonly store: FileEventStore,
    opts: RunIndexOptions & { storeDir?: string } = {},
  ) {
    super(store, opts);
    const indexDir = join(opts.storeDir ?? store.dir, 'index');
    this.cacheFile = cacheFileIn(indexDir);
    this.cold = new ColdRecords(indexDir, (err) =>
      this.warn(
        storeIoError(
          `cannot keep settled records on disk in ${indexDir}`,
          err,
          {},
          '; they are kept in memory instead',
        ),
      ),
    );
    this.set = new RecordSet(this.cold);
  }

  protected corruptRuns(): Iterable<CorruptRun> {
    return [...this.corrupt].map(([runId, c]) => ({ runId, ...c }));
  }

  protected override damagedRuns(): Iterable<DamagedLog> {
    return this.damaged.values();
  }

  protected async saveIfDirty(): Promise<void> {
    // A reader without the key that saw sealed values holds `[encrypted]` where the cache has them sealed: it keeps it as it is.
    if (this.sealer && !this.sealer.key && this.sealer.sawSealed) return;
    if (this.dirty && this.entries) await this.saveCache(this.entries);
  }

  /** A cache that cannot be read or written costs time, never an answer: warned about once, and the query goes on. */
  protected cacheFailed(what: string, err: unknown): void {
    if (this.cacheWarned) return;
    this.cacheWarned = true;
    this.warn(
      storeIoError(
        `cannot ${what} its cache ${this.cacheFile}`,
        err,
        {},
        '; the runs are read from their logs instead (only slower)',
      ),
    );
  }

  /** The cache read a line at a time: each settled record kept as its slim row, its text left in the cache file (held open). */
  protected async loadCache(): Promise<Map<string, CacheEntry>> {
    const entries = new Map<string, CacheEntry>();
    const held: HeldRecord[] = [];
    const file = this.cold.adopt();
    const sealer = await this.sealerReady();
    this.cold.sealer = sealer;
    let fd: number | null;
    try {
      this.dirLoaded = undefined;
      fd = await readCache(
        this.cacheFile,
        (l) => {
          // Values sealed (record-values.ts) opened; one sealed with a key not loaded here: the run is read from its log.
          const r = sealer && l.record ? revealRecord(sealer, l.record) : l.record;
          if (l.record && !r) return;
          entries.set(l.id, l.entry);
          if (l.settled) held.push(slimOf(r as SlimFields, this.cold.ref(file, l.at, l.len)));
          else if (r) held.push(r as RunRecord);
          else if (l.entry.corrupt) this.corrupt.set(l.id, l.entry.corrupt);
          if (r && l.entry.damaged)
            this.damaged.set(l.id, damageOf(l.id, l.entry.damaged, r.lastSeq, this.cacheFile, this.store.runsDir));
        },
        (t) => {
          // A cache of 6 (no figures or ids line: a page from its end cannot stand) counts as one that never listed runs/, so
          // is written again as 7 by the first whole look.
          this.dirLoaded = t.idsEnd === undefined || t.figuresEnd === undefined ? undefined : t.dirMtimeMs;
        },
      );
    } catch (err) {
      fd = null;
      this.cacheFailed('read', err);
    }
    if (fd === null) {
      this.cold.unadopt(file);
      this.corrupt.clear();
      this.damaged.clear();
      return new Map(); // no cache (or a damaged one): rebuilt from the run files, as a missing one is
    }
    this.cold.opened(file, fd);
    this.set.putAll(held);
    return entries;
  }

  /**
   * Writes the cache a line at a time, settled records copied from where they are kept; then refers to them in the new
   * file, so the spill and the old cache are let go. Never fails a query: a cache that cannot be written (a disk full)
   * is warned about once and kept dirty.
   */
  protected async saveCache(entries: Map<string, CacheEntry>): Promise<void> {
    this.dirty = false;
    const placed: [string, number, number][] = [];
    try {
      await mkdir(dirname(this.cacheFile), { recursive: true });
      const fd = await writeCache(
        this.cacheFile,
        this.lines(entries),
        (id, at, len) => {
          if (this.set.coldRef(id)) placed.push([id, at, len]);
        },
        this.dirStable,
      );
      this.dirLoaded = this.dirStable;
      const file = this.cold.adopt();
      for (const [id, at, len] of placed) this.set.repoint(id, this.cold.ref(file, at, len));
      this.cold.opened(file, fd); // closed at once if no settled record is kept slim
    } catch (err) {
      this.dirty = true; // a later save (a follower's, or close) tries again
      this.cacheFailed('write', err);
    }
  }

  /** Each run's cache line: its entry and its record's JSON text (from disk for a settled run kept slim). */
  protected *lines(entries: Map<string, CacheEntry>): Generator<[string, CacheEntry, string | null, boolean]> {
    // Settled runs first, in start order (a page is read from their end: cache-tail.ts), then every other line.
    const first = new Set<string>();
    for (const h of this.set.inOrder()) {
      const e = entries.get(h.runId);
      if (e && !e.corrupt && !e.damaged && SETTLED_STATUSES.includes(h.status)) first.add(h.runId);
    }
    for (const id of first) yield this.line(id, entries.get(id)!, true);
    for (const [id, e] of entries) if (!first.has(id)) yield this.line(id, e, false);
  }

  private line(id: string, e: CacheEntry, sorted: boolean): [string, CacheEntry, string | null, boolean] {
    const ref = this.set.coldRef(id);
    const held = ref ? null : this.set.held(id);
    const sealer = this.sealer;
    const text = ref
      ? this.cold.text(ref)
      : held
        ? JSON.stringify(sealer?.key ? sealRecord(sealer, held as RunRecord) : held)
        : null;
    return [
      id,
      {
        size: e.size,
        mtimeMs: e.mtimeMs,
        ino: e.ino,
        corrupt: e.corrupt,
        ...(e.damaged ? { damaged: e.damaged } : {}),
      },
      e.corrupt ? null : text,
      sorted,
    ];
  }
}

/** The furthest this index recorded a run: its record, or what it kept of a log since cut short. */
export function recordedOf(e: CacheEntry | undefined, held: HeldRecord | undefined): Recorded | null {
  if (!held) return e?.damaged ?? null;
  const r: Recorded = { seq: held.lastSeq, status: held.status };
  return e?.damaged && e.damaged.seq > r.seq ? e.damaged : r;
}

export function damageOf(
  runId: string,
  recorded: Recorded,
  foundSeq: number,
  index: string,
  runsDir: string,
): DamagedLog {
  return {
    runId,
    recordedSeq: recorded.seq,
    recordedStatus: recorded.status,
    foundSeq,
    index,
    file: join(runsDir, `${runId}.jsonl`),
  };
}
