/**
 * Rebuilding a store's run index from its log (`ledgerflow reindex`): on NATS the KV bucket LF_RUNS_INDEX (reindex:
 * deleted and made again; engines running meanwhile go on projecting into it); on the file store
 * `<store>/index/runs.jsonl` (deleted, then every run file read once); in memory, the records folded once.
 */
import { rm } from 'node:fs/promises';
import { StoreUnusableError } from '../errors/index.js';
import { FileEventStore, JetStreamEventStore, storeAtRest, type CorruptRun, type EventStore } from '../store/index.js';
import { FileRunIndex } from './file-index.js';
import type { BucketSettings } from './jetstream-bucket.js';
import { reindex, type ReindexReport } from './jetstream-reindex.js';
import { FoldingRunIndex } from './memory-index.js';

export async function rebuildRunIndex(
  store: EventStore,
  opts: BucketSettings & { onProgress?: (runs: number) => void } = {},
): Promise<ReindexReport> {
  if (store instanceof JetStreamEventStore) return reindex(store, opts);
  const started = Date.now();
  const corrupt: CorruptRun[] = [];
  // Writing the cache is what a rebuild is for: here a cache that cannot be written fails it.
  let unwritten: string | undefined;
  const indexOpts = {
    ...(storeAtRest(store) === store ? {} : { keysFrom: store }),
    onCorrupt: (c: CorruptRun) => corrupt.push(c),
    onWarning: (m: string) => {
      unwritten ??= m;
    },
  };
  const index =
    store instanceof FileEventStore
      ? new FileRunIndex(storeAtRest(store), indexOpts)
      : new FoldingRunIndex(storeAtRest(store), indexOpts);
  if (index instanceof FileRunIndex) await rm(index.cacheFile, { force: true });
  const page = await index.query({});
  await index.close();
  const where = index instanceof FileRunIndex ? index.cacheFile : 'memory';
  if (unwritten !== undefined)
    throw new StoreUnusableError(`the run index was not rebuilt: ${unwritten}`, { index: where });
  opts.onProgress?.(page.total);
  return { index: where, runs: page.total, corrupt, ms: Date.now() - started };
}
