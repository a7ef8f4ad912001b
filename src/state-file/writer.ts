/**
 * The live state file: rewritten after the commits of this process, as a
 * projection of the log (build.ts), never read back.
 *
 * - Atomic: written to a temporary file beside it, then renamed over it, so
 *   a reader sees the old file or the new one, never a torn one, and a
 *   `kill -9` at any moment leaves a whole file.
 * - Coalesced: a commit asks for a write; while one is under way, the asks
 *   meanwhile become one more write, of the logs as they are by then.
 * - One writer at a time per store: built and written under the store's
 *   `exclusive('state-file')` lock, so two processes driving runs of one
 *   store each write the whole file from the logs, in turn, and the last
 *   write has every commit either made. A text the same as the last written
 *   is not written again.
 * - A write that fails (disk full, permissions taken away) does not stop any
 *   run: it is said once a minute at most, and the next commit writes the
 *   whole file again.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../errors/index.js';
import type { EventStore, StoreObserver } from '../store/index.js';
import { buildStateFile, RunEntries } from './build.js';

/** A failed write is said at most this often. */
const WARN_EVERY_MS = 60_000;

export interface StateFileWriterOptions {
  /** The file (`.3ox/workflow.state.yaml`); its folder is made when missing. */
  path: string;
  /** Settled runs kept (the newest). */
  keep: number;
  warn: (message: string) => void;
  now?: () => number;
}

export class StateFileWriter implements StoreObserver {
  private readonly entries = new RunEntries();
  private running: Promise<void> | null = null;
  private again = false;
  private lastText: string | null = null;
  private lastWarned = -Infinity;
  private closed = false;

  constructor(private readonly store: EventStore, private readonly o: StateFileWriterOptions) {}

  appended(): void {
    this.touch();
  }

  /** A commit was made: the file is written again soon (coalesced with the commits meanwhile). */
  touch(): void {
    if (this.closed) return;
    if (this.running) { this.again = true; return; }
    this.running = this.loop();
  }

  /** Waits for the writes asked for so far. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Writes what is pending and stops taking asks. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async loop(): Promise<void> {
    // Let the commit that asked return first: the write goes after what the turn is doing.
    await new Promise<void>((r) => setImmediate(r));
    try {
      do {
        this.again = false;
        await this.writeOnce();
      } while (this.again);
    } finally {
      this.running = null;
    }
  }

  private async writeOnce(): Promise<void> {
    try {
      const write = async () => {
        const text = await buildStateFile(this.store, this.o.keep, this.entries);
        if (text === this.lastText) return;
        await writeAtomically(this.o.path, text);
        this.lastText = text;
      };
      if (this.store.exclusive) await this.store.exclusive('state-file', write);
      else await write();
    } catch (err) {
      this.lastText = null; // written whole again at the next commit
      const now = (this.o.now ?? Date.now)();
      if (now - this.lastWarned >= WARN_EVERY_MS) {
        this.lastWarned = now;
        this.o.warn(`cannot write the state file ${this.o.path}: ${errorMessage(err)}; the runs go on, and it is written again after the next step`);
      }
    }
  }
}

/** Writes `text` to `path` through a temporary file beside it and a rename. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
