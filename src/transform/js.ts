/**
 * TRANSFORM's `js:` (docs/language.md#javascript-js): a JavaScript script run in QuickJS compiled to WebAssembly
 * (quickjs-emscripten-core with its release-sync variant), never in this process's own JavaScript: in the JavaScript
 * thread (wasm-thread.ts), in a fresh QuickJS runtime per call with a memory limit and an interrupt deadline. The
 * script sees `$` (the task's resolved input, as Conductor's INLINE does) and the language's own objects (JSON, Math,
 * Date, RegExp, …): no require, no files, no network, no process. Its value (the last expression statement's, as
 * Conductor's INLINE) is the output's `result`.
 */
import { packageFileUrl, WasmThread } from './wasm-thread.js';
import { importModule } from '../import-module.js';

/** The most memory one script may use in its QuickJS runtime (out of memory fails the attempt, not retried). */
export const JS_MEMORY_LIMIT = 64 * 1024 * 1024;
/** The most stack a script may use (deep recursion fails the attempt, not retried). */
const JS_STACK_LIMIT = 1024 * 1024;

/** What one script gave: its value as JSON text, or why not (`timeout`: QuickJS's interrupt deadline passed). */
export type JsRun =
  | { ok: true; json: string }
  | { ok: false; kind: 'error' | 'timeout' | 'memory'; message: string; line?: number; col?: number };

/** Where in the script an error is: QuickJS's `script.js:<line>:<col>` in its stack (or a syntax error's). */
export const JS_POSITION = /script\.js:(\d+):(\d+)/;

/**
 * The thread's module: for `{ id, script, input, limitMs }`, a runtime with the limits, `$` parsed from the input
 * inside QuickJS, the script evaluated, its value stringified inside QuickJS (undefined and functions: null).
 */
function threadSource(): string {
  return `import { parentPort } from 'node:worker_threads';
const core = await import(${JSON.stringify(packageFileUrl('quickjs-emscripten-core', 'dist/index.mjs'))});
const variant = (await import(${JSON.stringify(packageFileUrl('@jitl/quickjs-wasmfile-release-sync', 'dist/index.mjs'))})).default;
const QuickJS = await core.newQuickJSWASMModuleFromVariant(variant);
const POSITION = ${JS_POSITION.toString()};
function failure(vm, handle, deadline) {
  const e = vm.dump(handle);
  handle.dispose();
  const message = e && typeof e === 'object' ? (e.name ? e.name + ': ' : '') + String(e.message) : String(e);
  const at = POSITION.exec(e && typeof e === 'object' ? String(e.stack || '') : '');
  const kind = /interrupted/.test(message) && Date.now() >= deadline ? 'timeout' : /out of memory/.test(message) ? 'memory' : 'error';
  return { ok: false, kind, message, ...(at ? { line: Number(at[1]), col: Number(at[2]) } : {}) };
}
function run(script, input, limitMs) {
  const deadline = Date.now() + limitMs;
  const rt = QuickJS.newRuntime();
  rt.setMemoryLimit(${JS_MEMORY_LIMIT});
  rt.setMaxStackSize(${JS_STACK_LIMIT});
  rt.setInterruptHandler(core.shouldInterruptAfterDeadline(deadline));
  const vm = rt.newContext();
  try {
    const text = vm.newString(input);
    vm.setProp(vm.global, '__lf_input', text);
    text.dispose();
    const bound = vm.evalCode('globalThis.$ = JSON.parse(globalThis.__lf_input); delete globalThis.__lf_input;', 'input.js');
    if (bound.error) return failure(vm, bound.error, deadline);
    bound.value.dispose();
    const ran = vm.evalCode(script, 'script.js');
    if (ran.error) return failure(vm, ran.error, deadline);
    vm.setProp(vm.global, '__lf_value', ran.value);
    ran.value.dispose();
    const json = vm.evalCode('(function (v) { var s = typeof v === "function" ? undefined : JSON.stringify(v); return s === undefined ? "null" : s; })(globalThis.__lf_value)', 'output.js');
    if (json.error) return failure(vm, json.error, deadline);
    const out = vm.getString(json.value);
    json.value.dispose();
    return { ok: true, json: out };
  } finally {
    vm.dispose();
    rt.dispose();
  }
}
parentPort.on('message', ({ id, script, input, limitMs }) => {
  let r;
  try { r = run(script, input, limitMs); } catch (err) { r = { ok: false, kind: 'error', message: String(err && err.message || err) }; }
  parentPort.postMessage({ id, ...r });
});`;
}

export const jsThread = (): WasmThread<{ script: string; input: string; limitMs: number }, JsRun> =>
  new WasmThread(threadSource, 'JavaScript');

type QuickJs = import('quickjs-emscripten-core').QuickJSWASMModule;
let loading: Promise<QuickJs> | undefined;

/** QuickJS in this thread, made on first use, then shared: what validate compiles scripts with (nothing of them runs). */
function quickjs(): Promise<QuickJs> {
  loading ??= Promise.all([
    importModule<typeof import('quickjs-emscripten-core')>('quickjs-emscripten-core'),
    importModule<typeof import('@jitl/quickjs-wasmfile-release-sync')>('@jitl/quickjs-wasmfile-release-sync'),
  ]).then(([core, variant]) =>
    core.newQuickJSWASMModuleFromVariant(
      variant.default as unknown as import('quickjs-emscripten-core').QuickJSSyncVariant,
    ),
  );
  return loading;
}

/** QuickJS's message when `script` does not parse, with its line and column in the script; null when it parses. Compiled only: nothing runs. */
export async function jsSyntaxProblem(script: string): Promise<{ message: string; line: number; col: number } | null> {
  const rt = (await quickjs()).newRuntime();
  rt.setMemoryLimit(JS_MEMORY_LIMIT);
  rt.setMaxStackSize(JS_STACK_LIMIT);
  const vm = rt.newContext();
  try {
    const compiled = vm.evalCode(script, 'script.js', { compileOnly: true });
    if (!compiled.error) {
      compiled.value.dispose();
      return null;
    }
    const e = vm.dump(compiled.error) as
      | { name?: string; message?: string; stack?: string; lineNumber?: number }
      | string;
    compiled.error.dispose();
    if (typeof e !== 'object' || e === null) return { message: String(e), line: 1, col: 1 };
    const at = JS_POSITION.exec(String(e.stack ?? ''));
    return {
      message: `${e.name ?? 'SyntaxError'}: ${e.message ?? ''}`,
      line: at ? Number(at[1]) : (e.lineNumber ?? 1),
      col: at ? Number(at[2]) : 1,
    };
  } finally {
    vm.dispose();
    rt.dispose();
  }
}
