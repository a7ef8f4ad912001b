/**
 * The boundary with a handler's code in an in-process attempt: the context a handler (or a command, an HTTP
 * request) is handed besides its input, and its output made JSON before it is recorded. Apart from
 * in-process-attempts.ts, which runs the attempts and feeds their outcomes back into the driver's loop.
 */
import type { AttemptControl } from '../executor/index.js';
import type { StartAttempt } from '../runtime/index.js';
import { NO_MASK, type Masker } from '../secrets/index.js';
import type { DriverOptions } from './driver-options.js';

/** Outputs are recorded in the log: they must be JSON. */
export function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value));
}

/**
 * What a handler (or a command) is handed besides its input, made in one object: the signal a
 * getter, so that it is made only if read (an AbortController per attempt was 1% of the engine's
 * profile); spreading the context, as a handler may, reads it then. `extra` comes last but for it.
 * The getter is one function for every context, reading the attempt's control from a hidden
 * property: a getter made per object (`get signal()` in the literal) put each context in
 * dictionary mode, about 1 µs per attempt and slower reads in the handler.
 */
export function handlerContext<E extends object>(
  opts: DriverOptions,
  effect: StartAttempt,
  fields: { iteration?: number; item?: number },
  control: AttemptControl,
  extra: E,
  mask: Masker = NO_MASK,
) {
  const instance = effect.instance;
  const ctx = {
    runId: effect.runId,
    workflowId: effect.workflowId,
    taskId: effect.taskId,
    attempt: effect.attempt,
    ...fields,
    idempotencyKey: effect.idempotencyKey,
    log: (m: string) => opts.onLog?.(instance, mask.text(m)),
    workflowInput: effect.workflowInput,
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
