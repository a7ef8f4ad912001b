/**
 * Live progress on NATS: the KV bucket LF_PROGRESS, one key per attempt in flight (`<runId>.<instance, base64url>`),
 * its value the attempt's latest report. Workers (and an engine running work itself) write it with a plain publish on
 * the key's subject, waiting for nothing: progress is ephemeral, a lost write is made up by the next, and the attempt
 * never waits on it. Entries age out (the bucket's TTL) if a worker dies before removing its own. Readers (`status`,
 * `watch`, the dashboard) read a run's keys; none of this is an event of the run.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { headers, jetstream, kvPutSubject, Kvm } from '../../store/index.js';
import { instanceToken, isLiveProgress, type LiveProgress, type ProgressChannel } from '../../progress/index.js';
import { createBucket } from './create-retry.js';

export const PROGRESS_BUCKET = 'LF_PROGRESS';
/** How long an entry outlives its last write: a day, for an attempt whose worker died before removing it. */
const PROGRESS_TTL_MS = 24 * 60 * 60_000;
/** An entry's largest value: a fraction, a 200-character message and ids. */
const PROGRESS_VALUE_MAX_BYTES = 4096;

const keyOf = (p: Pick<LiveProgress, 'runId' | 'instance'>) => `${p.runId}.${instanceToken(p.instance)}`;

export class ProgressBucket implements ProgressChannel {
  private kv: Promise<KV | null> | undefined;
  /** `nc`: the connection, or (a reader that may never read) how to get it. */
  constructor(private readonly nc: NatsConnection | (() => Promise<NatsConnection>)) {}

  private async conn(): Promise<NatsConnection> {
    return typeof this.nc === 'function' ? this.nc() : this.nc;
  }

  /** Creates the bucket if it is missing (engines and `cluster setup`, whose NATS user may). */
  static async ensure(
    jsm: JetStreamManager,
    s: { replicas?: number; storage?: 'file' | 'memory' } = {},
  ): Promise<void> {
    if (await jsm.streams.info(`KV_${PROGRESS_BUCKET}`).catch(() => null)) return;
    await createBucket(jsm.jetstream(), PROGRESS_BUCKET, s, {
      ttl: PROGRESS_TTL_MS,
      maxValueSize: PROGRESS_VALUE_MAX_BYTES,
    });
  }

  async put(p: LiveProgress): Promise<void> {
    const nc = await this.conn();
    if (nc.isClosed()) return;
    nc.publish(kvPutSubject(nc, PROGRESS_BUCKET, keyOf(p)), JSON.stringify(p));
  }

  async remove(p: Pick<LiveProgress, 'runId' | 'instance' | 'attempt'>): Promise<void> {
    const nc = await this.conn();
    if (nc.isClosed()) return;
    const h = headers();
    h.set('KV-Operation', 'DEL');
    nc.publish(kvPutSubject(nc, PROGRESS_BUCKET, keyOf(p)), new Uint8Array(0), { headers: h });
  }

  async read(runId: string): Promise<LiveProgress[]> {
    const kv = await this.bucket();
    if (!kv) return [];
    const out: LiveProgress[] = [];
    const keys: string[] = [];
    for await (const key of await kv.keys(`${runId}.*`)) keys.push(key);
    for (const key of keys.sort()) {
      const entry = await kv.get(key).catch(() => null);
      if (!entry || entry.operation !== 'PUT') continue;
      let v: unknown;
      try {
        v = entry.json();
      } catch {
        continue;
      }
      if (isLiveProgress(v) && v.runId === runId) out.push(v);
    }
    return out;
  }

  /** Bound once; null where the bucket is not there (no engine has made it yet: no progress to read). */
  private bucket(): Promise<KV | null> {
    this.kv ??= this.conn()
      .then((nc) => new Kvm(jetstream(nc)).create(PROGRESS_BUCKET, { bindOnly: true }))
      .catch(() => null)
      .then((kv) => {
        if (!kv) this.kv = undefined;
        return kv;
      });
    return this.kv;
  }
}
