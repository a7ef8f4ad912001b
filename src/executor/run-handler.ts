/**
 * One attempt of a handler, as both executors run it (in-process: local/in-process-attempts.ts; a NATS worker:
 * cluster/worker/run-attempt.ts): the secrets it names put in, the handler (or a COMMAND task's program, an HTTP
 * task's request) called with its context, aborted at its deadline, its output made JSON, masked and written to
 * output_to. What becomes of the outcome (recorded, reported) is the caller's.
 */
import { NonRetryableError } from '../errors/index.js';
import { DEFAULT_INLINE_LIMIT } from '../definition/index.js';
import { instanceFields, type InstanceRef } from '../compiler/index.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, tooDeepText, type Progress, type TaskError } from '../events/index.js';
import { ProgressReporter, type ProgressChannel } from '../progress/index.js';
import {
  handlerFor,
  HTTP_HANDLER,
  toTaskError,
  type CommandRunner,
  type Handlers,
  type HttpRunner,
  type StartAttempt,
} from '../runtime/index.js';
import { applySecrets, NO_MASK, type Masker, type SecretsProvider } from '../secrets/index.js';
import type { BlobStore } from '../store/index.js';
import type { AttemptControl } from './attempt-control.js';
import { externalize, externalizeValue, overInline, refuseReservedKey, resolvePayloads } from './payloads.js';
import { surelyOver } from './json-chunks.js';

/** What of an attempt its handler is run with: a StartAttempt is one; a worker makes one of its task message. */
export type HandlerAttempt = Omit<StartAttempt, 'type' | 'queue' | 'restart' | 'transform' | 'priority'>;

/** What an executor runs attempts with. */
export interface HandlerRunners {
  handlers: Handlers;
  commands?: CommandRunner;
  http?: HttpRunner;
  /** Where `${secrets.NAME}` values come from: asked only for an attempt that names some. */
  secrets: () => SecretsProvider | undefined;
  writeOutput?: (path: string, output: unknown) => Promise<void>;
  /** A handler's log line, secrets masked. */
  log: (a: HandlerAttempt, line: string) => void;
  /** Why this executor cannot run the attempt, in its own words (a worker names the flag that would). */
  refusal: (missing: 'COMMAND' | 'HTTP' | 'handler', a: HandlerAttempt) => string;
  /** The definition's file, handed to a COMMAND task's program: its default working directory. */
  definitionFile?: string;
  /** The most bytes of JSON an output may be (what a NATS outcome may carry). */
  outputLimit?: number;
  /**
   * Where large payloads are kept (the store's blobs): references in an attempt's input are read from it before the
   * handler sees them, and an output over the workflow's inline limit (or over outputLimit) is stored there and
   * reported as a reference. Without it, an output over outputLimit fails the attempt (LF_OUTPUT_TOO_LARGE).
   */
  blobs?: BlobStore;
  /** Where live progress goes (the store's channel: docs/handlers.md#progress); without it only the last value is kept, on the outcome. */
  progress?: ProgressChannel;
}

/** An attempt's outcome, with the last progress it reported (kept on task.completed / task.failed). */
export type HandlerOutcome = ({ output: unknown } | { error: TaskError }) & { progress?: Progress };

/** Besides the runners, for this attempt: its deadline, fields every context carries, or work of the executor's own instead of a handler. */
export interface HandlerCall {
  deadline?: string;
  extra?: object;
  own?: ((input: Record<string, unknown>) => Promise<unknown>) | null;
}

const UNAVAILABLE = { COMMAND: 'LF_COMMAND_UNAVAILABLE', HTTP: 'LF_HTTP_UNAVAILABLE', handler: 'LF_HANDLER_NOT_FOUND' };

