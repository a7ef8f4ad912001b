/**
 * jq in a thread of its own (worker_threads), so that a program that never ends (`repeat(.)`, `range(1e18)`)
 * cannot stop the executor: jq-wasm's calls are synchronous, and on the main thread such a program would
 * block every run of the process. One thread serves the process's TRANSFORMs one at a time; a call that
 * runs past its deadline, or whose attempt is aborted (timed out, cancelled), terminates the thread, and
 * the calls queued behind it go to a fresh one. The thread loads jq-wasm by its file URL (a `data:` module
 * resolves no package names); nothing of the user's is evaluated as JavaScript.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What jq gave: its output text (one JSON value per line), its error text and exit code. */
export interface JqRun { stdout: string; stderr: string; exitCode: number }

interface Call { program: string; input: string; resolve: (r: JqRun) => void; reject: (err: Error) => void }

/** The thread's module: answers `{ id, program, input }` with `{ id, stdout, stderr, exitCode }`, in order. */
function threadSource(jqUrl: string): string {
  return `import { parentPort } from 'node:worker_threads';
const { loadJq } = await import(${JSON.stringify(jqUrl)});
const jq = await loadJq();
parentPort.on('message', ({ id, program, input }) => {
  let r;
  try { r = jq.raw(input, program, ['-c']); } catch (err) { r = { stdout: '', stderr: 'jq: error: ' + String(err && err.message || err), exitCode: 5 }; }
  parentPort.postMessage({ id, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode });
});`;
}

/** The file URL of jq-wasm's ES module entry for Node (its package's exports: node → import). */
function jqModuleUrl(): string {
  const pkg = createRequire(import.meta.url).resolve('jq-wasm/package.json');
  return pathToFileURL(join(dirname(pkg), 'dist', 'index.mjs')).href;
}

export class JqThread {
  private worker: Worker | null = null;
  private nextId = 1;
  /** Calls sent and not answered, oldest first (the thread answers in order). */
  private readonly pending = new Map<number, Call>();

  /** Runs `program` over `input` (JSON text); rejects when `signal` aborts or `limitMs` passes first (the thread is then replaced). */
  run(program: string, input: string, opts: { limitMs: number; signal?: AbortSignal }): Promise<JqRun> {
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
    return new Promise<JqRun>((resolve, reject) => {
      const id = this.nextId++;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.kill(id, opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error('aborted'));
      const done = () => { clearTimeout(timer); opts.signal?.removeEventListener('abort', onAbort); };
      this.pending.set(id, { program, input, resolve: (r) => { done(); resolve(r); }, reject: (err) => { done(); reject(err); } });
      timer = setTimeout(() => this.kill(id, new JqTimeLimit(opts.limitMs)), opts.limitMs);
      timer.unref();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.send(id);
    });
  }

  private send(id: number): void {
    const call = this.pending.get(id)!;
    this.thread().postMessage({ id, program: call.program, input: call.input });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(threadSource(jqModuleUrl()))}`));
    // Idle, it keeps no process alive.
    worker.unref();
    worker.on('message', (m: JqRun & { id: number }) => {
      const call = this.pending.get(m.id);
      this.pending.delete(m.id);
      call?.resolve({ stdout: m.stdout, stderr: m.stderr, exitCode: m.exitCode });
    });
    worker.on('error', (err) => this.replace(worker, err));
    worker.on('exit', () => this.replace(worker, new Error('the jq thread stopped')));
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

/** A jq program ran past the time a TRANSFORM is given (it is stopped; a program that never ends would run forever). */
export class JqTimeLimit extends Error {
  constructor(readonly limitMs: number) {
    super(`its jq program ran longer than ${limitMs / 1000} s and was stopped`);
    this.name = 'JqTimeLimit';
  }
}
