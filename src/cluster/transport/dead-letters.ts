/**
 * Dead letters: what engines and workers write when they give up on a message, and how long they try before they do.
 *
 * A dead letter is a REFERENCE to the refused message (stream, sequence, subject, size, sha256, deliveries) plus a
 * bounded part of it: the whole body as text when at most KEEP_BODY_BYTES (so `dlq replay` can publish it again),
 * else its first EXCERPT_BYTES. Never more: a large message wrapped whole would not fit the server's max payload, and
 * the engine would fail, nak and try again forever. Every field is cut to a fixed size.
 */
import { createHash } from 'node:crypto';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { DeadLetterMessage } from './messages.js';

/** Bodies up to this size are kept whole in the dead letter (and can be replayed). */
export const KEEP_BODY_BYTES = 64 * 1024;
/** Of a larger body, only this much is kept, as text, to show what it was. */
export const EXCERPT_BYTES = 4 * 1024;
const REASON_CHARS = 2000;
const PROBLEMS = 20;
const PROBLEM_CHARS = 500;
const ID_CHARS = 200;

/** Defaults of the retry bounds (ClusterSettings overrides each). */
export const REDELIVERY_DEFAULTS = {
  /** Deliveries of one message to engines before it is dead-lettered. */
  maxDeliver: 20,
  /** Deliveries of one task attempt to workers before it is dead-lettered: generous, a redelivery there is usually a lost worker. */
  taskMaxDeliver: 100,
  /** The delay before a message whose processing failed comes back: doubling from `first`, at most `max`. */
  firstRetryMs: 1000,
  maxRetryMs: 60_000,
} as const;

/** Deliveries past the bound the server still makes, so that dead-lettering itself can be retried (see setup.ts). */
export const DEAD_LETTER_SPARE_DELIVERIES = 5;

/** The delay before the next delivery after `deliveryCount` failed ones: 1 s, 2 s, 4 s … up to the cap. */
export function retryDelayMs(deliveryCount: number, s: { firstRetryMs?: number; maxRetryMs?: number } = {}): number {
  const first = s.firstRetryMs ?? REDELIVERY_DEFAULTS.firstRetryMs;
  const max = s.maxRetryMs ?? REDELIVERY_DEFAULTS.maxRetryMs;
  return Math.min(max, first * 2 ** Math.min(30, Math.max(0, deliveryCount - 1)));
}

const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n)}… (${s.length - n} more characters)`);

/** What the writer knows beyond the message itself. */
export type DeadLetterDetails = Pick<DeadLetterMessage, 'stage' | 'problems' | 'runId' | 'taskId' | 'by'>;

/**
 * The dead letter of a message taken from a stream: pure (the caller publishes it). The body is kept whole only when
 * small and valid UTF-8 (decodes and encodes back to the same bytes), so a replay publishes exactly what was received.
 */
export function deadLetterOf(
  m: Pick<JsMsg, 'data' | 'subject' | 'seq'> & { info: { stream: string; deliveryCount: number } },
  reason: string,
  at: string,
  details: DeadLetterDetails = {},
): DeadLetterMessage {
  const body = m.data;
  const size = body.byteLength;
  const sha256 = createHash('sha256').update(body).digest('hex');
  const text = size <= KEEP_BODY_BYTES ? new TextDecoder().decode(body) : null;
  const whole =
    text !== null && Buffer.from(text, 'utf8').equals(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  const why = whole
    ? ''
    : size > KEEP_BODY_BYTES
      ? ` [body of ${size} bytes not kept (more than ${KEEP_BODY_BYTES}): its first ${EXCERPT_BYTES} bytes are in excerpt; it cannot be replayed]`
      : ' [body not kept: it is not valid UTF-8 text; its first bytes are in excerpt; it cannot be replayed]';
  return {
    reason: cut(reason, REASON_CHARS) + why,
    at,
    ...(details.stage !== undefined ? { stage: cut(details.stage, ID_CHARS) } : {}),
    ...(details.problems !== undefined
      ? { problems: details.problems.slice(0, PROBLEMS).map((p) => cut(p, PROBLEM_CHARS)) }
      : {}),
    ...(details.runId !== undefined ? { runId: cut(details.runId, ID_CHARS) } : {}),
    ...(details.taskId !== undefined ? { taskId: cut(details.taskId, ID_CHARS) } : {}),
    ...(details.by !== undefined ? { by: cut(details.by, ID_CHARS) } : {}),
    source: {
      stream: m.info.stream,
      seq: m.seq,
      subject: cut(m.subject, ID_CHARS * 2),
      deliveries: m.info.deliveryCount,
    },
    size,
    sha256,
    ...(whole
      ? { raw: text }
      : { excerpt: new TextDecoder().decode(body.subarray(0, EXCERPT_BYTES)), truncated: size > EXCERPT_BYTES }),
  };
}

/**
 * Publishes a dead letter on lf.dlq.<kind> (an engine) or lf.dlq.tasks.<user> (a worker): the subject says who wrote
 * it, which decides whether it may be replayed. Its message id is the source's stream and sequence, so a writer that
 * dies before acking dead-letters it again and the stream keeps one. `keyed` (engines: AttemptTokens.engineMessageId)
 * makes that id one a worker cannot compute, so it cannot be taken first.
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  subject: string,
  letter: DeadLetterMessage,
  discriminator?: string,
  keyed: (id: string) => string = (id) => id,
): Promise<void> {
  const id = letter.source
    ? keyed(`dlq/${letter.source.stream}/${letter.source.seq}${discriminator ? `/${discriminator}` : ''}`)
    : undefined;
  await js.publish(subject, new TextEncoder().encode(JSON.stringify(letter)), id ? { msgID: id } : {});
}