/** The outcome ({ output } already JSON, or { error }); null: aborted meanwhile (timed out, no longer wanted), it reports nothing. */
export async function runHandler(
  a: HandlerAttempt,
  control: AttemptControl,
  runners: HandlerRunners,
  call: HandlerCall = {},
): Promise<HandlerOutcome | null> {
  const deadline = call.deadline
    ? setTimeout(
        () => control.abort(new Error('the attempt timed out')),
        Math.max(0, Date.parse(call.deadline) - Date.now()),
      )
    : undefined;
  const refuse = (missing: keyof typeof UNAVAILABLE) =>
    new NonRetryableError(runners.refusal(missing, a), UNAVAILABLE[missing]);
  // Every outcome and log line is masked before it leaves the executor.
  let mask: Masker = NO_MASK;
  // Made on the first report only: most attempts report none.
  let reporter: ProgressReporter | undefined;
  const started = Date.now();
  const progress = (fraction: number, message?: string) =>
    (reporter ??= new ProgressReporter(
      { runId: a.runId, task: a.taskId, instance: a.instance, attempt: a.attempt },
      runners.progress,
      (text) => mask.text(text),
      undefined,
      started,
    )).report(fraction, message);
  const kept = (): { progress?: Progress } => {
    const last = reporter?.lastValue();
    return last ? { progress: last } : {};
  };
  try {
    const resolved = await applySecrets(a.secrets, a.input, a.command, a.secrets ? runners.secrets() : undefined);
    mask = resolved.mask;
    const { command } = resolved;
    const input = (await resolvePayloads(resolved.input, runners.blobs, `the input of task ${a.instance}`)) as Record<
      string,
      unknown
    >;
    // `ctx.workflowInput` reads as the run's input too: its fields kept apart are read back (the same object when none).
    const workflowInput = (await resolvePayloads(
      a.workflowInput,
      runners.blobs,
      'the run input',
    )) as typeof a.workflowInput;
    const attempt = workflowInput === a.workflowInput ? a : { ...a, workflowInput };
    const log = (line: string) => runners.log(a, mask.text(String(line)));
    const extra = call.extra ?? {};
    let output: unknown;
    if (call.own) output = await call.own(input);
    else if (command) {
      if (!runners.commands) throw refuse('COMMAND');
      const file = runners.definitionFile;
      output = await runners.commands(
        command,
        input,
        handlerContext(attempt, control, log, progress, file ? { ...extra, definitionFile: file } : extra),
      );
    } else if (a.handler === HTTP_HANDLER) {
      if (!runners.http) throw refuse('HTTP');
      output = await runners.http(input, handlerContext(attempt, control, log, progress, extra));
    } else {
      const handler = handlerFor(runners.handlers, a.handler);
      if (!handler) throw refuse('handler');
      output = await handler(input, handlerContext(attempt, control, log, progress, { ...extra, task: a.task }));
    }
    // Past its deadline the executor's timeout decides (TIMED_OUT, then the retry policy): what a handler or
    // command returns once aborted is not its outcome, nor written to output_to.
    if (control.aborted) return null;
    if (runners.blobs && mask.size === 0 && a.outputTo === undefined) {
      // A value surely over the inline limit is stored from the value, its JSON never whole in memory (json-chunks.ts).
      const inline = Math.min(a.inlineLimit ?? DEFAULT_INLINE_LIMIT, runners.outputLimit ?? Number.POSITIVE_INFINITY);
      if (surelyOver(output, inline)) {
        if (nestsDeeperThan(output)) throw tooDeep(a.instance);
        return { output: await externalizeValue(output, runners.blobs, a.instance), ...kept() };
      }
    }
    let text: string;
    try {
      text = JSON.stringify(output) ?? 'null';
    } catch (err) {
      // Nested deep enough to overflow the stack: said as the depth it is, not as the RangeError.
      if (err instanceof RangeError && nestsDeeperThan(output)) throw tooDeep(a.instance);
      throw err;
    }
    // A value can nest no deeper than half its text's length: only a long text is walked (events/json-depth.ts).
    if (text.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(output)) throw tooDeep(a.instance);
    refuseReservedKey(text, a.instance);
    const json = mask.value(JSON.parse(text));
    const limit = runners.outputLimit;
    const carried = (limit === undefined && !runners.blobs) || mask.size === 0 ? text : JSON.stringify(json);
    if (runners.blobs) {
      // Kept apart past the workflow's inline limit, or what a NATS outcome may carry if that is less.
      const inline = Math.min(a.inlineLimit ?? DEFAULT_INLINE_LIMIT, limit ?? Number.POSITIVE_INFINITY);
      // Measured here, so that the common small output costs no await.
      const recorded = overInline(carried, inline) ? await externalize(json, carried, runners.blobs, inline) : json;
      if (a.outputTo !== undefined && runners.writeOutput) await runners.writeOutput(a.outputTo, json);
      return { output: recorded, ...kept() };
    }
    if (limit !== undefined && carried.length > limit / 3 && Buffer.byteLength(carried) > limit) {
      throw new NonRetryableError(
        `the output of task ${a.instance} is ${Buffer.byteLength(carried).toLocaleString('en-US')} bytes as JSON, over the ${limit.toLocaleString('en-US')} an outcome may carry on this NATS server (half its max_payload); return a reference (a path, a key, a URL) and keep the data elsewhere, e.g. in a file the task's output_to writes`,
        'LF_OUTPUT_TOO_LARGE',
      );
    }
    // `!== undefined`: an output_to that resolved to '' is refused by the writer, not skipped.
    if (a.outputTo !== undefined && runners.writeOutput) await runners.writeOutput(a.outputTo, json);
    return { output: json, ...kept() };
  } catch (err) {
    if (control.aborted) return null; // the same: a command killed at its deadline fails, but it timed out
    return { error: mask.value(toTaskError(err)), ...kept() };
  } finally {
    if (deadline) clearTimeout(deadline);
    // Its live value goes before the outcome is recorded: a reader then sees the kept one, never a stale live one.
    if (reporter) await reporter.end();
  }
}

