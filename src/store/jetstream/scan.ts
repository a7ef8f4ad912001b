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

/** What the consumer `ci` had pending when it was made, in stream order, fetched `expiresMs` at a time; the consumer is deleted when the caller stops. */
export async function* drainConsumer(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  ci: ConsumerInfo,
  expiresMs: number,
  what: string,
): AsyncIterable<JsMsg> {
  try {
    let remaining = ci.num_pending;
    const consumer = js.consumers.getConsumerFromInfo(ci);
    while (remaining > 0) {
      let got = 0;
      const batch = await consumer.fetch({ max_messages: Math.min(remaining, 10_000), expires: expiresMs });
      for await (const m of batch) {
        got++;
        remaining--;
        yield m;
        if (remaining === 0) break;
      }
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
