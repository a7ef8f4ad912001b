/**
 * The lock side of the file store's writer (group-commit.ts extends this): one writer per store at a time, other
 * processes (`approve` while `serve` runs, two `run`s) take the same lock (`<store>/journal/writer.lock`) in
 * turn. A writer keeps the lock while appends keep coming, and lets it go when idle (after LINGER_MS), or after
 * MAX_HOLD_MS of continuous use for YIELD_MS (group-commit.ts). A writer that finds the lock left by a dead
 * holder, or the journal written in another boot, first puts back what the run logs lack
 * (journal-recovery.ts). Also the journal's housekeeping between batches: a full segment rotated, old ones
 * checkpointed. Its own file so the batching (group-commit.ts) reads apart from the holding of the lock.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCK_LEFTOVER, acquireLock, releaseLock, sweepDead } from './lock.js';
import { storeIoError } from './io-errors.js';
import { Journal, SEGMENT_BYTES } from './journal.js';
import { leftToRecover, recoverLeftJournal, type RecoveryHost } from './journal-recovery.js';
import type { RunCache } from './run-plans.js';
import { errorMessage } from '../errors/index.js';

interface WriterHost extends RecoveryHost {
  journalDir: string;
  runsDir: string;
  lockTimeoutMs: number;
  staleLockMs: number;
  /** Batches in flight at most (FileStoreOptions.batchesInFlight); 1: each batch waits for the one before to be durable. */
  maxInFlight?: number;
  /** The run's cache brought up to date with its log (a torn tail cut off); the writer holds the lock. */
  refresh(runId: string): Promise<RunCache>;
  forget(runId: string): void;
  forgetAll(): void;
  /** The line [from, to) of the run's log (inode `ino`) was added, holding the commit `json` (ending at `lastSeq`), in the writer's `hold` of the lock (for this process's followers). */
  added(runId: string, ino: number, from: number, to: number, json: string, hold: number, lastSeq: number): void;
  /** The run's cache as it stands, unchecked (the writer trusts it within the session it was checked in). */
  cached(runId: string): RunCache | undefined;
}

/** How long an idle writer keeps the lock: the next step of a run that just committed usually comes within it. */
const LINGER_MS = 1;

/** The writer's hold of the store's writer lock, and the journal it writes under it. */
export class WriterLock {
  protected readonly journal: Journal;
  protected readonly lockPath: string;
  protected draining: Promise<void> | null = null;
  protected held = false;
  protected heldSince = 0;
  /**
   * Counts this writer's sessions: one hold of the lock while appends keep coming (a new one at each acquisition and
   * each time the queue fills again after running dry). Within one, no other process writes to the store, so what the
   * writer read or wrote of a log is still all there is: it writes on without a stat, and followers need no read. A new
   * session looks again, so a log changed by hand between two appends is seen.
   */
  protected session = 0;
  /** Counts this writer's holds of the lock: while one lasts, no other process writes to the store. */
  protected holds = 0;
  /** Spans of holds with no other process's writes between them (soleSpan). */
  protected span = 0;
  protected releasing: Promise<void> | null = null;
  /** A hold being taken (and the journal recovered): everyone who needs the lock waits for it. */
  protected acquiring: Promise<void> | null = null;
  protected linger: NodeJS.Timeout | null = null;
  protected checkpointing: Promise<void> | null = null;

  constructor(protected readonly host: WriterHost) {
    this.journal = new Journal(host.journalDir);
    this.lockPath = join(host.journalDir, 'writer.lock');
  }

  /** The hold of the lock under way, -1 when the lock is not held: while one lasts, every change to the logs is this writer's. */
  get currentHold(): number {
    return this.held ? this.holds : -1;
  }

  /** As currentHold, but one span lasts over holds between which no other process wrote (the journal as left here). */
  get soleSpan(): number {
    return this.held && !this.acquiring ? this.span : -1;
  }

  /**
   * For readers, once per store: the journal's lines a log lacks are put back before anything is read when the journal
   * was written in another boot (a log may have lost acknowledged lines with the page cache), or when the writer lock
   * was left by a process that died on this host (killed between the journal's sync and the log's line: a commit that
   * is durable and will be put back by the next writer, so a reader must not see the log without it, then with it; two
   * resumes at once after a kill -9).
   */
  async recoverIfLeft(): Promise<void> {
    if (!(await leftToRecover(this.journal, this.lockPath))) return;
    await this.hold();
    if (!this.draining) this.releaseWhenIdle();
  }

  /** Whether any process (this one too) holds the writer lock now: lines it synced to the journal may be on their way to their logs. */
  async lockHeld(): Promise<boolean> {
    return (await stat(this.lockPath).catch(() => null)) !== null;
  }

  protected releaseWhenIdle(): void {
    if (!this.held || this.linger) return;
    this.linger = setTimeout(() => {
      this.linger = null;
      if (!this.draining && !this.acquiring) void this.release();
    }, LINGER_MS);
  }

  protected hold(): Promise<void> {
    if (this.held && !this.acquiring) return Promise.resolve();
    this.acquiring ??= this.acquire().finally(() => {
      this.acquiring = null;
    });
    return this.acquiring;
  }

  protected async acquire(): Promise<void> {
    if (this.releasing) await this.releasing;
    const { brokeDead } = await acquireLock(this.lockPath, {
      timeoutMs: this.host.lockTimeoutMs,
      staleMs: this.host.staleLockMs,
      maxPollMs: 2,
    });
    this.held = true;
    this.heldSince = Date.now();
    this.session++;
    // Once per store: what processes killed while taking or breaking this lock left beside it (lock.ts).
    if (this.holds++ === 0) sweepDead(this.host.journalDir, LOCK_LEFTOVER);
    try {
      const { otherBoot, unchanged } = await this.journal.attach();
      if (!unchanged || brokeDead || otherBoot) this.span++;
      if (brokeDead || otherBoot) await recoverLeftJournal(this.journal, this.host, otherBoot);
    } catch (err) {
      await this.release();
      throw storeIoError(`cannot open the journal in ${this.host.journalDir}`, err, { dir: this.host.journalDir });
    }
  }

  protected release(): Promise<void> {
    if (!this.held) return this.releasing ?? Promise.resolve();
    this.held = false;
    this.releasing = releaseLock(this.lockPath).finally(() => {
      this.releasing = null;
    });
    return this.releasing;
  }

  /** A full segment: start the next, and drop the old once its logs are synced (in the background; it needs no lock). */
  protected async afterBatch(): Promise<void> {
    if (!this.held || this.journal.active.size < SEGMENT_BYTES) return;
    try {
      await this.journal.rotate();
    } catch (err) {
      this.host.warn(
        `cannot start a new journal segment in ${this.host.journalDir}: ${errorMessage(err)}; the current one keeps growing`,
      );
      return;
    }
    this.checkpointing ??= this.journal
      .checkpoint(this.host.runsDir, this.host.fileOf)
      .catch((err: unknown) =>
        this.host.warn(
          `cannot drop old journal segments in ${this.host.journalDir}: ${errorMessage(err)}; tried again at the next segment`,
        ),
      )
      .finally(() => {
        this.checkpointing = null;
      });
  }
}
