/**
 * The file store's journal (`<store>/journal/`): where commits become durable. The store's writer (group-commit.ts)
 * writes every commit of a batch here, several runs' together, and fdatasyncs once; only then does it add each line to
 * its run's log (`runs/<runId>.jsonl`), which is never synced on the way: after a crash the journal puts back what a
 * log lacks (journal-recovery.ts).
 *
 * Segments `<n>.log` (n zero-padded, ascending), each a header line naming the boot it was made in, then records: `C
 * <runId> <offset> <length>\n` and the commit line's bytes (the run's log holds exactly these bytes at that offset), or
 * `V <runId> <offset> 0\n`: the C record at that offset is void (its line could not be added to the log; the append was
 * refused). A record cut short (a crash before the sync) ends a segment; it was never acknowledged. Once the newest
 * segment passes SEGMENT_BYTES the writer starts another; older ones are dropped once the logs they name are synced
 * (checkpoint), so the journal stays small.
 *
 * Space ahead of the records is written with zeros before it is used (zeroAhead): an append that grows a file makes its
 * fdatasync commit the file system's own journal (the new size), where one that overwrites bytes already on disk
 * syncs the data alone, as PostgreSQL fills its WAL segments with zeros first. So a segment is its records, then
 * zeros: a record never holds a zero byte (its head is ASCII, its line JSON), and the first zero byte where a record
 * would start is where the records end (`end`), as the end of the file is.
 *
 * Only the holder of the store's writer lock writes here or moves segments.
 */
import { open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import {
  closeSync,
  constants,
  fdatasync as fdatasyncCb,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { promisify } from 'node:util';
import { uptime } from 'node:os';
import { join } from 'node:path';
import { syncDir, unlessMissing } from './durable-fs.js';
import { errorMessage } from '../errors/index.js';
import { MAGIC, ZEROS, ZEROS_MAX, parseSegment } from './journal-records.js';

export {
  encodeRecord,
  parseRecords,
  parseSegment,
  recordsEndSync,
  zerosFrom,
  type JournalRecord,
} from './journal-records.js';

const fdatasync = promisify(fdatasyncCb);

export const SEGMENT_BYTES = 4 * 1024 * 1024;
/** Zeros written ahead at a time: as much as is in use already, from ZEROS_MIN up to ZEROS_MAX (a small store stays small). */
const ZEROS_MIN = 64 * 1024;
const SEGMENT = /^(\d{12})\.log$/;

/**
 * This boot of the machine: a journal written in an earlier boot may hold lines its logs lost with the page cache
 * (power cut), so it is recovered. Linux names each boot; elsewhere the boot time stands in (a second or two apart is
 * the same boot: it is estimated from the uptime).
 */
export const BOOT: string = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `up:${Math.round(Date.now() / 1000 - uptime())}`;
  }
})();

export function sameBoot(a: string, b: string): boolean {
  if (a === b) return true;
  return a.startsWith('up:') && b.startsWith('up:') && Math.abs(Number(a.slice(3)) - Number(b.slice(3))) <= 2;
}

const segmentName = (n: number) => `${String(n).padStart(12, '0')}.log`;

export class Journal {
  private fh: FileHandle | null = null;
  private name = '';
  private ino = 0;
  /** Where the active segment's records end: the next record goes there. */
  private size = 0;
  /** How long the active segment's file is (its records, then zeros written ahead: see zeroAhead). */
  private allocated = 0;
  /** Set when the journal's tail is in doubt (a failed sync that could not be undone): nothing more is written. */
  failed: Error | null = null;

  constructor(readonly dir: string) {}

