/**
 * A WebAssembly program (jq for TRANSFORM's `jq:`, QuickJS for its `js:`) in a thread of its own (worker_threads), so
 * that a program that never ends (`repeat(.)`, `while (true) {}`) cannot stop the executor: the WebAssembly calls are
 * synchronous, and on the main thread such a program would block every run of the process. One thread per kind serves
 * the process's TRANSFORMs one at a time; a call that runs past its deadline, or whose attempt is aborted (timed out,
 * cancelled), terminates the thread, and the calls queued behind it go to a fresh one. The thread's module is given as
 * text (a `data:` module, which loads its packages by file URL: it resolves no package names); nothing of the user's is
 * evaluated by Node.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

interface Call<Req, Res> {
  request: Req;
  resolve: (r: Res) => void;
  reject: (err: Error) => void;
}

/**
 * The file URL of a package's file (`dist/index.mjs`), for a thread's module to import: found beside the package's
 * package.json, or (a package that exports none) the folder above its CommonJS entry's.
 */
export function packageFileUrl(pkg: string, file: string): string {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    dir = dirname(dirname(require.resolve(pkg)));
  }
  return pathToFileURL(join(dir, file)).href;
}

/**
 * A thread answering `{ id, ...request }` with `{ id, ...result }`, in order. `source` is the thread's module: it must
 * post one answer per message, with the message's `id`.
 */
export class WasmThread<Req extends object, Res extends object> {
  private worker: Worker | null = null;
  private nextId = 1;
  /** Calls sent and not answered, oldest first (the thread answers in order). */
  private readonly pending = new Map<number, Call<Req, Res>>();

  /** `what` names the program in a time-limit error ("jq program", "JavaScript"). */
  constructor(
    private readonly source: () => string,
    private readonly what: string,
  ) {}

  /** Runs one request; rejects when `signal` aborts or `limitMs` passes first (the thread is then replaced). */
  run(request: Req, opts: { limitMs: number; signal?: AbortSignal }): Promise<Res> {
    if (opts.signal?.aborted)
      return Promise.reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
    return new Promise<Res>((resolve, reject) => {
      const id = this.nextId++;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () =>
        this.kill(id, opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error('aborted'));
      const done = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(id, {
        request,
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      });
      timer = setTimeout(() => this.kill(id, new ThreadTimeLimit(opts.limitMs, this.what)), opts.limitMs);
      timer.unref();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.send(id);
    });
  }

  private send(id: number): void {
    const call = this.pending.get(id)!;
    this.thread().postMessage({ ...call.request, id });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(this.source())}`));
    // Idle, it keeps no process alive.
    worker.unref();
    worker.on('message', (m: Res & { id: number }) => {
      const call = this.pending.get(m.id);
      this.pending.delete(m.id);
      const { id: _id, ...result } = m;
      call?.resolve(result as unknown as Res);
    });
    worker.on('error', (err) => this.replace(worker, err));
    worker.on('exit', () => this.replace(worker, new Error(`the ${this.what} thread stopped`)));
    this.worker = worker;
    return worker;
  }

  /** A call that is no longer wanted: if the thread may be running it, the thread goes, and the others go to a new one. */
  private kill(id: number, why: Error): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    call.reject(why);
    const worker = this.worker;
    if (worker) {
      this.worker = null;
      void worker.terminate();
      this.resend();
    }
  }

  /** The thread failed or exited on its own: every call it held goes to a new one. */
  private replace(worker: Worker, _why: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.resend();
  }

  private resend(): void {
    for (const id of this.pending.keys()) this.send(id);
  }
}

/** A program ran past the time a TRANSFORM is given (it is stopped; a program that never ends would run forever). */
export class ThreadTimeLimit extends Error {
  constructor(
    readonly limitMs: number,
    what: string,
  ) {
    super(`its ${what} ran longer than ${limitMs / 1000} s and was stopped`);
    this.name = 'ThreadTimeLimit';
  }
}
