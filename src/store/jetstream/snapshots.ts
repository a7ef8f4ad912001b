/**
 * Snapshots in a JetStream KV bucket, one key per run (the run id), history 1: the latest snapshot replaces the one
 * before. It shares the event store's connection. Every value read back is parsed with the snapshot schema; a malformed
 * one is reported, never used.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { KV } from '@nats-io/kv';
import { StorageType, Kvm, jetstream } from './nats-lib.js';
import { assertRunId } from '../common.js';
import type { SnapshotStore, StoredSnapshot } from '../port.js';
import { parseStoredSnapshot } from '../snapshots.js';
import { toStoreError } from './codec.js';

export interface JetStreamSnapshotOptions {
  /** KV bucket name (default `LF_SNAPSHOTS`). Its settings apply only when it does not exist yet. */
  bucket?: string;
  /** Bucket replicas (default 1). */
  replicas?: number;
  /** Bucket storage (default `file`). */
  storage?: 'file' | 'memory';
  /** Snapshots older than this are dropped by the server (default 0: kept). They are only a cache. */
  maxAgeMs?: number;
}

export const DEFAULT_SNAPSHOT_BUCKET = 'LF_SNAPSHOTS';

export class JetStreamSnapshotStore implements SnapshotStore {
  private kvPromise: Promise<KV> | undefined;
  readonly bucket: string;

  /** `connection`: the event store's (JetStreamEventStore.connection), so both share one link. */
  constructor(
    private readonly connection: () => Promise<NatsConnection>,
    private readonly opts: JetStreamSnapshotOptions = {},
  ) {
    this.bucket = opts.bucket ?? DEFAULT_SNAPSHOT_BUCKET;
  }

  private kv(): Promise<KV> {
    this.kvPromise ??= (async () =>
      new Kvm(jetstream(await this.connection())).create(this.bucket, {
        history: 1,
        replicas: this.opts.replicas ?? 1,
        storage: this.opts.storage === 'memory' ? StorageType.Memory : StorageType.File,
        ...(this.opts.maxAgeMs ? { ttl: this.opts.maxAgeMs } : {}),
      }))();
    // A failed open (server down) is not remembered: the next call tries again.
    this.kvPromise.catch(() => {
      this.kvPromise = undefined;
    });
    return this.kvPromise;
  }

  async get(runId: string): Promise<StoredSnapshot | null> {
    assertRunId(runId);
    let text: string | null;
    try {
      const e = await (await this.kv()).get(runId);
      text = e && e.operation === 'PUT' ? e.string() : null;
    } catch (err) {
      throw toStoreError(err, `read the snapshot of run ${runId} from KV bucket ${this.bucket}`, {
        runId,
        bucket: this.bucket,
      });
    }
    return text === null ? null : parseStoredSnapshot(text, runId, `KV bucket ${this.bucket}, key ${runId}`);
  }

  async put(snapshot: StoredSnapshot): Promise<void> {
    assertRunId(snapshot.runId);
    try {
      await (await this.kv()).put(snapshot.runId, JSON.stringify(snapshot));
    } catch (err) {
      throw toStoreError(err, `write the snapshot of run ${snapshot.runId} to KV bucket ${this.bucket}`, {
        runId: snapshot.runId,
        bucket: this.bucket,
      });
    }
  }

  async delete(runId: string): Promise<void> {
    assertRunId(runId);
    try {
      await (await this.kv()).purge(runId);
    } catch (err) {
      throw toStoreError(err, `delete the snapshot of run ${runId} from KV bucket ${this.bucket}`, {
        runId,
        bucket: this.bucket,
      });
    }
  }

  /** Writes a value as it is, bypassing the schema (tests and operators: a damaged snapshot). */
  async putText(runId: string, text: string): Promise<void> {
    await (await this.kv()).put(runId, text);
  }

  /** The connection belongs to the event store: closing that closes this. */
  async close(): Promise<void> {}
}
