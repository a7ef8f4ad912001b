/**
 * The token of an attempt an agent outside the engine's process runs (a file agent, src/agent/): what ties its result
 * to that attempt and to no other. Derived from the log, not kept anywhere: the run, the instance, the attempt and the
 * sequence of the `task.started` that began it, so a later attempt of the same task (a retry after a timeout), or the
 * same attempt number in a later loop iteration, has another token, while a restart of the same attempt
 * (`task.restarted`, the engine's process resumed) keeps it: the agent's work for it is still the attempt's outcome. A
 * fence, not a secret: on the file store the file system is the boundary (docs/users.md). Over NATS the token is keyed
 * (ATTEMPT_KEY below).
 */
import { createHash, createHmac } from 'node:crypto';
import { instanceKey } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';

export function attemptToken(runId: string, instance: string, attempt: number, startSeq: number): string {
  // `tk` first: a token of digits alone (or digits and one e) would read back from YAML as a number.
  return `tk${createHash('sha256').update(`${runId}\n${instance}\n${attempt}\n${startSeq}`).digest('hex').slice(0, 24)}`;
}

/**
 * Over NATS a file agent is a worker, which does not read the log: its task file's token cannot be fenced by the
 * sequence of a `task.started`, and one made of the run, the instance and the attempt alone could be computed by
 * anyone who can write the outbox (every part is in `status`). So it is keyed: the worker puts in the context it
 * hands a handler, under this symbol (never a field a handler lists or logs), a key made from the attempt's NATS
 * token (an HMAC under the engines' attempt secret, handed to the worker that was given the attempt only), and
 * the file agent's token is an HMAC under that key. The same on every delivery of the attempt (its token is),
 * so a result written before a worker's crash is taken after it; the token itself never reaches a handler.
 */
export const ATTEMPT_KEY: unique symbol = Symbol('ledgerflow.attemptKey');

/** The key a worker hands its handler (ATTEMPT_KEY) for the attempt whose NATS token is `natsToken`. */
export function attemptKeyOf(natsToken: string): string {
  return createHmac('sha256', natsToken).update('lf-file-agent-key').digest('hex');
}

/**
 * What a worker puts under ATTEMPT_KEY: the attempt's key, made when first asked for. Only a file agent's handler asks;
 * made for every attempt, its HMAC was 1.6% of an `engine --handlers` CPU. The token stays in the closure, so a
 * handler reaching for the symbol gets what it got before, the key, and never the token.
 */
export function attemptKeyFor(natsToken: string): () => string {
  let key: string | undefined;
  return () => (key ??= attemptKeyOf(natsToken));
}

/** The attempt's key a handler's context holds under ATTEMPT_KEY (what attemptKeyFor made), or undefined. */
export function attemptKeyIn(ctx: object): string | undefined {
  const held = (ctx as { [ATTEMPT_KEY]?: unknown })[ATTEMPT_KEY];
  return typeof held === 'function' ? (held as () => string)() : undefined;
}

/** A file agent's task token over NATS: `tk` and 32 hex digits of HMAC-SHA256(key, run, instance, attempt); see ATTEMPT_KEY. */
export function keyedAttemptToken(key: string, runId: string, instance: string, attempt: number): string {
  return `tk${createHmac('sha256', key).update(`${runId}\n${instance}\n${attempt}`).digest('hex').slice(0, 32)}`;
}

/** The sequence of the `task.started` of attempt `attempt` of `instance` (the latest, should a loop have run it before). */
export function attemptStartSeq(
  events: readonly EventEnvelope[],
  instance: string,
  attempt: number,
): number | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const ev = events[i]!;
    if (
      ev.type === 'task.started' &&
      !ev.data.reused &&
      ev.data.attempt === attempt &&
      instanceKey(ev.data) === instance
    )
      return ev.seq;
  }
  return undefined;
}
