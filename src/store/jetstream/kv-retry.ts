/**
 * One KV request of the store's own buckets (LF_ADMISSION, LF_TASK_GATES), asked again while the server answers it with
 * a passing failure: no responders (503) while another process is creating the bucket (three `start`s beside an
 * engine's first start-up met it in CI: the start failed with a bare "503"), a timeout, a reconnection. Other failures,
 * and a passing one that outlasts `budgetMs`, reach the caller as a StoreError naming the bucket (a raw client error
 * said only "503").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/nats-core';
import type { KV } from '@nats-io/kv';
import { isAmbiguous, isTransient, toStoreError } from './codec.js';
import { Kvm, StorageType, jetstream } from './nats-lib.js';

const KV_RETRY_MS = 30_000;

/**
 * `op`'s result; `passes(err)`: a failure the caller handles itself (a lost compare-and-set), thrown as it is.
 * `write`: `op` changes the bucket, so only a failure that surely wrote nothing (no responders, no connection) is
 * asked again; a timed-out write may have been stored, and asking again would apply it twice.
 */
export async function kvRetrying<T>(
  what: string,
  op: () => Promise<T>,
  opts: { passes?: (err: unknown) => boolean; budgetMs?: number; write?: boolean } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.budgetMs ?? KV_RETRY_MS);
  for (let pause = 20; ; pause = Math.min(pause * 2, 500)) {
    try {
      return await op();
    } catch (err) {
      if (opts.passes?.(err)) throw err;
      if (!isTransient(err) || (opts.write && isAmbiguous(err)) || Date.now() + pause >= deadline)
        throw toStoreError(err, what, {});
      await sleep(pause);
    }
  }
}

/** One of the store's own buckets, made when it is not there yet and opened on first use; a failed open is not remembered: the next call tries again. */
export class StoreBucket {
  private kvPromise: Promise<KV> | undefined;

  constructor(
    private readonly connection: () => Promise<NatsConnection>,
    private readonly bucket: string,
    private readonly opts: { replicas?: number; memory?: boolean; ttl?: number },
  ) {}

  protected kv(): Promise<KV> {
    this.kvPromise ??= (async () => {
      const js = jetstream(await this.connection());
      return kvRetrying(`KV ${this.bucket}`, () =>
        new Kvm(js).create(this.bucket, {
          history: 1,
          replicas: this.opts.replicas ?? 1,
          ...(this.opts.ttl ? { ttl: this.opts.ttl } : {}),
          storage: this.opts.memory ? StorageType.Memory : StorageType.File,
        }),
      );
    })();
    this.kvPromise.catch(() => {
      this.kvPromise = undefined;
    });
    return this.kvPromise;
  }
}
