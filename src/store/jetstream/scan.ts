/** The one way the store reads its stream (read, listRuns, readAll): what an ephemeral consumer has pending. */
import type { ConsumerConfig, ConsumerInfo, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { AckPolicy, nanos } from './nats-lib.js';
import { StoreError } from '../../errors/index.js';
import type { Conn, JetStreamLink } from './connection.js';
import type { ResolvedOptions } from './options.js';

/**
 * The messages an ephemeral pull consumer with `config` has pending when it is made, in stream order: it stops there
 * rather than wait for more (a fetch on an exhausted subject would wait until it expires). The consumer is deleted when
 * the caller stops. `what` names the operation in errors.
 */
export async function* scanMessages(
  link: JetStreamLink,
  o: ResolvedOptions,
  c: Conn,
  what: string,
  config: Partial<ConsumerConfig>,
): AsyncIterable<JsMsg> {
  const ci = await link.call(`${what}: create a consumer`, link.deadline(), () =>
    c.jsm.consumers.add(o.stream, { ...throwAway(), ...config }),
  );
  yield* drainConsumer(c.js, c.jsm, o.stream, ci, Math.max(1000, o.requestTimeoutMs), what);
}

/** A consumer made for one pass: nothing acked, in memory, gone a minute after its reader is (a function: the client loads on first use). */
export const throwAway = (): Partial<ConsumerConfig> => ({
  ack_policy: AckPolicy.None,
  inactive_threshold: nanos(60_000),
  mem_storage: true,
  num_replicas: 1,
});

/**
 * Bytes asked for in one fetch, about. nats-server holds what it has sent a client and the client not yet read up to
 * the client's `max_pending` (64 MB by default), then closes the connection as a slow consumer: a fetch of 10,000
 * first commits (each carrying its definition, 3 KB and more) read by a busy process went past it, and `reindex` of
 * 100,000 runs died with "closed connection". nats.js takes a fetch's bound in messages or in bytes, not both (and a
 * bound in bytes alone waits for heartbeats between batches), so the count is sized from the messages seen so far.
 */
export const FETCH_BYTES = 4 * 1024 * 1024;
/** The first fetch's count, before any message's size is known; and the most one fetch asks for. */
const FIRST_FETCH = 256;
const MOST_FETCH = 10_000;
/** What a delivered message costs besides its body, about: its MSG line (subject, the $JS.ACK reply subject) and headers. */
const PER_MESSAGE = 160;

/** How many messages the next fetch asks for: about FETCH_BYTES of them at the mean size read so far. */
export function nextFetchCount(remaining: number, read: number, bytes: number): number {
  const mean = read === 0 ? 0 : bytes / read;
  const fit = mean === 0 ? FIRST_FETCH : Math.floor(FETCH_BYTES / mean);
  return Math.max(1, Math.min(remaining, MOST_FETCH, fit));
}

/**
 * What the consumer `ci` had pending when it was made, in stream order, fetched `expiresMs` at a time and about
 * FETCH_BYTES a fetch; the consumer is deleted when the caller stops. A fetch that brings nothing is an error (the
 * server stopped delivering), or with `endWhenEmpty` the end: what was counted may be gone (a KV key deleted since,
 * kv-keys.ts).
 */
export async function* drainConsumer(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  ci: ConsumerInfo,
  expiresMs: number,
  what: string,
  opts: { endWhenEmpty?: boolean } = {},
): AsyncIterable<JsMsg> {
  try {
    let remaining = ci.num_pending;
    let read = 0;
    let bytes = 0;
    const consumer = js.consumers.getConsumerFromInfo(ci);
    while (remaining > 0) {
      let got = 0;
      const batch = await consumer.fetch({ max_messages: nextFetchCount(remaining, read, bytes), expires: expiresMs });
      for await (const m of batch) {
        got++;
        remaining--;
        read++;
        bytes += m.data.length + PER_MESSAGE;
        yield m;
        if (remaining === 0) break;
      }
      if (got === 0 && opts.endWhenEmpty) return;
      if (got === 0)
        throw new StoreError(
          `${what}: the server stopped delivering with ${remaining} messages left (restarted?); try again`,
          { stream },
        );
    }
  } finally {
    void jsm.consumers.delete(stream, ci.name).catch(() => undefined); // else it expires by itself
  }
}
