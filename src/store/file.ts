/**
 * The embedded default EventStore: one append-only JSONL file per run under `<dir>/runs/`, one line per commit, so a
 * commit is written (and torn by a crash) as a whole. Appends are durable before they resolve and atomic across
 * processes: the store's writer (group-commit.ts) checks and writes them under one store-wide lock, in batches that
 * share one fdatasync of the journal (`<dir>/journal/`, journal.ts) before their lines reach the run files. Nothing
 * here is authoritative but the files: the per-run cache only spares re-reading bytes already read, and is checked
 * against the file's inode and size on every use. follow() is file-follow.ts.
 */
import { mkdir, readdir, stat, truncate } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Commit, EventEnvelope } from '../events/index.js';
import { RunBusyError, StoreError } from '../errors/index.js';
import type {
  AppendRequest,
  AppendResult,
  CorruptRunHandler,
  FollowOptions,
  OnEvents,
  RunLease,
  TornTail,
  EventStore,
  ReadMark,
  ReadOn,
  ReadOptions,
  RunEvents,
  RunSummary,
  Subscription,
  BlobStore,
} from './port.js';
import { FileBlobStore } from './blobs/file.js';
import {
  assertRunId,
  checkAppend,
  filterAndSort,
  isRunId,
  readAllByRun,
  summariesOf,
  summarize,
  type RunFilter,
} from './common.js';
import type { Cursor } from './cursor.js'; // not from jsonl.ts: these types would then need @types/node
import { newCursor, readEnds, readNew, readPrefix } from './jsonl.js';
import { tryLock, withLock } from './lock.js';
import { readSharedFile, updateSharedFile } from './shared-docs.js';
import { storeIoError } from './io-errors.js';
import { keepSummary, keptSummary } from './summary-cache.js';
import { GroupWriter, type RunCache } from './group-commit.js';
import { statOrNull, statOrNullSync, syncDir, unlessMissing } from './durable-fs.js';
import { followFile, RunsWatcher, type FileSubscription } from './file-follow.js';
import { LeaseTemplate } from './lease-template.js';
import { keepTorn, tornTailOf } from './file-torn.js';
import { DEFAULT_LOCK_TIMEOUT_MS, type FileStoreOptions } from './file-options.js';
import { FileRunArchive } from './archive/file-archive.js';
import { readOnFile } from './file-read-on.js';
import { runIdsAmong } from './change-mark.js';

export type { FileStoreOptions } from './file-options.js';

export class FileEventStore implements EventStore {
  readonly dir: string;
  readonly runsDir: string;
  readonly journalDir: string;
  private locksMade: Promise<void> | undefined;
  private readonly pollMs: number;
  private readonly warn: (message: string) => void;
  private readonly cache = new Map<string, RunCache>();
  private readonly writer: GroupWriter;
  /** This instance's followers, by run: told of each line the writer adds. */
  private readonly followers = new Map<string, Set<FileSubscription>>();
  private readonly runsWatcher: RunsWatcher;
  /** Run leases are links to a file of this store's (lease-template.ts). */
  private readonly leases: LeaseTemplate;
  private dirReady: Promise<void> | undefined;
  private recovered: Promise<void> | undefined;
  private closed = false;
  private archived: FileRunArchive | undefined;

  constructor(dir = '.ledgerflow', options: FileStoreOptions = {}) {
    this.dir = resolve(dir);
    this.runsDir = join(this.dir, 'runs');
    this.journalDir = join(this.dir, 'journal');
    this.pollMs = options.pollMs ?? 200;
    this.warn = options.onWarning ?? ((message) => process.emitWarning(message, 'LedgerflowStoreWarning'));
    this.writer = new GroupWriter({
      journalDir: this.journalDir,
      runsDir: this.runsDir,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      staleLockMs: options.staleLockMs ?? 10_000,
      ...(options.batchesInFlight !== undefined
        ? { maxInFlight: Math.max(1, Math.floor(options.batchesInFlight)) }
        : {}),
      fileOf: (runId) => this.fileOf(runId),
      refresh: (runId) => this.refresh(runId),
      forget: (runId) => this.cache.delete(runId),
      forgetAll: () => this.cache.clear(),
      cached: (runId) => this.cache.get(runId),
      keepTorn: (runId, path, from, to) => keepTorn(runId, path, { from, to }, this.runsDir, this.warn),
      warn: (message) => this.warn(message),
      added: (runId, ino, from, to, json, session, lastSeq) => {
        for (const sub of this.followers.get(runId) ?? [])
          sub.pushed(ino, from, to, () => (JSON.parse(json) as Commit).events, session, lastSeq);
      },
    });
    this.runsWatcher = new RunsWatcher(this.runsDir, this.pollMs);
    this.leases = new LeaseTemplate(join(this.dir, 'locks'));
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    if (this.closed) throw new StoreError('append on a closed store', { runId: req.runId, dir: this.dir });
    const checked = checkAppend(req);
    await this.ensureDir();
    return this.writer.append(req, checked);
  }

