/**
 * JetStream publishes for appends, and gets of one message for reads, pipelined on one reply subscription.
 *
 * A JetStream publish is a core NATS publish with a reply subject: the server answers with a PubAck
 * (`{"stream","seq","duplicate"}`) or an API error (`{"error":{"code","err_code","description"}}`), or, when no stream
 * takes the subject, with a 503 status. nats.js's `js.publish` does exactly that through its generic request machinery,
 * which per request builds a timer, a deferred, a request object and (even on success) a RequestError for its
 * cancellation: measured here at ~43 µs of CPU per publish against ~14 µs for the same publish on a shared reply
 * subscription. Appends are the engine's hot path, so the store publishes this way.
 *
 * Answers and failures are the ones `js.publish` gives (same PubAck, a JetStreamApiError for an API error,
 * JetStreamNotEnabled caused by a NoRespondersError for no responders, TimeoutError when no answer comes in time), so
 * the store's error handling (codec.ts) treats both alike. The requests themselves are replies.ts's (one reply
 * subscription, one timeout sweep). Internal to src/store.
 */
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import type { PubAck } from '@nats-io/jetstream';
import {
  InvalidArgumentError,
  JetStreamApiError,
  JetStreamError,
  JetStreamNotEnabled,
  NoRespondersError,
  RequestError,
} from './nats-lib.js';
import { SharedReplies } from './replies.js';

/**
 * A publish whose reply can no longer come: the connection was lost and re-established while it waited (a reply in
 * flight is not redelivered). Whether it was stored is unknown; the caller sends it again with the same message id,
 * which the server deduplicates.
 */
export class ReplyLostError extends Error {
  readonly code = 'LF_REPLY_LOST';
  constructor() {
    super('the connection to nats-server was re-established while waiting for the reply: outcome unknown');
  }
}

/** A message's headers, in order: name and value. */
export type HeaderFields = readonly (readonly [string, string])[];

/**
 * The header block nats.js's MsgHdrs would encode for these fields, byte for byte (`NATS/1.0`, then `Name: value`
 * lines, values trimmed), made as one string: MsgHdrs looks every name up again on each append (a regular expression, a
 * canonical form, an array of keys), ~4% of an in-process engine's CPU for five fixed headers per commit. The client
 * only calls `encode()` on what it is handed. A value with CR or LF is refused as MsgHdrs refuses it.
 */
