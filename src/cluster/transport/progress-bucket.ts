/**
 * Live progress on NATS: the KV bucket LF_PROGRESS, one key per attempt in flight (`<runId>.<instance, base64url>`),
 * its value the attempt's latest report. Workers (and an engine running work itself) write it with a plain publish on
 * the key's subject, waiting for nothing: progress is ephemeral, a lost write is made up by the next, and the attempt
 * never waits on it. Entries age out (the bucket's TTL) if a worker dies before removing its own. One-off readers
 * (`status`) read a run's keys; live readers (`watch`, the dashboard's SSE) hold one KV watch each on the run's keys
 * (`watch`), so the server pushes each change instead of being asked four times a second. None of this is an event of
 * the run.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import { headers, jetstream, kvKeys, kvPutSubject, Kvm } from '../../store/index.js';
import {
  instanceToken,
  isLiveProgress,
  type LiveProgress,
  type ProgressChannel,
  type ProgressListener,
} from '../../progress/index.js';
import { createBucket } from './create-retry.js';

export const PROGRESS_BUCKET = 'LF_PROGRESS';
/** How long an entry outlives its last write: a day, for an attempt whose worker died before removing it. */
const PROGRESS_TTL_MS = 24 * 60 * 60_000;
/** An entry's largest value: a fraction, a 200-character message and ids. */
const PROGRESS_VALUE_MAX_BYTES = 4096;

/** How soon a watch is made again after it ended by itself (a connection lost, the bucket not there yet). */
const WATCH_RETRY_MS = 2000;

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
    // Not kv.keys(), which waited for ever when an attempt's value was removed as it listed (kv-keys.ts).
    const keys = await kvKeys(jetstream(await this.conn()), PROGRESS_BUCKET, `${runId}.*`);
    for (const key of keys) {
      const v = liveValueOf(await kv.get(key).catch(() => null), runId);
      if (v) out.push(v);
    }
    return out;
  }

  watch(runId: string, onChange: ProgressListener): () => void {
    const values = new Map<string, LiveProgress>();
    let told: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    // Entries come one at a time (the last values first): the reader is told once per burst.
    const tell = () => {
      told ??= setTimeout(() => {
        told = undefined;
        if (!stopped) onChange([...values.keys()].sort().map((k) => values.get(k)!));
      }, 0);
    };
    const stop = this.follow(`${runId}.*`, {
      reset() {
        values.clear();
        tell();
      },
      entry(e) {
        const v = liveValueOf(e, runId);
        // DEL and PURGE (the attempt ended; its value goes) and what does not parse: no value for that key.
        if (v) values.set(e.key, v);
        else values.delete(e.key);
        tell();
      },
    });
    return () => {
      stopped = true;
      if (told) clearTimeout(told);
      stop();
    };
  }

  /**
   * Every run's live values, held from one KV watch of the whole bucket, read from memory: a NATS engine's state file
   * shows each running run's progress at each write, where a read per run (a consumer each) would cost the server a
   * consumer per running run per second. `changed` is told each run whose values changed.
   */
  mirror(changed: (runId: string) => void): ProgressChannel & { stop(): void } {
    const runs = new Map<string, Map<string, LiveProgress>>();
    const runOfKey = new Map<string, string>();
    const drop = (key: string) => {
      const runId = runOfKey.get(key);
      if (runId === undefined) return;
      runOfKey.delete(key);
      const values = runs.get(runId);
      values?.delete(key);
      if (values?.size === 0) runs.delete(runId);
      changed(runId);
    };
    const stop = this.follow('>', {
      reset() {
        for (const key of [...runOfKey.keys()]) drop(key);
      },
      entry(e) {
        const runId = e.key.slice(0, e.key.lastIndexOf('.'));
        const v = liveValueOf(e, runId);
        if (!v || keyOf(v) !== e.key) return drop(e.key);
        runOfKey.set(e.key, runId);
        let values = runs.get(runId);
        if (!values) runs.set(runId, (values = new Map()));
        values.set(e.key, v);
        changed(runId);
      },
    });
    return {
      put: (p) => this.put(p),
      remove: (p) => this.remove(p),
      read: async (runId) => {
        const values = runs.get(runId);
        return values ? [...values.keys()].sort().map((k) => values.get(k)!) : [];
      },
      watch: (runId, onChange) => this.watch(runId, onChange),
      stop,
    };
  }

  /**
   * One ordered consumer on the keys `key` matches for as long as the caller reads: `reset` when it (re)starts, then
   * each entry (the last values first, then each change). Made again when it ends by itself (a connection lost, the
   * bucket not there yet); over when the function returned is called or the caller's connection is closed.
   */
  private follow(key: string, on: { reset(): void; entry(e: KvEntry): void }): () => void {
    let stopped = false;
    let stop: (() => void) | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if ((await this.conn()).isClosed()) {
        stopped = true; // The reader's connection is gone, and its reader with it.
        return;
      }
      const kv = await this.bucket();
      if (stopped) return;
      if (!kv) {
        on.reset(); // No bucket yet: no values, and a look again later.
        return;
      }
      const iter = await kv.watch({ key });
      stop = () => iter.stop();
      if (stopped) return iter.stop();
      on.reset();
      for await (const e of iter) on.entry(e);
    };
    const loop = () => {
      void run()
        .catch(() => undefined)
        .finally(() => {
          stop = undefined;
          if (!stopped) retry = setTimeout(loop, WATCH_RETRY_MS);
        });
    };
    loop();
    return () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      stop?.();
    };
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

/** An entry's live value: a PUT whose JSON is one of the run's (a DEL, a PURGE, a foreign or torn value: none). */
function liveValueOf(entry: Pick<KvEntry, 'operation' | 'json'> | null, runId: string): LiveProgress | null {
  if (!entry || entry.operation !== 'PUT') return null;
  try {
    const v: unknown = entry.json();
    return isLiveProgress(v) && v.runId === runId ? v : null;
  } catch {
    return null;
  }
}
