/**
 * Secrets on NATS: the KV bucket LF_SECRETS (one key per secret, history 1, a removed secret purged). Only engine and
 * worker users may read it (nats.conf, `ledgerflow users nats-conf`); people's users may not. Workers read it when an
 * attempt starts (the engine publishes the attempt with the references only, so no value is ever in a task stream);
 * `ledgerflow secrets set|list|rm` write it.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { KV } from '@nats-io/kv';
import { Kvm, StorageType, jetstream, jetstreamManager, kvKeys } from '../store/index.js';
import { checkSecretName, type SecretsStore } from './providers.js';

export const SECRETS_BUCKET = 'LF_SECRETS';

const isMissing = (err: unknown): boolean =>
  /stream not found|bucket not found|does not exist|10059/i.test(String((err as Error)?.message ?? err));

/**
 * Whether the bucket's stream exists (STREAM.INFO, which `users nats-conf` grants engines and workers for this stream
 * only). Not known (a nats.conf of an earlier version refuses the question): taken as there, as before.
 */
async function bucketThere(nc: NatsConnection): Promise<boolean> {
  try {
    await (await jetstreamManager(nc)).streams.info(`KV_${SECRETS_BUCKET}`);
    return true;
  } catch (err) {
    return !isMissing(err);
  }
}

/** The bucket on this connection; made (history 1) only by `secrets set` (`create`), otherwise bound if it exists. */
export function kvSecrets(nc: NatsConnection, opts: { create?: boolean; replicas?: number } = {}): SecretsStore {
  let bucket: Promise<KV | null> | undefined;
  const kv = (): Promise<KV | null> => {
    bucket ??= (
      opts.create
        ? new Kvm(jetstream(nc)).create(SECRETS_BUCKET, {
            history: 1,
            replicas: opts.replicas ?? 1,
            storage: StorageType.File,
            allow_direct: true,
          })
        : // Read by key only (a direct get by subject): what a worker user is granted, "$JS.API.DIRECT.GET.KV_LF_SECRETS.$KV.LF_SECRETS.>".
          // Asked first whether the bucket is there: a direct get of a bucket that is not gets no answer at all (a
          // timeout after seconds, and no fall back to the environment's secrets).
          bucketThere(nc).then((there) =>
            there ? new Kvm(jetstream(nc)).create(SECRETS_BUCKET, { bindOnly: true, allow_direct: true }) : null,
          )
    ).then(
      (b) => {
        if (!b) bucket = undefined; // not there yet: asked again next time (`secrets set` may make it)
        return b;
      },
      (err: unknown) => {
        bucket = undefined;
        if (isMissing(err)) return null;
        throw err;
      },
    );
    return bucket;
  };
  // No bucket yet: no secrets there. Anything else (permissions, NATS down) is the caller's to see.
  const orMissing = async <T>(fn: () => Promise<T>, none: T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (isMissing(err)) return none;
      throw err;
    }
  };
  return {
    label: `NATS KV ${SECRETS_BUCKET}`,
    async get(name) {
      const b = await kv();
      const e = b ? await orMissing(() => b.get(name), null) : null;
      return e && e.operation === 'PUT' ? e.string() : undefined;
    },
    async names() {
      const b = await kv();
      if (!b) return [];
      return orMissing(async () => {
        // Not b.keys(): it could wait for ever when a secret was removed as it listed (kv-keys.ts).
        return kvKeys(jetstream(nc), SECRETS_BUCKET);
      }, []);
    },
    async set(name, value) {
      checkSecretName(name);
      const b = await kv();
      if (!b) throw new Error(`the KV bucket ${SECRETS_BUCKET} does not exist`);
      await b.put(name, value);
    },
    async rm(name) {
      checkSecretName(name);
      const b = await kv();
      const e = b ? await orMissing(() => b.get(name), null) : null;
      if (!b || !e || e.operation !== 'PUT') return false;
      // Purged, not deleted: the value does not stay in the bucket's history.
      await b.purge(name);
      return true;
    },
  };
}