export function encodedHeaders(fields: HeaderFields, more: HeaderFields = []): { encode(): Uint8Array } {
  let text = 'NATS/1.0';
  for (const list of [fields, more]) {
    for (const [name, value] of list) {
      if (value.includes('\r') || value.includes('\n'))
        throw InvalidArgumentError.format('header', 'values cannot contain \\r or \\n');
      text += `\r\n${name}: ${value.trim()}`;
    }
  }
  const bytes = Buffer.from(`${text}\r\n\r\n`, 'utf8');
  return { encode: () => bytes };
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A message of the stream as a get answers it: its subject, stream sequence and body. */
export interface GotMessage {
  subject: string;
  seq: number;
  data: Uint8Array;
}

export class JetStreamPublisher {
  private readonly replies: SharedReplies;

  /** `inboxPrefix`: the connection's own (inbox.ts), so the replies come where only its user may listen. */
  constructor(nc: NatsConnection, inboxPrefix?: string) {
    this.replies = new SharedReplies(nc, inboxPrefix);
  }

  /** The JSON reply to a JetStream API request; its API error thrown as the client's js.publish builds it (`code`: its err_code). */
  private async ask<R>(subject: string, body: Uint8Array, opts: Parameters<SharedReplies['request']>[2]): Promise<R> {
    let msg: Msg;
    try {
      msg = await this.replies.request(subject, body, opts);
    } catch (err) {
      // As js.publish says it (a request's no-responders, wrapped): no stream takes the subject.
      if (err instanceof RequestError && err.cause instanceof NoRespondersError)
        throw new JetStreamNotEnabled('jetstream is not enabled', { cause: err });
      throw err;
    }
    let r: R & { error?: { code: number; err_code?: number; description?: string } };
    try {
      r = JSON.parse(decoder.decode(msg.data));
    } catch (err) {
      throw new JetStreamError(`bad JSON in the reply: ${(err as Error).message}`, { cause: err });
    }
    if (r.error)
      throw new JetStreamApiError({
        code: r.error.code,
        err_code: r.error.err_code ?? 0,
        description: r.error.description ?? '',
      });
    return r;
  }

  /**
   * Publishes `body` on `subject` with `headers`, then a message id (dedup; none for a KV write, kv-cas.ts) and the
   * expected last sequence of the subject (none: a message that expects nothing, a kick on LF_INPUTS); resolves with
   * the PubAck. Throws synchronously-as-rejection what `nc.publish` throws (e.g. MAX_PAYLOAD_EXCEEDED, a closed
   * connection).
   */
  async publish(
    subject: string,
    body: Uint8Array,
    opts: { msgID?: string; lastSubjectSequence?: number; headers: HeaderFields; timeoutMs: number },
  ): Promise<PubAck> {
    const more: [string, string][] = [];
    if (opts.msgID !== undefined) more.push(['Nats-Msg-Id', opts.msgID]);
    if (opts.lastSubjectSequence !== undefined)
      more.push(['Nats-Expected-Last-Subject-Sequence', String(opts.lastSubjectSequence)]);
    const r = await this.ask<{ stream?: string; seq?: number; duplicate?: boolean; domain?: string }>(subject, body, {
      headers: encodedHeaders(opts.headers, more),
      timeoutMs: opts.timeoutMs,
    });
    // What the store relies on (the stream sequence it keeps as the run's position), checked as a PubAck must be.
    if (typeof r.stream !== 'string' || r.stream === '' || !Number.isSafeInteger(r.seq) || r.seq! < 1)
      throw new JetStreamError('invalid ack response');
    return { stream: r.stream, seq: r.seq!, duplicate: r.duplicate === true, domain: r.domain } as PubAck;
  }

  /**
   * One message of `stream` (`query`: `{ seq }`, `{ last_by_subj }` or `{ seq, next_by_subj }`), asked on the
   * same reply subscription: what `jsm.streams.getMessage` answers, without its per-request overhead (a read
   * of a run just started, and the walks of reads and append checks). A JetStreamApiError for an API error
   * (10037: no such message), as the manager gives it.
   */
  async get(api: string, stream: string, query: object, timeoutMs: number): Promise<GotMessage> {
    const m = (
      await this.ask<{ message?: { subject?: unknown; seq?: unknown; data?: unknown } }>(
        `${api}.STREAM.MSG.GET.${stream}`,
        encoder.encode(JSON.stringify(query)),
        { timeoutMs },
      )
    ).message;
    if (
      typeof m?.subject !== 'string' ||
      !Number.isSafeInteger(m.seq) ||
      (m.data !== undefined && typeof m.data !== 'string')
    )
      throw new JetStreamError('invalid message get response');
    return {
      subject: m.subject,
      seq: m.seq as number,
      data: typeof m.data === 'string' ? Buffer.from(m.data, 'base64') : new Uint8Array(0),
    };
  }

  /**
   * The last message of `subject` in `stream` by a direct get (`<api>.DIRECT.GET.<stream>.<subject>`, what a KV get
   * asks), on the same reply subscription: its body, or null when the subject holds none (404). Only for a stream that
   * allows direct gets (allow_direct): another answers nothing, and the request times out.
   */
  async lastDirect(api: string, stream: string, subject: string, timeoutMs: number): Promise<Uint8Array | null> {
    const msg = await this.replies.request(`${api}.DIRECT.GET.${stream}.${subject}`, new Uint8Array(0), { timeoutMs });
    const code = msg.data.length === 0 ? (msg.headers?.code ?? 0) : 0;
    if (code === 404) return null;
    if (code !== 0)
      throw new JetStreamApiError({ code, err_code: 0, description: msg.headers?.description ?? `status ${code}` });
    return msg.data;
  }

  /** Fails every publish waiting for a reply with ReplyLostError (the link calls this on reconnection). */
  abandon(): void {
    this.replies.abandon(new ReplyLostError());
  }
}
