/**
 * The run logs the file store's writer keeps open for appending, the most recently written ones: a run's next line
 * usually follows its last soon, and opening the file again for each line would cost as much as writing it. Synchronous
 * calls but for creating a file (see group-commit.ts on why).
 *
 * A descriptor handed out is pinned until its holder releases (or drops) it: the writer applies a batch of many runs at
 * once, and closing a log another run of the batch is about to write would let the system hand its number to the next
 * file opened, so that run's line would land in another run's log. Only unpinned logs are closed to keep the count at
 * KEPT; while more than KEPT are pinned (a batch creating many logs), the count goes over it and comes back as they are
 * released.
 */
import { closeSync, constants, fstatSync, open as openCb, openSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const openAsync = promisify(openCb);

/**
 * Appending to a run log (created if missing) without following a symbolic link: a link planted as
 * runs/<id>.jsonl would have the store write outside itself; it fails ELOOP instead.
 */
export const APPEND_NO_LINK = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * The process's limit on open descriptors where the system says it (Linux's /proc), else none known. The
 * kept and the being-created logs take at most an eighth and a sixteenth of it, so that a process with a
 * low limit (`ulimit -n 48`) still has descriptors for its lock, leases, handlers and sockets.
 */
function descriptorLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: no limit known, the defaults hold
  }
  return Number.POSITIVE_INFINITY;
}
const LIMIT = descriptorLimit();
/**
 * Up to 1,024 logs kept open: with more runs committing at once than are kept, every commit opened its log again and
 * closed another (bench `scale`, 1,000 five-step runs at once: 6.8 opens and closes a run with 64 kept, 1.9 with
 * 1,024, the creates). An open log costs the kernel a file entry; the count is still an eighth of the limit at most.
 */
const KEPT = Math.max(4, Math.min(1024, Math.floor(LIMIT / 8)));
const CREATING = Math.max(2, Math.min(32, Math.floor(LIMIT / 16)));

/** An open run log. `pinned`: handed out and not yet released (never closed meanwhile). */
interface OpenLog {
  readonly fd: number;
  readonly ino: number;
  pinned: boolean;
}

export class OpenLogs {
  /** Least recently used first. A run has one holder at a time (the writer applies a run in one batch at a time). */
  private readonly logs = new Map<string, OpenLog>();
  private unpinned = 0;
  private creating = 0;
  private readonly waiting: (() => void)[] = [];

  /**
   * The run's log open for appending and pinned, when it can be had without waiting: a log that exists (`ino`: the
   * inode its cache read) is opened synchronously, so its holder can write before anything else runs. Null when the
   * line creates the log (`ino` null): use open().
   */
  openNow(runId: string, path: string, ino: number | null): OpenLog | null {
    const kept = this.take(runId, ino);
    if (kept) return kept;
    if (ino === null) return null;
    let fd: number;
    try {
      fd = openSync(path, APPEND_NO_LINK, 0o666);
    } catch (err) {
      if (!outOfDescriptors(err)) throw err;
      this.closeIdle();
      fd = openSync(path, APPEND_NO_LINK, 0o666);
    }
    return this.keep(runId, { fd, ino, pinned: true }, false);
  }

  /**
   * As openNow, creating the log off the event loop where it is missing (creating a file costs far more than
   * opening one). At most CREATING at a time: a batch of hundreds of new runs would otherwise hold hundreds of
   * descriptors at once, and fail on a process's descriptor limit.
   */
  async open(runId: string, path: string, ino: number | null): Promise<OpenLog> {
    const now = this.openNow(runId, path, ino);
    if (now) return now;
    while (this.creating >= CREATING) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.creating++;
    try {
      const fd = await openAsync(path, APPEND_NO_LINK, 0o666).catch((err: unknown) => {
        if (!outOfDescriptors(err)) throw err;
        this.closeIdle();
        return openAsync(path, APPEND_NO_LINK, 0o666);
      });
      return this.keep(runId, { fd, ino: 0, pinned: true }, true);
    } finally {
      this.creating--;
      this.waiting.shift()?.();
    }
  }

  /** The holder is done writing: the log may be closed from now on to keep the count. */
  release(log: OpenLog): void {
    if (!log.pinned) return;
    log.pinned = false;
    this.unpinned++;
    this.trim();
  }

  /** Closes the run's log (a write to it failed: its state is unknown). */
  drop(runId: string): void {
    const kept = this.logs.get(runId);
    if (!kept) return;
    this.logs.delete(runId);
    if (!kept.pinned) this.unpinned--;
    kept.pinned = false;
    closeQuietly(kept.fd);
  }

  closeAll(): void {
    for (const l of this.logs.values()) closeQuietly(l.fd);
    this.logs.clear();
    this.unpinned = 0;
  }

  /** The kept descriptor of the run, pinned and made the most recent, while it is still the file `ino` (a log replaced since is opened again). */
  private take(runId: string, ino: number | null): OpenLog | null {
    const kept = this.logs.get(runId);
    if (!kept) return null;
    if (kept.pinned) throw new Error(`the run log of ${runId} is already being written`); // one holder a run: the writer's invariant
    this.logs.delete(runId);
    this.unpinned--;
    if (ino !== null && kept.ino === ino) {
      kept.pinned = true;
      this.logs.set(runId, kept);
      return kept;
    }
    closeQuietly(kept.fd);
    return null;
  }

  private keep(runId: string, log: OpenLog, statIno: boolean): OpenLog {
    if (statIno) {
      try {
        (log as { ino: number }).ino = fstatSync(log.fd).ino;
      } catch (err) {
        closeQuietly(log.fd);
        throw err;
      }
    }
    this.logs.set(runId, log);
    this.trim();
    return log;
  }

  /** Out of descriptors (a limit lower than KEPT plus what else the process holds): the logs nobody is writing are closed. */
  private closeIdle(): void {
    for (const [runId, log] of this.logs) if (!log.pinned) this.drop(runId);
  }

  /** Closes the least recently used unpinned logs past KEPT. */
  private trim(): void {
    if (this.logs.size <= KEPT || this.unpinned === 0) return;
    for (const [runId, log] of this.logs) {
      if (this.logs.size <= KEPT || this.unpinned === 0) break;
      if (log.pinned) continue;
      this.logs.delete(runId);
      this.unpinned--;
      closeQuietly(log.fd);
    }
  }
}

function outOfDescriptors(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already unusable: nothing more to release
  }
}