/** An output nested deeper than a payload may (events/json-depth.ts): the attempt fails, not retried (it would return the same). */
function tooDeep(instance: string): NonRetryableError {
  return new NonRetryableError(tooDeepText(`the output of task ${instance}`), 'LF_OUTPUT_TOO_LARGE');
}

/** The input an attempt's outcome is recorded as (task.completed, task.failed), which a worker reports. */
export function outcomeEvent(ref: InstanceRef, attempt: number, r: HandlerOutcome, time: string) {
  const data = { task: ref.task, attempt, ...instanceFields(ref), ...(r.progress ? { progress: r.progress } : {}) };
  return 'error' in r
    ? { type: 'task.failed' as const, time, data: { ...data, error: r.error } }
    : { type: 'task.completed' as const, time, data: { ...data, output: r.output } };
}

/** Outputs are recorded in the log: they must be JSON (undefined, and what JSON cannot say, is null). */
export function toJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value) ?? 'null');
}

/**
 * What a handler (or a command) is handed besides its input, made in one object: the signal a getter, so that it is
 * made only if read (an AbortController per attempt was 1% of the engine's profile); spreading the context, as a
 * handler may, reads it then. `extra` comes last but for it. The getter is one function for every context, reading the
 * attempt's control from a hidden property: a getter made per object (`get signal()` in the literal) put each context
 * in dictionary mode, about 1 µs per attempt and slower reads in the handler.
 */
function handlerContext<E extends object>(
  a: HandlerAttempt,
  control: AttemptControl,
  log: (line: string) => void,
  progress: (fraction: number, message?: string) => void,
  extra: E,
) {
  const ctx = {
    runId: a.runId,
    workflowId: a.workflowId,
    taskId: a.taskId,
    attempt: a.attempt,
    ...instanceFields(a),
    idempotencyKey: a.idempotencyKey,
    log,
    progress,
    workflowInput: a.workflowInput,
    ...extra,
  };
  Object.defineProperty(ctx, CONTROL, { value: control });
  Object.defineProperty(ctx, 'signal', SIGNAL);
  return ctx as typeof ctx & { readonly signal: AbortSignal };
}

/** Where a handler's context keeps its attempt's control (non-enumerable: no copy or spread of the context carries it). */
const CONTROL = Symbol('ledgerflow.attemptControl');
/** The context's `signal`: an own, enumerable getter, as a getter in the object literal was, one function for all. */
const SIGNAL: PropertyDescriptor = Object.freeze({
  get(this: { [CONTROL]: AttemptControl }): AbortSignal {
    return this[CONTROL].signal;
  },
  enumerable: true,
  configurable: true,
});
