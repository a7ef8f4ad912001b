/** The jq thread (wasm-thread.ts): jq-wasm loaded by its file URL, each call `jq -c <program>` over the input. */
import { packageFileUrl, WasmThread } from './wasm-thread.js';

/** What jq gave: its output text (one JSON value per line), its error text and exit code. */
export interface JqRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** The thread's module: answers `{ id, program, input }` with `{ id, stdout, stderr, exitCode }`, in order. */
function threadSource(): string {
  return `import { parentPort } from 'node:worker_threads';
const { loadJq } = await import(${JSON.stringify(packageFileUrl('jq-wasm', 'dist/index.mjs'))});
const jq = await loadJq();
parentPort.on('message', ({ id, program, input }) => {
  let r;
  try { r = jq.raw(input, program, ['-c']); } catch (err) { r = { stdout: '', stderr: 'jq: error: ' + String(err && err.message || err), exitCode: 5 }; }
  parentPort.postMessage({ id, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode });
});`;
}

export const jqThread = (): WasmThread<{ program: string; input: string }, JqRun> =>
  new WasmThread(threadSource, 'jq program');