  async read(runId: string, opts: ReadOptions = {}): Promise<EventEnvelope[]> {
    assertRunId(runId);
    await this.ready();
    const path = this.fileOf(runId);
    const st = await statOrNull(path);
    // Not live: maybe archived (one index shard read; nothing when it never was).
    const events = st
      ? (await readNew(path, newCursor(st.ino), st.size, runId)).commits.flatMap((c) => c.events)
      : ((await this.archive().read(runId)) ?? []);
    const from = opts.fromSeq ?? 1;
    const to = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
    return events.filter((e) => e.seq >= from && e.seq <= to);
  }

  /**
   * The run index's read of a file it just stat'ed, up to `known.size` (read() would stat again: over 100,000 runs as
   * costly as the read), lines checked as read() does; a file gone since: no events. `from`: where its last read of this
   * inode ended (advanced here), not past `known.size`: only what was appended since is read (file-index.ts).
   */
  async readStatted(runId: string, known: { size: number; ino: number }, from?: Cursor): Promise<EventEnvelope[]> {
    assertRunId(runId);
    await this.ready();
    const path = this.fileOf(runId);
    const commits = from?.offset
      ? (await unlessMissing(readNew(path, from, known.size, runId)))?.commits
      : await unlessMissing(readPrefix(path, known.size, known.ino, runId, from));
    return commits?.flatMap((c) => c.events) ?? [];
  }

  /** The run's events after an earlier readOn's mark, and the mark after them (file-read-on.ts). */
  async readOn(runId: string, from: ReadMark | null): Promise<ReadOn | null> {
    assertRunId(runId);
    await this.ready(); // the journal's lines put back first, as read() does, before the log's size is taken
    return readOnFile(runId, this.fileOf(runId), from, (known, c) => this.readStatted(runId, known, c));
  }

  async lastSeq(runId: string): Promise<number> {
    assertRunId(runId);
    await this.ready();
    const st = await statOrNull(this.fileOf(runId));
    if (!st) return 0;
    // The writer's cache spares reading what it already read; a copy of its cursor, so that a read never moves it.
    const c = this.cache.get(runId);
    const cursor =
      c && c.ino === st.ino && c.offset <= st.size
        ? { ino: c.ino, offset: c.offset, line: c.line, lastSeq: c.lastSeq }
        : newCursor(st.ino);
    await readNew(this.fileOf(runId), cursor, st.size, runId);
    return cursor.lastSeq;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    return filterAndSort(await summariesOf(await this.runIds(), filter, (runId) => this.summary(runId)), filter);
  }

  /** The writer's soleSpan (group-commit.ts): while it lasts, a listing of the runs made within it is still whole. */
  soleWriterSpan(): number {
    return this.writer.soleSpan;
  }

  /** The ids of the runs in the store, from the directory's names alone (nothing is read); in no particular order. */
  async runIds(): Promise<string[]> {
    return (await this.runFiles()).runIds;
  }

