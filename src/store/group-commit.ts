/**
 * The file store's writer: group commit. Appends from any number of runs
 * queue here; the writer takes the store's writer lock (`<store>/journal/
 * writer.lock`, lock.ts rules) and commits what has queued as one batch:
 * each append is checked against its run's log (dedup id, expected
 * sequence), the accepted lines of every run go to the journal in one write
 * and one fdatasync (journal.ts), then each line is added to its run's log,
 * and only then do the appends resolve. Appends that arrive while a batch
 * is being synced make up the next one, so under load one fdatasync serves
 * many runs; alone, an append costs one, as before.
 *
 * One writer per store at a time: other processes (`approve` while `serve`
 * runs, two `run`s) take the same lock in turn. A writer keeps the lock while
 * appends keep coming, and lets it go when idle, or after MAX_HOLD_MS of
 * continuous use for YIELD_MS, so that another process's append waits at most
 * about that long. A writer that finds the lock left by a dead holder, or the
 * journal written in another boot, first puts back what the run logs lack
 * (journal-recovery.ts).
 *
 * Outcomes: a conflict or duplicate affects only its own append; a journal
 * write or sync that fails rejects the whole batch and leaves nothing of it
 * (no run log was touched yet); a run log that refuses its line rejects that
 * run's appends in the batch, voids their journal records and takes the
 * line back out of the log.
 *
 * The writes themselves (journal and run logs) are synchronous calls: they
 * only reach the page cache, a few microseconds each, where a trip through
 * libuv's thread pool costs several times that in CPU; the fdatasync, which
 * waits for the disk, goes through the pool.
 */
import { writeSync } from 'node:fs';
import { truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppendConflictError } from '../errors/index.js';
import type { AppendRequest, AppendResult } from './port.js';
import type { CheckedAppend } from './common.js';
import { newCursor, type Cursor } from './jsonl.js';
import { acquireLock, releaseLock } from './lock.js';
import { errnoOf, storeIoError } from './io-errors.js';
import { BOOT, encodeRecord, Journal, sameBoot, SEGMENT_BYTES } from './journal.js';
import { recoverJournal, type RecoveryHost } from './journal-recovery.js';
import { OpenLogs } from './open-logs.js';

/** What the writer knows of a run without re-reading it: where its log ends, its last seq and its dedup ids. */
export interface RunCache extends Cursor {
  dedup: Map<string, { firstSeq: number; lastSeq: number }>;
  /** The writer's session in which this was last brought up to date (see GroupWriter.session), if any. */
  session?: number;
  /** The writer's hold of the lock in which this was last the log's end (see GroupWriter.currentHold), if any. */
  hold?: number;
}

export interface WriterHost extends RecoveryHost {
  journalDir: string;
  runsDir: string;
  lockTimeoutMs: number;
  staleLockMs: number;
  /** The run's cache brought up to date with its log (a torn tail cut off); the writer holds the lock. */
  refresh(runId: string): Promise<RunCache>;
  forget(runId: string): void;
  forgetAll(): void;
  /** The line [from, to) of the run's log (inode `ino`) was added, holding the commit `json`, in the writer's `hold` of the lock (for this process's followers). */
  added(runId: string, ino: number, from: number, to: number, json: string, hold: number): void;
  /** The run's cache as it stands, unchecked (the writer trusts it within the session it was checked in). */
  cached(runId: string): RunCache | undefined;
}

const MAX_BATCH = 512;
const MAX_HOLD_MS = 200;
const YIELD_MS = 5;
/** How long an idle writer keeps the lock: the next step of a run that just committed usually comes within it. */
const LINGER_MS = 1;

interface Pending {
  req: AppendRequest;
  checked: CheckedAppend;
  resolve(r: AppendResult): void;
  reject(err: unknown): void;
}

/** An accepted append: its line, where it goes in its run's log, and retries of it in the same batch. */
interface Slot {
  p: Pending;
  offset: number;
  bytes: Buffer;
  dups: Pending[];
}

interface RunPlan {
  runId: string;
  cache: RunCache;
  slots: Slot[];
}

export class GroupWriter {
  private readonly journal: Journal;
  private readonly lockPath: string;
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;
  private held = false;
  private heldSince = 0;
  /**
   * Counts this writer's sessions: one hold of the lock while appends keep
   * coming (a new one at each acquisition and each time the queue fills
   * again after running dry). Within one, no other process writes to the
   * store, so what the writer read or wrote of a log is still all there is:
   * it writes on without a stat, and followers need no read. A new session
   * looks again, so a log changed by hand between two appends is seen.
   */
  private session = 0;
  /** Counts this writer's holds of the lock: while one lasts, no other process writes to the store. */
  private holds = 0;
  private releasing: Promise<void> | null = null;
  /** A hold being taken (and the journal recovered): everyone who needs the lock waits for it. */
  private acquiring: Promise<void> | null = null;
  private linger: NodeJS.Timeout | null = null;
  private checkpointing: Promise<void> | null = null;
  private readonly logs = new OpenLogs();

