/**
 * EventStore.updateShared on JetStream: one KV entry per document in the
 * bucket LF_TASK_GATES, changed by compare-and-set (kv.update at the revision
 * read; kv.create when there is none). A lost race reads again and tries
 * again, so every engine, worker and client of the cluster sees one sequence
 * of changes, and nothing is held while a process dies: there is no lock to
 * outlive its holder. One round trip to read and one to write per change.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageType, type KV, type NatsConnection } from 'nats';
import { StoreError } from '../../errors/index.js';
import { isRunId } from '../common.js';

export const TASK_GATES_BUCKET = 'LF_TASK_GATES';
/** Lost races in a row after which a change gives up (StoreError): a gate this contended is a bug, not load. */
const MAX_ROUNDS = 200;

export class KvSharedDocs {
  private kvPromise: Promise<KV> | undefined;

  constructor(private readonly connection: () => Promise<NatsConnection>, private readonly opts: { replicas?: number; memory?: boolean } = {}) {}

  private kv(): Promise<KV> {
    this.kvPromise ??= (async () => (await this.connection()).jetstream().views.kv(TASK_GATES_BUCKET, {
      history: 1, replicas: this.opts.replicas ?? 1,
      storage: this.opts.memory ? StorageType.Memory : StorageType.File,
    }))();
    this.kvPromise.catch(() => { this.kvPromise = undefined; });
    return this.kvPromise;
  }

  async update<T>(name: string, fn: (doc: unknown) => { doc: unknown; result: T }): Promise<T> {
    if (!isRunId(name)) throw new StoreError(`invalid shared document name ${JSON.stringify(name)}`, { name });
    const kv = await this.kv();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const e = await kv.get(name);
      const live = e && e.operation === 'PUT' && e.value.length > 0;
      let doc: unknown = null;
      if (live) {
        try { doc = JSON.parse(new TextDecoder().decode(e.value)); } catch { doc = null; }
      }
      const r = fn(doc);
      const body = JSON.stringify(r.doc);
      try {
        if (e) await kv.update(name, body, e.revision);
        else await kv.create(name, body);
        return r.result;
      } catch (err) {
        if (!/wrong last sequence|key exists/i.test((err as Error).message)) throw new StoreError(`shared document ${name} in KV ${TASK_GATES_BUCKET}: ${(err as Error).message}`, { name }, { cause: err });
      }
      // Another writer got there first: read its change and decide again, after a short, spread pause.
      await sleep(Math.min(20, round) * Math.random());
    }
    throw new StoreError(`shared document ${name} in KV ${TASK_GATES_BUCKET}: ${MAX_ROUNDS} changes in a row lost a race`, { name });
  }
}
