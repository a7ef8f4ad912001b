/**
 * TRANSFORM tasks (docs/language.md#javascript-js): a jq program (or a JavaScript script, js.ts) run over the task's
 * resolved input, by the executor itself on both stores (local/in-process-attempts.ts, the NATS engine's
 * cluster/engine/transforms.ts), never by a worker. jq is real jq (1.8) compiled to WebAssembly (the jq-wasm package),
 * loaded on the first TRANSFORM only, so no other command pays for it. jq runs no JavaScript and reads no files or
 * environment of this process; nothing here evals user text.
 *
 * The output is Conductor's JSON_JQ_TRANSFORM shape, `{ result, resultList }`: the program's first output (null when it
 * gives none) and all of them. It is recorded as a task.completed like any attempt's, so a replay reads it and never
 * runs jq again.
 */
import { positionIn, type Definition } from '../definition/index.js';
import { TransformError, type Diagnostic } from '../errors/index.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, tooDeepText } from '../events/index.js';
import { jqThread } from './jq-thread.js';
import { JS_MEMORY_LIMIT, jsSyntaxProblem, jsThread } from './js.js';
import { ThreadTimeLimit } from './wasm-thread.js';
import { importModule } from '../import-module.js';

/** What a TRANSFORM attempt records as its output: jq's `{ result, resultList }`, a script's `{ result }`. */
export interface TransformOutput {
  result: unknown;
  resultList?: unknown[];
}

/**
 * The most a TRANSFORM's output may be as JSON: half of NATS's default max_payload (1 MiB), as a worker's outcome may
 * carry at most half of its server's; the same on the embedded store, so a workflow behaves alike on both. A bigger
 * output fails the attempt (LF_OUTPUT_TOO_LARGE), not retried.
 */
export const TRANSFORM_OUTPUT_LIMIT = 512 * 1024;

/**
 * The longest a TRANSFORM's jq may run (an attempt's own timeout, or its run's, stops it sooner): jq is quick, and a
 * program that never ends would hold the jq thread for good. Past it the attempt fails, not retried.
 */
export const TRANSFORM_TIME_LIMIT_MS = 30_000;

/** The threads TRANSFORMs run in (jq-thread.ts, js.ts), each made on the first one of its kind. */
let thread: ReturnType<typeof jqThread> | undefined;
let scripts: ReturnType<typeof jsThread> | undefined;

type JqHandle = import('jq-wasm').Jq;
let loading: Promise<JqHandle> | undefined;

/** The jq handle of this thread, made on first use (about 60 ms), then shared: what validate compiles programs with (nothing of them runs). */
function jq(): Promise<JqHandle> {
  loading ??= importModule<typeof import('jq-wasm')>('jq-wasm').then((m) => m.loadJq());
  return loading;
}

/** jq's exit code for a program that does not compile. */
const COMPILE_ERROR_EXIT = 3;

/**
 * jq's messages on one line: each `jq: error…:` line without that prefix (a compile error's copy of the program and its
 * caret, and the count of compile errors, left out), joined with `; `.
 */
function jqMessage(stderr: string): string {
  const errors = stderr
    .split('\n')
    .filter((l) => l.startsWith('jq: error'))
    .map((l) => l.replace(/^jq: error(?: \(at [^)]*\))?: /, '').replace(/:\s*$/, ''));
  return errors.length > 0 ? errors.join('; ') : (stderr.trim().split('\n')[0] ?? '');
}

/**
 * Runs `program` over `input` and returns `{ result, resultList }`. A program that does not compile fails at once; an
 * error it raises (`error(...)`, indexing a number, …) is retryable as the task says. It runs in the jq thread, stopped
 * when `signal` aborts (the attempt timed out or was cancelled), at `deadlineMs` (the attempt's deadline, epoch ms), or
 * after TRANSFORM_TIME_LIMIT_MS, whichever is first.
 */
export async function runTransform(
  taskId: string,
  transform: { jq?: string; js?: string },
  input: unknown,
  opts: { signal?: AbortSignal; deadlineMs?: number; now?: number } = {},
): Promise<TransformOutput> {
  const left =
    opts.deadlineMs === undefined
      ? TRANSFORM_TIME_LIMIT_MS
      : Math.max(1, Math.min(TRANSFORM_TIME_LIMIT_MS, opts.deadlineMs - (opts.now ?? Date.now())));
  if (transform.js !== undefined) return runScript(taskId, transform.js, input, left, opts.signal);
  const program = transform.jq ?? '';
  let ran: { stdout: string; stderr: string; exitCode: number };
  try {
    ran = await (thread ??= jqThread()).run(
      { program, input: JSON.stringify(input ?? null) },
      { limitMs: left, ...(opts.signal ? { signal: opts.signal } : {}) },
    );
  } catch (err) {
    // Past the limit of every TRANSFORM: not retried (it would run as long again); past its attempt's deadline: as a timeout is.
    if (err instanceof ThreadTimeLimit)
      throw new TransformError(taskId, err.message, { retryable: err.limitMs < TRANSFORM_TIME_LIMIT_MS });
    throw err;
  }
  const { stdout, stderr, exitCode } = ran;
  if (exitCode !== 0) {
    const compile = exitCode === COMPILE_ERROR_EXIT;
    throw new TransformError(
      taskId,
      `${compile ? 'its jq program does not compile' : 'its jq program failed'}: ${jqMessage(stderr) || `jq exited ${exitCode}`}`,
      { retryable: !compile },
    );
  }
  if (stdout.length > TRANSFORM_OUTPUT_LIMIT) throw tooLarge(taskId, 'jq');
  // With -c, jq writes one JSON value per line: its strings escape newlines, so a line is a value.
  const resultList = stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
  if (stdout.length > 2 * MAX_JSON_DEPTH && resultList.some((v) => nestsDeeperThan(v))) throw tooDeep(taskId);
  return { result: resultList[0] ?? null, resultList };
}

