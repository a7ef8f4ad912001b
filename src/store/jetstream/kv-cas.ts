/**
 * A KV value written with compare-and-set, on one reply subscription (publisher.ts) instead of the client's
 * `kv.create` / `kv.update`: those go through nats.js's request machinery, which builds a RequestError with
 * its stack for every request, even a successful one. The run index projection writes a value a run
 * (query/jetstream-projection.ts): its creates and updates were the last such requests in a loaded engine.
 *
 * The write is what `kv.put(key, value, { previousSeq })` sends: the value on `$KV.<bucket>.<key>` (or the
 * domain's API) with `Nats-Expected-Last-Subject-Sequence`, 0 for a key that must not exist yet. A key written
 * since (or there, or deleted: its marker is a message too) is a JetStreamApiError 10071, as from the client.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { JetStreamPublisher } from './publisher.js';
import { inboxPrefixOf } from './replies.js';
import { kvPutSubject } from './nats-lib.js';

export class KvCas {
  private readonly pub: JetStreamPublisher;

  constructor(
    private readonly nc: NatsConnection,
    private readonly bucket: string,
  ) {
    this.pub = new JetStreamPublisher(nc, inboxPrefixOf(nc));
  }

  /** Writes `value` at `revision` (null: the key must not exist); the new revision. */
  async put(key: string, value: string | Uint8Array, revision: number | null, timeoutMs = 5000): Promise<number> {
    const body = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    const ack = await this.pub.publish(kvPutSubject(this.nc, this.bucket, key), body, {
      lastSubjectSequence: revision ?? 0,
      headers: [],
      timeoutMs,
    });
    return ack.seq;
  }
}
