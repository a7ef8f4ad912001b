/**
 * The live state file: rewritten after this process's commits, as a projection of the log (build.ts), never read back.
 *
 * - Atomic: written to a temporary file beside it, then renamed over it, so a reader sees the old file or the new one,
 *   never a torn one, and a `kill -9` at any moment leaves a whole file.
 * - Coalesced: a commit asks for a write, which goes at least STATE_FILE_INTERVAL_MS after the last one; the asks
 *   meanwhile become that one write, of the logs as they are by then. A command's end (close()) writes what is pending
 *   at once.
 * - One writer at a time per store: built and written under the store's `exclusive('state-file')` lock, so two
 *   processes driving runs of one store each write the whole file from the logs, in turn, and the last write has every
 *   commit either made. A text the same as the last written is not written again.
 * - A write that fails (disk full, permissions taken away) does not stop any run: it is said once a minute at most, and
 *   the next commit writes the whole file again.
 * - Off the engine's thread once a process keeps writing (thread.ts): the YAML and the files are the writer's thread's;
 *   this one folds the entries.
 */
import { errorMessage } from '../errors/index.js';
import type { AppendRequest, EventStore, StoreObserver } from '../store/index.js';
import { buildProjection, planProjection, RunEntries, RunSummaries } from './build.js';
import { removeStaleTemporaries, writeAtomically, writeProjection, type WriteText } from './files.js';
import { WriterThread, WriterThreadGone } from './thread.js';
import type { LiveReader } from './live-progress.js';
import { FileProgressChannel, type ProgressChannel } from '../progress/index.js';
import { ringOf, sealedProgress } from '../encryption/index.js';
import { StateFileMarks } from './mark.js';

export { worksetsDir } from './text.js';
export { writeAtomically, writeProjection } from './files.js';

/** A failed write is said at most this often. */
const WARN_EVERY_MS = 60_000;
/**
 * Writes are this far apart at least while commits keep coming, and nine times as long as the last write took when that
 * is longer. A write costs the engine more than its own CPU (a lock file, a rename beside the store's synced appends):
 * writing after every commit of 16 runs in flight cost two thirds of its throughput, every 250 ms a third, every second
 * a fifth (npm run bench -- statefile). The file is that far behind the log at most; close() writes at once.
 */
const STATE_FILE_INTERVAL_MS = 1000;

interface StateFileWriterOptions {
  /** The file (`.3ox/workflow.state.yaml`); its folder is made when missing. */
  path: string;
  /** Settled runs kept (the newest). */
  keep: number;
  warn: (message: string) => void;
  now?: () => number;
  /** Least time between two writes while commits keep coming (default STATE_FILE_INTERVAL_MS). */
  intervalMs?: number;
  /** A failed write is tried again this long after, with no commit asking (default RETRY_MS). */
  retryMs?: number;
  /** How each file is written whole (default writeAtomically): a test gives one that fails as a full disk does. */
  write?: WriteText;
  /**
   * Write under the store's `state-file` lock (default true): the embedded store's processes share one file. A follower
   * of a NATS stream writes a file of its own machine and takes no lock of the cluster's for it.
   */
  lock?: boolean;
  /**
   * Render and write in a thread of its own (thread.ts): 'auto' (the default) from the writer's third write on, true
   * from the first, false never. A writer given `write` writes in its own thread (the function is its own).
   */
  thread?: boolean | 'auto';
  /**
   * Where the runs' live progress is read from (each write shows it; `progressed` says when it changed). Default: the
   * embedded store's files under its folder; a NATS follower gives its mirror of KV LF_PROGRESS.
   */
  progress?: ProgressChannel;
}

/** After a failed write, the files are tried again this long after even when no commit asks (space may have come back). */
const RETRY_MS = 10_000;

/**
 * The writes a process makes in its own thread before it starts the writer's (thread.ts): a command that ends within a
 * second or two (`run` of a short workflow, `approve`) writes once or twice, and a thread's start would cost it more
 * than those writes; a process that keeps writing (`serve`, `engine`, a long `run`) hands the YAML and the files to the
 * thread from its third write on.
 */
const WRITES_BEFORE_THREAD = 2;