  /** runIds(), and the runs whose `<runId>.jsonl.torn` (torn lines once cut from the log) the same listing names. */
  async runFiles(): Promise<{ runIds: string[]; torn: Set<string> }> {
    await this.ready();
    let names: string[];
    try {
      names = await readdir(this.runsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { runIds: [], torn: new Set() };
      throw storeIoError(`cannot list ${this.runsDir}`, err, { dir: this.runsDir });
    }
    // Only names that are run ids: anything else in the directory is not a run.
    return { runIds: runIdsAmong(names), torn: new Set(runIdsAmong(names, '.jsonl.torn')) };
  }

  /**
   * One run's summary, from its first and last lines only (as listRuns reads each run); null when the run does
   * not exist (or was deleted meanwhile). Throws CorruptRunError for a run whose ends cannot be read.
   */
  async summary(runId: string): Promise<RunSummary | null> {
    assertRunId(runId);
    await this.ready();
    const path = this.fileOf(runId);
    try {
      // The file's identity first: a summary kept under it is this file's (store/summary-cache.ts).
      const st = await stat(path, { bigint: true });
      const kept = keptSummary(path, st);
      if (kept) return kept;
      const ends = await readEnds(path, runId);
      const summary = ends ? summarize(ends.first, ends.last) : null;
      if (summary) keepSummary(path, st, summary);
      return summary;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /**
   * One driver per run: `<runId>.driver` holds the driver's pid, host and start time (the lock file rules of
   * lock.ts: a dead holder on this host is broken at once). Never broken by age: a driver holds it for as long as
   * the run takes; one from another host stays until removed by hand.
   */
  async leaseRun(runId: string): Promise<RunLease> {
    assertRunId(runId);
    await this.ensureDir();
    const path = join(this.runsDir, `${runId}.driver`);
    const got = await tryLock(path, Number.POSITIVE_INFINITY, (p) => this.leases.link(p));
    if ('holder' in got) throw new RunBusyError(runId, got.holder, path);
    return got;
  }

  /** `<dir>/locks/<name>.lock`, the lock file rules of lock.ts: a dead holder's is broken at once, a live one's waited for. */
  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (!isRunId(name)) throw new StoreError(`invalid lock name ${JSON.stringify(name)}`, { name });
    const locks = join(this.dir, 'locks');
    this.locksMade ??= mkdir(locks, { recursive: true }).then(() => undefined);
    await this.locksMade;
    return withLock(join(locks, `${name}.lock`), { timeoutMs: 30_000, staleMs: 30_000 }, fn);
  }

  /** A small shared document under `<dir>/gates/`, changed under the store's lock (shared-docs.ts): task gates. */
  updateShared<T>(name: string, fn: (doc: unknown) => { doc: unknown; result: T }): Promise<T> {
    return updateSharedFile(this.dir, (n, f) => this.exclusive(n, f), name, fn);
  }

  /** A shared document as last written (`<dir>/gates/<name>.json`), or null. */
  readShared(name: string): Promise<unknown> {
    return readSharedFile(this.dir, name);
  }

  tornTail(runId: string): Promise<TornTail | null> {
    assertRunId(runId);
    return tornTailOf(this.runsDir, runId);
  }

  readAll(filter: { workflowId?: string } & CorruptRunHandler = {}): AsyncIterable<RunEvents> {
    return readAllByRun(this, filter);
  }

  follow(runId: string, afterSeq: number, onEvents: OnEvents, opts: FollowOptions = {}): Subscription {
    assertRunId(runId);
    let subs = this.followers.get(runId);
    if (!subs) this.followers.set(runId, (subs = new Set()));
    // The writer's cursor, when it is not past afterSeq, spares reading the log from its beginning.
    const c = this.cache.get(runId);
    const start =
      c && c.lastSeq <= afterSeq
        ? { cursor: { ino: c.ino, offset: c.offset, line: c.line, lastSeq: c.lastSeq }, session: c.hold ?? -1 }
        : undefined;
    const sub = followFile(
      {
        runId,
        path: this.fileOf(runId),
        watcher: this.runsWatcher,
        ready: () => this.ready(),
        session: () => this.writer.currentHold,
        ...(start ? { start } : {}),
        ...(opts.skipUpTo ? { skipUpTo: opts.skipUpTo } : {}),
        onClose: () => {
          subs.delete(sub);
          if (subs.size === 0 && this.followers.get(runId) === subs) this.followers.delete(runId);
        },
      },
      afterSeq,
      onEvents,
    );
    subs.add(sub);
    return sub;
  }

  private blobStore: FileBlobStore | undefined;
  /** Large payloads' bodies, under `<store>/blobs/` (store/blobs/file.ts). */
  blobs(): BlobStore {
    return (this.blobStore ??= new FileBlobStore(join(this.dir, 'blobs')));
  }

  /** The archive under `<dir>/archive/` (archive/file-archive.ts): moves settled runs out of `runs/` and back. */
  archive(): FileRunArchive {
    this.archived ??= new FileRunArchive({
      dir: this.dir,
      runsDir: this.runsDir,
      fileOf: (runId) => this.fileOf(runId),
      exclusive: (name, fn) => this.exclusive(name, fn),
      quiesced: (fn) => this.ensureDir().then(() => this.ready().then(() => this.writer.quiesced(fn))),
      forget: (runId) => this.cache.delete(runId),
    });
    return this.archived;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const subs of [...this.followers.values()]) for (const sub of [...subs]) sub.close();
    this.runsWatcher.close();
    await this.writer.close();
    this.leases.close();
  }

  /**
   * For a check that finds a log shorter than the journal says: a writer lock left by a dead process is recovered
   * now (its lines put back), and the answer says whether a live writer holds the lock (the lines it synced may
   * be on their way to their logs).
   */
  async settleWriter(): Promise<{ writing: boolean }> {
    await this.writer.recoverIfLeft();
    return { writing: await this.writer.lockHeld() };
  }

  /**
   * Once per instance, before its first read: a journal left by another boot or a writer lock left by a dead process is
   * recovered first (GroupWriter.recoverIfLeft). A failure is thrown to the reader and tried again by the next.
   */
  ready(): Promise<void> {
    this.recovered ??= this.writer.recoverIfLeft().catch((err: unknown) => {
      this.recovered = undefined;
      throw err instanceof StoreError
        ? err
        : storeIoError(`cannot recover the journal in ${this.journalDir}`, err, { dir: this.journalDir });
    });
    return this.recovered;
  }

  private fileOf(runId: string): string {
    return join(this.runsDir, `${runId}.jsonl`);
  }

  /**
   * Brings the run's cache up to date with its file, reading only bytes appended since the last look. Only the
   * writer calls it, under the writer lock, where no other writer can be mid-line: a trailing line without
   * newline is a torn write and is cut off so the next line starts clean; its bytes are kept first (a crash
   * between the two keeps them twice, never loses them).
   */
  private async refresh(runId: string): Promise<RunCache> {
    const path = this.fileOf(runId);
    const st = statOrNullSync(path);
    let c = this.cache.get(runId);
    if (!st || !c || c.ino !== st.ino || st.size < c.offset) {
      c = { ...newCursor(st?.ino ?? 0), dedup: new Map() };
      this.cache.set(runId, c);
    }
    if (!st) return c;
    try {
      const { commits, partial } = await readNew(path, c, st.size, runId);
      for (const commit of commits) {
        const first = commit.events[0]!.seq;
        c.dedup.set(commit.dedupId, { firstSeq: first, lastSeq: first + commit.events.length - 1 });
      }
      if (partial) {
        await keepTorn(runId, path, { from: c.offset, to: st.size }, this.runsDir, this.warn);
        await truncate(path, c.offset);
      }
    } catch (err) {
      this.cache.delete(runId); // a half-advanced cursor must not be reused
      throw err;
    }
    return c;
  }

  /** Creates the directories once, syncing each new entry into its parent so they survive a crash. */
  private ensureDir(): Promise<void> {
    this.dirReady ??= (async () => {
      const created = await mkdir(this.runsDir, { recursive: true });
      if (created !== undefined)
        for (let d = this.runsDir; d !== dirname(created); d = dirname(d)) await syncDir(dirname(d));
      if ((await mkdir(this.journalDir, { recursive: true })) !== undefined) await syncDir(this.dir);
    })().catch((err: unknown) => {
      this.dirReady = undefined;
      throw storeIoError(`cannot create store directory ${this.runsDir}`, err, { dir: this.runsDir });
    });
    return this.dirReady;
  }
}