const tooLarge = (taskId: string, what: string) =>
  new TransformError(
    taskId,
    `its ${what} output is over ${TRANSFORM_OUTPUT_LIMIT.toLocaleString('en-US')} bytes as JSON; reduce it in the program (select, limit, a summary)`,
    { retryable: false, code: 'LF_OUTPUT_TOO_LARGE' },
  );

/** An output nested past what a payload may (events/json-depth.ts): a program builds the same again, so not retried. */
const tooDeep = (taskId: string) =>
  new TransformError(taskId, tooDeepText('its output'), { retryable: false, code: 'LF_OUTPUT_TOO_LARGE' });

/**
 * Runs a `js:` script over `input` (its `$`) in QuickJS (js.ts) and returns `{ result }`. An error it throws fails the
 * attempt with LF_JS_ERROR, retried as the task says; a script that does not parse or runs out of memory fails it at
 * once; one still running at the limit is interrupted (LF_JS_TIMEOUT, retried only when the limit was its attempt's
 * deadline).
 */
async function runScript(
  taskId: string,
  script: string,
  input: unknown,
  limitMs: number,
  signal: AbortSignal | undefined,
): Promise<TransformOutput> {
  let ran: Awaited<ReturnType<ReturnType<typeof jsThread>['run']>>;
  const retryable = limitMs < TRANSFORM_TIME_LIMIT_MS;
  try {
    // QuickJS interrupts the script at limitMs; the thread is ended a second later if it has not answered by then.
    ran = await (scripts ??= jsThread()).run(
      { script, input: JSON.stringify(input ?? null), limitMs },
      { limitMs: limitMs + 1000, ...(signal ? { signal } : {}) },
    );
  } catch (err) {
    if (err instanceof ThreadTimeLimit)
      throw new TransformError(taskId, `its JavaScript ran longer than ${limitMs / 1000} s and was stopped`, {
        retryable,
        code: 'LF_JS_TIMEOUT',
      });
    throw err;
  }
  if (!ran.ok) {
    const at = ran.line !== undefined ? ` (line ${ran.line}, col ${ran.col})` : '';
    if (ran.kind === 'timeout')
      throw new TransformError(taskId, `its JavaScript ran longer than ${limitMs / 1000} s and was interrupted${at}`, {
        retryable,
        code: 'LF_JS_TIMEOUT',
      });
    if (ran.kind === 'memory')
      throw new TransformError(
        taskId,
        `its JavaScript used more than ${JS_MEMORY_LIMIT / 1024 / 1024} MiB and was stopped${at}`,
        { retryable: false, code: 'LF_JS_ERROR' },
      );
    if (/stack overflow/.test(ran.message))
      throw new TransformError(taskId, `its JavaScript recursed too deep (stack overflow)${at}`, {
        retryable: false,
        code: 'LF_JS_ERROR',
      });
    throw new TransformError(taskId, `its JavaScript failed: ${ran.message}${at}`, {
      retryable: !ran.message.startsWith('SyntaxError'),
      code: 'LF_JS_ERROR',
    });
  }
  if (ran.json.length > TRANSFORM_OUTPUT_LIMIT) throw tooLarge(taskId, 'JavaScript');
  const result = JSON.parse(ran.json) as unknown;
  if (ran.json.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(result)) throw tooDeep(taskId);
  return { result };
}

/**
 * What jq says of `program` when it does not compile, or null. It is compiled as `empty |` then the program on the next
 * line: `empty` gives no value, so nothing of the program runs (jq's `|` binds loosest, so the program is the whole
 * right side), and jq's line numbers, one less, are the program's.
 */
export async function jqCompileProblem(program: string): Promise<string | null> {
  const handle = await jq();
  const { stderr, exitCode } = handle.raw(null, `empty |\n${program}`);
  if (exitCode === 0) return null;
  return jqMessage(stderr).replace(/line (\d+)/g, (_, n: string) => `line ${Math.max(1, Number(n) - 1)}`);
}

/**
 * Diagnostics for the TRANSFORM tasks of `def` whose jq does not compile, at each task's `jq:` (LF_JQ_COMPILE), or
 * whose `js:` does not parse, at the script's own line and column (LF_JS_SYNTAX).
 */
export async function transformDiagnostics(def: Definition, text: string, file: string): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const t of def.tasks) {
    if (t.type === 'TRANSFORM' && t.js !== undefined) {
      const problem = await jsSyntaxProblem(t.js);
      if (problem === null) continue;
      const path = ['workflow', 'tasks', t.index, 'js'];
      out.push({
        severity: 'error',
        code: 'LF_JS_SYNTAX',
        message: `TRANSFORM task ${t.id}: its JavaScript does not parse at line ${problem.line}, col ${problem.col} of the script: ${problem.message}`,
        path,
        file,
        ...positionIn(text, path),
      });
      continue;
    }
    if (t.type !== 'TRANSFORM' || !t.jq) continue;
    const problem = await jqCompileProblem(t.jq);
    if (problem === null) continue;
    const path = ['workflow', 'tasks', t.index, 'jq'];
    out.push({
      severity: 'error',
      code: 'LF_JQ_COMPILE',
      message: `TRANSFORM task ${t.id}: its jq program does not compile: ${problem}`,
      path,
      file,
      ...positionIn(text, path),
    });
  }
  return out;
}