export class StateFileWriter implements StoreObserver {
  private readonly entries = new RunEntries();
  private readonly summaries = new RunSummaries((runId) => this.entries.forget(runId));
  private running: Promise<void> | null = null;
  private again = false;
  private lastText: string | null = null;
  /** The worksets written last (run id → text); null: not known, so the next write lists the folder. */
  private lastWorksets: Map<string, string> | null = null;
  private lastWarned = -Infinity;
  private closed = false;
  private closing = false;
  private lastWrite = -Infinity;
  private lastTook = 0;
  private hurry: (() => void) | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private writes = 0;
  private catchingUp = false;
  /** The writer's thread once started; null: not (yet), or it failed and the writer writes in its own. */
  private thread: WriterThread | null = null;
  private threadFailed = false;
  /** This process's appends in flight (StoreObserver.appending): a write made meanwhile records no mark. */
  private inFlight = 0;
  /** A commit or progress was told since the last write began: a catch-up is then a write like any other. */
  private told = false;
  /** Whether the file was written from the store as it was when this writer was made (upToDate), and once looked. */
  private readonly current: Promise<boolean>;
  private checked = false;
  /** Under which store mark the file was written (the embedded store's writers only; mark.ts). */
  private readonly marks: StateFileMarks | null;
  /** The file's stamp when this writer last recorded its mark (null: not recorded). */
  private lastStamp: string | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly o: StateFileWriterOptions,
  ) {
    const dir = (store as { dir?: unknown }).dir;
    this.marks = typeof dir === 'string' && o.lock !== false ? new StateFileMarks(dir, o.path, writeAtomically) : null;
    this.current = this.upToDate();
    void this.current.then(() => {
      this.checked = true;
    });
  }

  /**
   * This process's first append waits for the look at the record (mark.ts): made after one of its own commits, the look
   * would find the store changed and the file rebuilt from every run's log at the first write.
   */
  beforeAppend(): Promise<unknown> | undefined {
    return this.checked ? undefined : this.current;
  }

  /** The runs' live progress (the embedded store's files under its folder, or the one given), which each write shows. */
  private get live(): LiveReader | undefined {
    const dir = (this.store as { dir?: unknown }).dir;
    if (!this.o.progress && typeof dir !== 'string') return undefined;
    this.liveReader ??= this.o.progress ?? sealedProgress(FileProgressChannel.under(dir as string), ringOf(this.store));
    const channel = this.liveReader;
    return (runId) => channel.read(runId);
  }
  private liveReader: ProgressChannel | undefined;

  /** A run's live progress changed: the file shows it at the next write (coalesced as commits are). */
  progressed(_runId: string): void {
    this.told = true;
    this.touch();
  }

  appending(ended: boolean): void {
    this.inFlight += ended ? -1 : 1;
  }

  appended(req: AppendRequest): void {
    this.told = true;
    this.summaries.observe(req.events);
    this.entries.observe(req.events);
    this.touch();
  }

  /** A commit was made: the file is written again soon (coalesced with the commits meanwhile). */
  touch(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop();
  }

  /**
   * Writes the file from the log now, as the process opens the store: a process killed between a commit and its write
   * left it a step behind. Not a commit's write: the first commit after it is written at once, as ever.
   */
  catchUp(): void {
    this.catchingUp = true;
    this.touch();
  }

  /** Waits for the writes asked for so far. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Writes what is pending at once (not waiting out the interval). */
  async flushNow(): Promise<void> {
    this.closing = true;
    this.hurry?.();
    try {
      await this.flush();
    } finally {
      this.closing = false;
    }
  }

  /** Writes what is pending at once and stops taking asks. */
  async close(): Promise<void> {
    await this.flushNow();
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.thread?.close();
    this.thread = null;
  }

  private async loop(): Promise<void> {
    try {
      do {
        // The commits of the next moments join this write; close() cuts the wait short. At most a tenth of the time
        // spent writing: a slow write (a large store) spaces the next ones further.
        const gap = Math.max(this.o.intervalMs ?? STATE_FILE_INTERVAL_MS, 9 * this.lastTook);
        const wait = Math.max(0, this.lastWrite + gap - Date.now());
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.closing ? 0 : wait);
          this.hurry = () => {
            clearTimeout(t);
            r();
          };
        });
        this.hurry = null;
        this.again = false;
        const catchingUp = this.catchingUp;
        this.catchingUp = false;
        const told = this.told;
        this.told = false;
        const t = Date.now();
        // A catch-up with nothing told since, of a file written from the store as it is now: nothing to write (a reader
        // in a folder with `.3ox/` would otherwise rebuild it from every run's log). What a killed writer left is swept.
        if ((await this.current) && catchingUp && !told) await removeStaleTemporaries(this.o.path);
        else await this.writeOnce();
        this.lastTook = Date.now() - t;
        // A catch-up spaces nothing: the commits that follow it are written as they would have been without it.
        if (!catchingUp) this.lastWrite = Date.now();
      } while (this.again);
    } finally {
      this.running = null;
    }
  }

  /**
   * Whether the file was written whole from the store as it is now (mark.ts); if so, what it shows is where this
   * writer starts from (no run's log read to know the others).
   */
  private async upToDate(): Promise<boolean> {
    if (!this.marks) return false;
    try {
      // What a killed process left in the journal put back first (as listing the runs did): its commit then moves the
      // mark, and the file is written with it. Then every run, as the mark's own listing found them: a record current
      // with that mark says no run came or went since.
      await (this.store as { ready?: () => Promise<void> }).ready?.();
      const found = await this.marks.upToDate(this.o.keep);
      if (!found) return false;
      if (found.shown) this.summaries.seed(found.ids, found.shown, this.o.keep);
      return true;
    } catch {
      return false; // the record cannot be read: the file is written, as before there were records
    }
  }

  private async writeOnce(): Promise<void> {
    if (this.retry) {
      clearTimeout(this.retry);
      this.retry = null;
    }
    try {
      /** What it did: wrote the file, or found its text the same as it (or its thread) wrote last. */
      const write = async (): Promise<'wrote' | 'same'> => {
        const thread = this.threaded();
        if (thread) {
          try {
            const wrote = await thread.write(
              this.o.path,
              await planProjection(this.store, this.o.keep, this.entries, undefined, this.summaries, this.live),
            );
            return wrote ? 'wrote' : 'same';
          } catch (err) {
            if (!(err instanceof WriterThreadGone)) throw err;
            // The thread is gone: this write and the next are made here, the files whole (the thread wrote them last).
            this.o.warn(
              `the state file's writer thread stopped (${err.message}); ${this.o.path} is written by the engine's thread from now on`,
            );
            this.thread = null;
            this.threadFailed = true;
            this.lastText = null;
            this.lastWorksets = null;
          }
        }
        const projection = await buildProjection(
          this.store,
          this.o.keep,
          this.entries,
          undefined,
          this.summaries,
          this.live,
        );
        if (projection.text === this.lastText) return 'same';
        this.lastWorksets = await writeProjection(this.o.path, projection, this.lastWorksets, this.o.write);
        this.lastText = projection.text;
        return 'wrote';
      };
      const marked = async () => {
        // The store's mark before the runs are listed; none while an append of this process is in flight (mark.ts).
        const mark = this.marks && this.inFlight === 0 ? await this.marks.storeMark() : null;
        const did = await write();
        // A text not written again stands for this write only if the file is still the one this writer left.
        if (this.marks)
          this.lastStamp = await this.marks.record(
            mark,
            this.o.keep,
            this.summaries.lastShown(),
            did === 'same' ? this.lastStamp : undefined,
          );
      };
      this.writes++;
      if (this.store.exclusive && this.o.lock !== false) await this.store.exclusive('state-file', marked);
      else await marked();
    } catch (err) {
      this.lastText = null; // written whole again at the next commit, or by the retry
      this.lastWorksets = null;
      this.lastStamp = null;
      // A run waiting on a person makes no commit: the files are tried again all the same (not keeping the process alive for it).
      if (!this.closed) {
        this.retry = setTimeout(() => this.touch(), this.o.retryMs ?? RETRY_MS);
        this.retry.unref?.();
      }
      const now = (this.o.now ?? Date.now)();
      if (now - this.lastWarned >= WARN_EVERY_MS) {
        this.lastWarned = now;
        this.o.warn(
          `cannot write the state file ${this.o.path}: ${errorMessage(err)}; the runs go on, and it is written whole again after the next step or within ${Math.round((this.o.retryMs ?? RETRY_MS) / 1000)}s`,
        );
      }
    }
  }

  /** The writer's thread when this write goes through it (started at the timed write WRITES_BEFORE_THREAD + 1, unless told otherwise). */
  private threaded(): WriterThread | null {
    const when = this.o.write ? false : (this.o.thread ?? 'auto');
    // Not for a command's last write either (close, flushNow): a thread started to write once more is all cost.
    if (
      this.thread ||
      this.threadFailed ||
      when === false ||
      (when === 'auto' && (this.writes <= WRITES_BEFORE_THREAD || this.closing)) ||
      this.closed
    )
      return this.thread;
    this.thread = WriterThread.start();
    if (!this.thread) this.threadFailed = true;
    return this.thread;
  }
}
