/**
 * `ledgerflow reindex` on NATS: LF_RUNS_INDEX rebuilt from the log, the projection's consumer (jetstream-projection.ts)
 * made again after what the rebuild read.
 */
import type { CorruptRun, JetStreamEventStore } from '../store/index.js';
import {
  openBucket,
  encodeValue,
  isCasConflict,
  isNotFound,
  RUNS_INDEX_BUCKET,
  RUNS_INDEX_CONSUMER,
  type BucketSettings,
  type IndexValue,
} from './jetstream-bucket.js';
import { ensureProjectionConsumer } from './jetstream-projection.js';
import { indexValueOf } from './jetstream-writes.js';
import { track } from './record.js';
import { foldLoaded } from '../executor/index.js';
import { LedgerflowError, StoreError, errorMessage } from '../errors/index.js';
import { IndexSealer } from '../encryption/index.js';
import { jetstream, jetstreamManager, storeAtRest } from '../store/index.js';

export interface ReindexReport {
  /** What was rebuilt: the KV bucket's name (NATS) or the cache file's path (file store). */
  index: string;
  runs: number;
  corrupt: CorruptRun[];
  ms: number;
}

/**
 * Rebuilds LF_RUNS_INDEX from the log: the bucket is deleted and made again, then every run is read (one pass over the
 * stream) and its record written. The projection's consumer is made again at the log's end as it was before the read,
 * so it holds exactly the commits the rebuild may have missed and readers can tell whether the index has fallen behind.
 * Engines running meanwhile pull from the new consumer; a record one of them wrote first is kept (it is as new).
 */
export async function reindex(
  store: JetStreamEventStore,
  o: BucketSettings & { onProgress?: (runs: number) => void } = {},
): Promise<ReindexReport> {
  const started = Date.now();
  const nc = await store.connection();
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const end = (await jsm.streams.info(store.stream)).state.last_seq;
  try {
    await jsm.streams.delete(`KV_${RUNS_INDEX_BUCKET}`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const kv = await openBucket(js, o);
  // With a key the runs are read opened (the store's decorator) and the values written sealed (record-values.ts).
  const sealer = await IndexSealer.of(store);
  // The projection starts again after what this rebuild reads: engines pulling meanwhile move to the new consumer.
  try {
    await jsm.consumers.delete(store.stream, RUNS_INDEX_CONSUMER);
  } catch (err) {
    if (!/consumer not found/i.test(errorMessage(err) ?? '')) throw err;
  }
  await ensureProjectionConsumer(store, end + 1);
  const corrupt: CorruptRun[] = [];
  let runs = 0;
  let pending: Promise<void>[] = [];
  // A write that fails is kept here, not left a rejected promise: the read may fail first (the same lost connection),
  // and writes not yet awaited would then end the process as unhandled rejections instead of the read's error.
  let failed: unknown = null;
  const create = async (runId: string, value: IndexValue) => {
    try {
      await kv.create(runId, encodeValue(value, sealer));
    } catch (err) {
      if (!isCasConflict(err)) failed ??= err; // else an engine's projection wrote it first
    }
  };
  const settle = async () => {
    await Promise.all(pending);
    pending = [];
    if (failed !== null)
      throw failed instanceof LedgerflowError
        ? failed
        : new StoreError(
            `reindex: cannot write a run's record to ${RUNS_INDEX_BUCKET}: ${errorMessage(failed)}; run \`ledgerflow reindex\` again`,
            { bucket: RUNS_INDEX_BUCKET },
            { cause: failed },
          );
  };
  // Without a key, what is stored is folded (as the engines' projection would not: they hold the key).
  const source = sealer?.key ? store : storeAtRest(store);
  const blobs = source.blobs?.();
  for await (const run of source.readAll({
    onCorrupt: (c) => {
      corrupt.push(c);
      pending.push(create(c.runId, { corrupt: c }));
    },
  })) {
    pending.push(create(run.runId, indexValueOf(await foldLoaded(blobs, () => track(run.events)), run.events[0]!)));
    runs++;
    if (pending.length >= 256) await settle();
    if (runs % 1000 === 0) o.onProgress?.(runs);
  }
  await settle();
  o.onProgress?.(runs);
  return { index: RUNS_INDEX_BUCKET, runs, corrupt, ms: Date.now() - started };
}
