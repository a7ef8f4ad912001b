/**
 * EventStore.updateShared on JetStream: one KV entry per document in the bucket LF_TASK_GATES, changed by
 * compare-and-set (kv.update at the revision read; kv.create when there is none). A lost race reads again and tries
 * again, so every engine, worker and client of the cluster sees one sequence of changes, and nothing is held while a
 * process dies: there is no lock to outlive its holder. One round trip to read and one to write per change.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/nats-core';
import { StoreError } from '../../errors/index.js';
import { isRunId } from '../common.js';
import { parseSharedDoc } from '../shared-docs.js';
import { kvRetrying, StoreBucket } from './kv-retry.js';
import { lostRace } from './exclusive.js';
import { CoalescedReads, KeyBatches, type Pending } from '../../key-batches.js';
import type { JetStreamLink } from './connection.js';
import { apiPrefix } from './nats-lib.js';

export const TASK_GATES_BUCKET = 'LF_TASK_GATES';
/** Lost races in a row after which a change gives up (StoreError): a gate this contended is a bug, not load. */
const MAX_ROUNDS = 200;

/** A change waiting for its turn (KvSharedDocs.update): what it makes of the document, and what it returns. */
type ChangeFn = (doc: unknown) => { doc: unknown; result: unknown };
type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** A document's bytes by a direct get on the store's own reply subscription (publisher.ts `lastDirect`), null when none. */
export type DirectRead = (stream: string, subject: string) => Promise<Uint8Array | null>;

/**
 * Direct reads on the link's connection of the moment, retried by the link as an append's publish is: a passing failure
 * until its deadline, and at once when the connection comes back while it waits (a read asked again changes nothing).
 */
function directOn(link: JetStreamLink): DirectRead {
  return async (stream, subject) => {
    const c = link.current ?? (await link.ready());
    return link.call(
      'get shared document',
      link.deadline(),
      (timeoutMs) => c.pub.lastDirect(apiPrefix(c.nc), stream, subject, timeoutMs),
      undefined,
      { honoursTimeout: true },
    );
  };
}

export class KvSharedDocs extends StoreBucket {
  /**
   * Whether the bucket allows a direct get (its stream's allow_direct, asked once): one made by an older client without
   * it answers none (the request only times out), and the KV client's get reads it another way.
   */
  private directOk: Promise<boolean> | undefined;

  constructor(
    connection: () => Promise<NatsConnection>,
    opts: { replicas?: number; memory?: boolean } = {},
    private readonly direct?: DirectRead,
  ) {
    super(connection, TASK_GATES_BUCKET, opts);
  }

  /** The store's: read directly on its link's reply subscription. */
  static on(
    link: JetStreamLink,
    connection: () => Promise<NatsConnection>,
    opts: { replicas?: number; memory?: boolean },
  ): KvSharedDocs {
    return new KvSharedDocs(connection, opts, directOn(link));
  }

  /**
   * The document as last written, or null. Every in-process start reads the limits this way, so reads of one name asked
   * for while a request for it is in flight share the next request, sent once that one is answered: each caller still
   * gets what was stored at some moment after it asked (a change that completed before the call is seen), and 64 starts
   * at a time cost a few requests, not 64. Each caller parses the bytes itself, so no two share an object.
   */
  async read(name: string): Promise<unknown> {
    if (!isRunId(name)) throw new StoreError(`invalid shared document name ${JSON.stringify(name)}`, { name });
    const value = await this.reads.get(name);
    if (value === null) return null;
    return parseSharedDoc(new TextDecoder().decode(value), name, `KV ${TASK_GATES_BUCKET} entry ${name}`);
  }

  /**
   * Read on the store's reply subscription when it can be: every in-process start reads the limits and the agent
   * queues, and the KV client's get (its request machinery, a RequestError with a stack even on success) cost an
   * in-process engine on JetStream a tenth of its CPU a run. A deleted key's last message has no body: null either way.
   */
  private readonly reads = new CoalescedReads<Uint8Array | null>(async (name) => {
    const kv = await this.kv();
    const direct = this.direct;
    if (direct) {
      if (!this.directOk) {
        const asked = kvRetrying(`KV ${TASK_GATES_BUCKET}`, () => kv.status()).then(
          (st) => st.streamInfo.config.allow_direct === true,
        );
        // A failed look is not remembered: the next read asks again.
        asked.catch(() => {
          if (this.directOk === asked) this.directOk = undefined;
        });
        this.directOk = asked;
      }
      if (await this.directOk) {
        const got = await direct(`KV_${TASK_GATES_BUCKET}`, `$KV.${TASK_GATES_BUCKET}.${name}`);
        return got === null || got.length === 0 ? null : got;
      }
    }
    const e = await kvRetrying(`shared document ${name} in KV ${TASK_GATES_BUCKET}`, () => kv.get(name));
    return !e || e.operation !== 'PUT' || e.value.length === 0 ? null : e.value;
  });

  /**
   * Changes of one document asked for while another of this process is under way wait, then go together: one
   * read and one compare-and-set apply them all in the order asked (each `fn` gets what the one before returned).
   * So many askers of one gate in one engine cost one round trip, and they never race each other, only other
   * processes' changes (a lost race applies them all again to what won).
   */
  update<T>(name: string, fn: (doc: unknown) => { doc: unknown; result: T }): Promise<T> {
    if (!isRunId(name))
      return Promise.reject(new StoreError(`invalid shared document name ${JSON.stringify(name)}`, { name }));
    return this.changes.add(name, fn as ChangeFn) as Promise<T>;
  }

  private readonly changes = new KeyBatches<ChangeFn, unknown>(async (name, batch) => {
    const results = await this.apply(name, batch);
    batch.forEach((c, i) => {
      const r = results[i]!;
      if (r.ok) c.resolve(r.value);
      else c.reject(r.err);
    });
  });

  /** One read and one compare-and-set for every change of the batch; a change that throws fails alone. */
  private async apply(name: string, batch: readonly Pending<ChangeFn, unknown>[]): Promise<Outcome[]> {
    const kv = await this.kv();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const e = await kvRetrying(`shared document ${name} in KV ${TASK_GATES_BUCKET}`, () => kv.get(name));
      const live = e && e.operation === 'PUT' && e.value.length > 0;
      let doc: unknown = null;
      if (live) {
        try {
          doc = JSON.parse(new TextDecoder().decode(e.value));
        } catch {
          doc = null;
        }
      }
      const results: Outcome[] = [];
      for (const c of batch) {
        try {
          const r = c.item(doc);
          doc = r.doc;
          results.push({ ok: true, value: r.result });
        } catch (err) {
          results.push({ ok: false, err });
        }
      }
      const body = JSON.stringify(doc);
      try {
        const what = `shared document ${name} in KV ${TASK_GATES_BUCKET}`;
        await kvRetrying(what, () => (e ? kv.update(name, body, e.revision) : kv.create(name, body)), {
          passes: lostRace,
          write: true,
        });
        return results;
      } catch (err) {
        if (!lostRace(err)) throw err;
      }
      // Another writer got there first: read its change and decide again, after a short, spread pause.
      await sleep(Math.min(20, round) * Math.random());
    }
    throw new StoreError(
      `shared document ${name} in KV ${TASK_GATES_BUCKET}: ${MAX_ROUNDS} changes in a row lost a race`,
      { name },
    );
  }
}