  constructor(private readonly host: WriterHost) {
    this.journal = new Journal(host.journalDir);
    this.lockPath = join(host.journalDir, 'writer.lock');
  }

  /** Resolves once the append is durable in the journal and in its run's log. */
  append(req: AppendRequest, checked: CheckedAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, checked, resolve, reject });
      if (this.linger) clearTimeout(this.linger);
      this.linger = null;
      this.draining ??= this.drain();
    });
  }

  /** The hold of the lock under way, -1 when the lock is not held: while one lasts, every change to the logs is this writer's. */
  get currentHold(): number {
    return this.held ? this.holds : -1;
  }

  /**
   * For readers, once per store: when the journal was written in another
   * boot (the machine went down since), its lines are put back first: a log
   * may have lost acknowledged lines with the page cache. A process killed
   * on this boot leaves nothing acknowledged missing, so reads need not wait.
   */
  async recoverIfRebooted(): Promise<void> {
    const boot = await this.journal.newestBoot();
    if (boot === null || sameBoot(boot, BOOT)) return;
    await this.hold();
    if (!this.draining) this.releaseWhenIdle();
  }

  /** Waits for queued appends, then lets the lock go. */
  async close(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    await this.release();
    await this.checkpointing;
    await this.journal.close();
    this.logs.closeAll();
  }

  private async drain(): Promise<void> {
    this.session++;
    try {
      while (this.queue.length > 0) {
        try {
          await this.hold(); // never synchronous: appends made in the same tick as the first join its batch
        } catch (err) {
          for (const p of this.queue.splice(0, MAX_BATCH)) p.reject(err);
          continue;
        }
        const batch = this.queue.splice(0, MAX_BATCH);
        await this.commit(batch);
        await this.afterBatch();
        if (this.queue.length > 0 && Date.now() - this.heldSince >= MAX_HOLD_MS) {
          await this.release();
          await sleep(YIELD_MS); // another process polling for the lock gets its turn
        }
      }
    } finally {
      // Synchronous with the loop's last look at the queue: an append queued later starts a new drain.
      this.draining = null;
      if (this.queue.length > 0) this.draining = this.drain();
      else this.releaseWhenIdle();
    }
  }

  private releaseWhenIdle(): void {
    if (!this.held || this.linger) return;
    this.linger = setTimeout(() => {
      this.linger = null;
      if (!this.draining && !this.acquiring) void this.release();
    }, LINGER_MS);
  }

  private hold(): Promise<void> {
    if (this.held && !this.acquiring) return Promise.resolve();
    this.acquiring ??= this.acquire().finally(() => { this.acquiring = null; });
    return this.acquiring;
  }

  private async acquire(): Promise<void> {
    if (this.releasing) await this.releasing;
    const { brokeDead } = await acquireLock(this.lockPath, { timeoutMs: this.host.lockTimeoutMs, staleMs: this.host.staleLockMs, maxPollMs: 2 });
    this.held = true;
    this.heldSince = Date.now();
    this.session++;
    this.holds++;
    try {
      const { otherBoot } = await this.journal.attach();
      if (brokeDead || otherBoot) await this.recover(otherBoot);
    } catch (err) {
      await this.release();
      throw storeIoError(`cannot open the journal in ${this.host.journalDir}`, err, { dir: this.host.journalDir });
    }
  }

  private async recover(otherBoot: boolean): Promise<void> {
    if ((await recoverJournal(this.journal, this.host)) > 0) this.host.forgetAll();
    this.journal.forget();
    await this.journal.attach();
    if (otherBoot) {
      // Written before a reboot: start a segment of this boot, and sync the logs the old ones name before dropping them.
      await this.journal.rotate();
      await this.journal.checkpoint(this.host.runsDir, this.host.fileOf);
    }
  }

  private release(): Promise<void> {
    if (!this.held) return this.releasing ?? Promise.resolve();
    this.held = false;
    this.releasing = releaseLock(this.lockPath).finally(() => { this.releasing = null; });
    return this.releasing;
  }

  /** A full segment: start the next, and drop the old once its logs are synced (in the background; it needs no lock). */
  private async afterBatch(): Promise<void> {
    if (this.journal.active.size < SEGMENT_BYTES) return;
    try {
      await this.journal.rotate();
    } catch (err) {
      this.host.warn(`cannot start a new journal segment in ${this.host.journalDir}: ${(err as Error).message}; the current one keeps growing`);
      return;
    }
    this.checkpointing ??= this.journal.checkpoint(this.host.runsDir, this.host.fileOf)
      .catch((err: unknown) => this.host.warn(`cannot drop old journal segments in ${this.host.journalDir}: ${(err as Error).message}; tried again at the next segment`))
      .finally(() => { this.checkpointing = null; });
  }

  /** One batch, under the lock. Settles every append in it; never throws. */
  private async commit(batch: Pending[]): Promise<void> {
    const byRun = new Map<string, Pending[]>();
    for (const p of batch) {
      const list = byRun.get(p.req.runId);
      if (list) list.push(p);
      else byRun.set(p.req.runId, [p]);
    }
    const plans: RunPlan[] = [];
    await Promise.all([...byRun].map(async ([runId, list]) => {
      let cache = this.host.cached(runId);
      if (cache?.session !== this.session) {
        try {
          cache = await this.host.refresh(runId);
        } catch (err) {
          for (const p of list) p.reject(err);
          return;
        }
        cache.session = this.session;
        cache.hold = this.holds;
      }
      const plan = planRun(runId, cache, list);
      if (plan.slots.length > 0) plans.push(plan);
    }));
    if (plans.length === 0) return;

    try {
      await this.journal.append(plans.flatMap((pl) => pl.slots.flatMap((s) => encodeRecord('C', pl.runId, s.offset, s.bytes))));
    } catch (err) {
      const e = storeIoError(`cannot append to the journal in ${this.host.journalDir}`, err, { dir: this.host.journalDir }, '; nothing was recorded');
      for (const pl of plans) for (const s of pl.slots) for (const p of [s.p, ...s.dups]) p.reject(e);
      return;
    }
    const voids: Buffer[] = [];
    await Promise.all(plans.map((pl) => this.apply(pl, voids)));
    if (voids.length > 0) {
      // Without these a later recovery would put the refused lines back; failing that, the journal stops (journal.failed).
      await this.journal.append(voids).catch((err: unknown) => {
        this.journal.failed ??= new Error(`cannot void refused lines in the journal ${this.host.journalDir}: ${(err as Error).message}; reopen the store`);
      });
    }
  }

  /** Adds a run's accepted lines to its log and settles its appends. */
  private async apply(pl: RunPlan, voids: Buffer[]): Promise<void> {
    const path = this.host.fileOf(pl.runId);
    const c = pl.cache;
    const bytes = pl.slots.length === 1 ? pl.slots[0]!.bytes : Buffer.concat(pl.slots.map((s) => s.bytes));
    let ino = c.ino;
    try {
      const log = await this.logs.open(pl.runId, path, c.offset > 0 ? c.ino : null);
      ino = log.ino;
      try {
        // One write of the whole line; a crash mid-way leaves a line without its newline, which recovery completes from the journal.
        for (let off = 0; off < bytes.length; ) off += writeSync(log.fd, bytes, off, bytes.length - off);
      } catch (err) {
        this.logs.drop(pl.runId);
        throw err;
      }
    } catch (err) {
      this.host.forget(pl.runId); // outcome unknown: re-read the log next time
      for (const s of pl.slots) voids.push(...encodeRecord('V', pl.runId, s.offset));
      // Taken back out (under the lock): the run's first write leaves no log at all, a later one the lines before it.
      const undone = c.offset === 0
        ? await unlink(path).then(() => true, (e: unknown) => errnoOf(e) === 'ENOENT')
        : await truncate(path, c.offset).then(() => true, () => false);
      const e = storeIoError(`cannot append to ${path}`, err, { runId: pl.runId, file: path }, undone && c.offset === 0 ? `; nothing was recorded of run ${pl.runId}` : '');
      for (const s of pl.slots) for (const p of [s.p, ...s.dups]) p.reject(e);
      return;
    }
    if (c.ino !== ino) Object.assign(c, newCursor(ino));
    c.offset += bytes.length;
    c.line += pl.slots.length;
    for (const s of pl.slots) {
      const { firstSeq, lastSeq } = s.p.checked;
      c.lastSeq = lastSeq;
      c.dedup.set(s.p.req.dedupId, { firstSeq, lastSeq });
      this.host.added(pl.runId, ino, s.offset, s.offset + s.bytes.length, s.p.checked.json, this.holds);
      s.p.resolve({ firstSeq, lastSeq, duplicate: false });
      for (const d of s.dups) d.resolve({ firstSeq, lastSeq, duplicate: true });
    }
  }

}

/** Checks a run's queued appends in order against its log and each other: duplicates, conflicts, and the lines to write. */
function planRun(runId: string, cache: RunCache, list: Pending[]): RunPlan {
  let offset = cache.offset;
  let lastSeq = cache.lastSeq;
  const slots: Slot[] = [];
  const mine = new Map<string, Slot>();
  for (const p of list) {
    // Checked before expectedSeq: a retry of an append that did land must
    // report success, not a conflict with its own write (as JetStream does).
    const dup = cache.dedup.get(p.req.dedupId);
    if (dup) {
      p.resolve({ ...dup, duplicate: true });
      continue;
    }
    const same = mine.get(p.req.dedupId);
    if (same) {
      same.dups.push(p);
      continue;
    }
    if (lastSeq !== p.req.expectedSeq) {
      p.reject(new AppendConflictError(runId, p.req.expectedSeq, lastSeq));
      continue;
    }
    const slot: Slot = { p, offset, bytes: Buffer.from(p.checked.json + '\n', 'utf8'), dups: [] };
    slots.push(slot);
    mine.set(p.req.dedupId, slot);
    offset += slot.bytes.length;
    lastSeq = p.checked.lastSeq;
  }
  return { runId, cache, slots };
}
