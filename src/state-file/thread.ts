/**
 * The state-file writer's thread, from the engine's side: a `worker_threads` Worker (thread-worker.ts) that renders the
 * YAML and writes the files, so the engine's thread only folds each shown run's entry (as it did) and hands it over,
 * once per sequence: a run the thread has at that sequence is named, not sent again. Started by the writer of a process
 * that keeps writing (writer.ts), never for a short command's one or two writes (a thread's start costs more than they
 * do). When it cannot start or dies, the writer writes in its own thread again.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../install/index.js';
import type { ShownRun } from './build.js';
import type { ThreadReply, ThreadWrite } from './thread-worker.js';

/** The thread failed (it could not start, or died): the writer goes on without it. */
export class WriterThreadGone extends Error {}

/** A run's entry as the thread has it: its sequence, and the live progress it shows (which changes without a commit). */
const versionOf = (r: ShownRun): string => (r.live === undefined ? String(r.seq) : `${r.seq} ${r.live}`);

export class WriterThread {
  /** The version each shown run was last sent at (what the thread has): its sequence, and its live progress if any. */
  private sent = new Map<string, string>();
  private readonly waiting = new Map<number, { resolve: (wrote: boolean) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private gone: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.unref(); // it never keeps the process alive; a write under way does (write())
    worker.on('message', (r: ThreadReply) =>
      this.settle(r.id, r.error === undefined ? null : new Error(r.error), r.wrote !== false),
    );
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`the state-file writer's thread exited (${code})`)));
  }

  /** The thread, or null where its module is not found (a bundle without it). */
  static start(): WriterThread | null {
    const file = threadModule();
    if (!file) return null;
    return new WriterThread(file.endsWith('.ts') ? fromSources(file) : new Worker(file));
  }

  /**
   * Writes the file at `path` showing `runs`, in order: false when its text was what the thread wrote last (nothing
   * written). Rejects with the thread's error (WriterThreadGone when it is gone).
   */
  async write(path: string, runs: readonly ShownRun[]): Promise<boolean> {
    if (this.gone) throw this.gone;
    const msg: ThreadWrite = {
      id: this.nextId++,
      path,
      runs: runs.map((r) => {
        const version = versionOf(r);
        return this.sent.get(r.id) === version
          ? { id: r.id, version }
          : { id: r.id, version, entry: r.entry, workset: r.workset };
      }),
    };
    this.sent = new Map(runs.map((r) => [r.id, versionOf(r)]));
    const done = new Promise<boolean>((resolve, reject) => this.waiting.set(msg.id, { resolve, reject }));
    this.worker.ref(); // a command's last write finishes before the process may exit
    this.worker.postMessage(msg);
    try {
      return await done;
    } catch (err) {
      this.sent.clear(); // sent whole again next time
      throw err;
    } finally {
      if (this.waiting.size === 0) this.worker.unref();
    }
  }

  async close(): Promise<void> {
    this.gone ??= new WriterThreadGone('the state-file writer was closed');
    await this.worker.terminate();
  }

  private settle(id: number, err: Error | null, wrote: boolean): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    if (err) w.reject(err);
    else w.resolve(wrote);
  }

  private fail(err: Error): void {
    if (this.gone) return;
    this.gone = new WriterThreadGone(err.message);
    for (const w of this.waiting.values()) w.reject(this.gone);
    this.waiting.clear();
  }
}

/**
 * From the sources (tests, the bench), the thread imports thread-worker.ts through tsx's tsImport: a worker's
 * `--import tsx` is not honoured under every runner (vitest's). Messages posted meanwhile wait for it.
 */
function fromSources(file: string): Worker {
  // tsx's ES module API (its CommonJS twin, which require.resolve names, cannot tsImport inside a worker).
  const api = JSON.stringify(
    pathToFileURL(
      createRequire(import.meta.url)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs'),
    ).href,
  );
  const url = JSON.stringify(pathToFileURL(file).href);
  return new Worker(
    new URL(
      `data:text/javascript,${encodeURIComponent(`const { tsImport } = await import(${api}); await tsImport(${url}, ${url});`)}`,
    ),
  );
}

/** thread-worker's module: beside this one from the sources; from a build, dist/state-file/ (a bundle's chunk lives elsewhere). */
function threadModule(): string | null {
  try {
    const here = fileURLToPath(import.meta.url);
    const candidates = here.endsWith('.ts')
      ? [join(here, '..', 'thread-worker.ts')]
      : [join(here, '..', 'thread-worker.js'), join(packageRoot(), 'dist', 'state-file', 'thread-worker.js')];
    return candidates.find((f) => existsSync(f)) ?? null;
  } catch {
    return null; // no package root above this module: the writer writes in its own thread
  }
}
