/**
 * The run logs the file store's writer keeps open for appending, the most
 * recently written ones: a run's next line usually follows its last soon, and
 * opening the file again for each line would cost as much as writing it.
 * Synchronous calls but for creating a file (see group-commit.ts on why).
 */
import { closeSync, constants, fstatSync, open as openCb, openSync } from 'node:fs';
import { promisify } from 'node:util';

const openAsync = promisify(openCb);

/**
 * Appending to a run log (created if missing) without following a symbolic link: a link planted as
 * runs/<id>.jsonl would have the store write outside itself; it fails ELOOP instead.
 */
export const APPEND_NO_LINK = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
const KEPT = 64;

export class OpenLogs {
  /** Least recently used first, each with the inode it was opened on. */
  private readonly logs = new Map<string, { fd: number; ino: number }>();

  /**
   * The run's log open for appending. `ino`: the inode its cache read (a log
   * that exists), null for a log the line creates. A kept descriptor is used
   * only while it is still that file (a log replaced since is opened again).
   */
  async open(runId: string, path: string, ino: number | null): Promise<{ fd: number; ino: number }> {
    const kept = this.logs.get(runId);
    if (kept) {
      this.logs.delete(runId);
      if (ino !== null && kept.ino === ino) {
        this.logs.set(runId, kept);
        return kept;
      }
      closeQuietly(kept.fd);
    }
    // Creating a file costs the file system far more than opening one: off the event loop.
    const fd = ino === null ? await openAsync(path, APPEND_NO_LINK, 0o666) : openSync(path, APPEND_NO_LINK, 0o666);
    let log: { fd: number; ino: number };
    try {
      log = { fd, ino: ino ?? fstatSync(fd).ino };
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
    this.logs.set(runId, log);
    if (this.logs.size > KEPT) {
      const [oldest, old] = this.logs.entries().next().value!;
      this.logs.delete(oldest);
      closeQuietly(old.fd);
    }
    return log;
  }

  /** Closes the run's log (a write to it failed: its state is unknown). */
  drop(runId: string): void {
    const kept = this.logs.get(runId);
    this.logs.delete(runId);
    if (kept) closeQuietly(kept.fd);
  }

  closeAll(): void {
    for (const l of this.logs.values()) closeQuietly(l.fd);
    this.logs.clear();
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already unusable: nothing more to release
  }
}