  /** The boot the newest segment was written in; null when there is none (or it holds nothing). Needs no lock. */
  async newestBoot(): Promise<string | null> {
    const names = await unlessMissing(this.segments());
    const newest = names?.[names.length - 1];
    if (newest === undefined) return null;
    const fh = await unlessMissing(open(join(this.dir, newest), 'r'));
    if (!fh) return null;
    try {
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(256), 0, 256, 0);
      return parseSegment(buffer.subarray(0, bytesRead)).boot;
    } finally {
      await fh.close();
    }
  }

  /** The segments' names, oldest first. */
  async segments(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => SEGMENT.test(n)).sort();
  }

  /**
   * Under the writer lock, before writing: finds the active segment (making the first one) and says whether another
   * boot wrote it (then recover). Cheap when this process wrote last: one stat. `unchanged`: the journal is as this
   * process left it (no other process wrote to the store since).
   */
  async attach(): Promise<{ otherBoot: boolean; unchanged?: boolean }> {
    if (this.fh) {
      const st = await stat(join(this.dir, this.name)).catch(() => null);
      if (st && st.ino === this.ino && st.size === this.allocated && (await this.nothingAfter(this.fh)))
        return { otherBoot: false, unchanged: true };
      // Another process wrote, recovered or started a new segment since.
      await this.fh.close().catch(() => undefined);
      this.fh = null;
    }
    const names = await this.segments();
    const newest = names[names.length - 1];
    if (newest === undefined) {
      await this.start(1);
      return { otherBoot: false };
    }
    const fh = await open(join(this.dir, newest), constants.O_RDWR | constants.O_NOFOLLOW);
    const { st, whole } = await closedOnThrow(fh, async () => ({ st: await fh.stat(), whole: await fh.readFile() }));
    // The records end where the first cut short, unreadable or zero one starts (a writer that died mid-record is
    // recovered right after this, which cuts its record off; the next record goes where it started either way).
    const { boot, end } = parseSegment(whole);
    Object.assign(this, { fh, name: newest, ino: st.ino, size: end, allocated: whole.length });
    if (boot === null) {
      // Made but its header never finished (a crash): it holds nothing; begin it again.
      await this.fh!.truncate(0);
      this.size = 0;
      this.allocated = 0;
      await this.write(Buffer.from(JSON.stringify({ journal: MAGIC, boot: BOOT }) + '\n'));
      return { otherBoot: false };
    }
    return { otherBoot: !sameBoot(boot, BOOT) };
  }

  /** Appends records and syncs them: durable when this resolves. On failure nothing of them stays (or `failed` is set). */
  async append(buffers: Buffer[]): Promise<void> {
    if (this.failed) throw this.failed;
    await this.write(Buffer.concat(buffers));
  }

  /** The active segment's number and size (to know when to start another). */
  get active(): { name: string; size: number } {
    return { name: this.name, size: this.size };
  }

  /** Starts the next segment (durable before anything is written to it); older ones wait for checkpoint(). */
  async rotate(): Promise<void> {
    const n = Number(SEGMENT.exec(this.name)?.[1] ?? 0) + 1;
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
    await this.start(n);
  }

  /**
   * Drops the segments before the active one, each once the run logs it names are synced (their lines are then on disk
   * without it). Needs no lock: segments before the active one are never written again, and recovery skips one that is
   * gone.
   */
  async checkpoint(runsDir: string, fileOf: (runId: string) => string): Promise<void> {
    for (const name of (await this.segments()).filter((n) => n < this.name)) {
      const path = join(this.dir, name);
      const buf = await readFile(path).catch((err: unknown) =>
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : Promise.reject(err),
      );
      if (!buf) continue;
      const runs = [...new Set(parseSegment(buf).records.map((r) => r.runId))];
      for (let i = 0; i < runs.length; i += 8)
        await Promise.all(runs.slice(i, i + 8).map((runId) => syncFile(fileOf(runId))));
      await syncDir(runsDir); // the logs made meanwhile: their names too
      await unlink(path).catch(() => undefined);
    }
  }

  /** Makes the next attach() look at the segments again (recovery changed them). */
  forget(): void {
    void this.fh?.close().catch(() => undefined);
    this.fh = null;
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
  }

  private async start(n: number): Promise<void> {
    const name = segmentName(n);
    const fh = await open(join(this.dir, name), 'wx+');
    const { ino } = await closedOnThrow(fh, () => fh.stat());
    Object.assign(this, { fh, name, ino, size: 0, allocated: 0 });
    await this.write(Buffer.from(JSON.stringify({ journal: MAGIC, boot: BOOT }) + '\n'));
    await syncDir(this.dir);
  }

  private async write(buf: Buffer): Promise<void> {
    const at = this.put(buf);
    try {
      await this.sync();
    } catch (err) {
      await this.cut(at);
      throw err;
    }
  }

  /**
   * Writes records at the journal's end without syncing them (the pipelined writer syncs them with sync(), and
   * acknowledges nothing before that has finished); returns where they start. A write that fails is cut off again at
   * once (or `failed` is set) and thrown.
   */
  put(buf: Buffer): number {
    if (this.failed) throw this.failed;
    const fh = this.fh!;
    const at = this.size;
    try {
      // Into the page cache without the thread pool (see group-commit.ts); the sync waits for the disk through it.
      for (let off = 0; off < buf.length; ) off += writeSync(fh.fd, buf, off, buf.length - off, at + off);
      if (at + buf.length > this.allocated) this.allocated = at + buf.length;
    } catch (err) {
      if (!this.cutNow(fh.fd, at))
        this.failed = new Error(
          `the journal ${join(this.dir, this.name)} could not be written nor its unsynced tail cut (${errorMessage(err)}); reopen the store`,
        );
      throw err;
    }
    this.size = at + buf.length;
    this.zeroAhead(fh.fd);
    return at;
  }

  /**
   * Zeros after the records once they reach the end of the file, as much again as the file holds (ZEROS_MIN to
   * ZEROS_MAX), not past where the segment is full: the next records overwrite them, and their syncs need no change of
   * the file's size (see above). Written before the sync that follows, which makes them durable too. When they cannot be
   * written (a full disk), the file is cut back to its records and grows with them as before: the zeros only save time.
   */
  private zeroAhead(fd: number): void {
    if (this.allocated > this.size || this.size >= SEGMENT_BYTES) return;
    const want = Math.min(Math.max(this.size, ZEROS_MIN), ZEROS_MAX, SEGMENT_BYTES + ZEROS_MIN - this.size);
    try {
      for (let off = 0; off < want; ) off += writeSync(fd, ZEROS, 0, want - off, this.size + off);
      this.allocated = this.size + want;
    } catch (err) {
      if (!this.cutNow(fd, this.size))
        this.failed = new Error(
          `the journal ${join(this.dir, this.name)} could not be written ahead nor cut back to its records (${errorMessage(err)}); reopen the store`,
        );
    }
  }

  /**
   * Cuts the file back to `at` where a write failed (no sync: nothing past `at` was acknowledged); false when even
   * that fails. Zeros written ahead go with the cut, so the next records write them again (zeroAhead).
   */
  private cutNow(fd: number, at: number): boolean {
    try {
      ftruncateSync(fd, at);
      this.allocated = at;
      return true;
    } catch {
      return false;
    }
  }

  /** Whether nothing follows the records this process wrote (another writer's start with a byte other than zero). */
  private async nothingAfter(fh: FileHandle): Promise<boolean> {
    if (this.size >= this.allocated) return true;
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(1), 0, 1, this.size);
    return bytesRead === 0 || buffer[0] === 0;
  }

  /** fdatasync of the active segment: everything put() before this call is durable once it resolves. */
  sync(): Promise<void> {
    return this.fh!.datasync();
  }

  /**
   * Cuts the active segment back to `at` (records whose sync failed: not acknowledged, so not to be recovered either)
   * and syncs the cut; when that fails too, `failed` is set and nothing more is written.
   */
  async cut(at: number): Promise<void> {
    const fh = this.fh!;
    try {
      await fh.truncate(at);
      await fh.datasync();
      this.size = at;
      this.allocated = at;
    } catch (err) {
      this.failed ??= new Error(
        `the journal ${join(this.dir, this.name)} could not be synced nor its unsynced tail cut (${errorMessage(err)}); reopen the store`,
      );
    }
  }
}

/**
 * fdatasync of a file that may be gone (a run log is never removed once it holds a line, but a test or a person may).
 * Done for every run a segment names: the open and close are synchronous (page cache only, see group-commit.ts), the
 * sync, which waits for the disk, goes through the pool.
 */
async function syncFile(path: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    await fdatasync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * `fn` on a handle just opened and not yet kept: a throw closes the handle first. Left open, it was closed by the
 * garbage collector some time later (Node's DEP0137 warning, and a descriptor held until then).
 */
async function closedOnThrow<T>(fh: FileHandle, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}
