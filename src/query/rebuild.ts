/**
 * Rebuilding a store's run index from its log (`ledgerflow reindex`): on NATS the KV bucket LF_RUNS_INDEX (reindex:
 * deleted and made again; engines running meanwhile go on projecting into it); on the file store
 * `<store>/index/runs.jsonl` (deleted, then every run file read once); in memory, the records folded once.
 */
import { rm } from 'node:fs/promises';
import { IndexSealer } from '../encryption/index.js';
import { DataKeyError, StoreUnusableError } from '../errors/index.js';
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
  await refuseWithoutKey(store);
  if (index instanceof FileRunIndex) await rm(index.cacheFile, { force: true });
  const page = await index.query({});
  await index.close();
  const where = index instanceof FileRunIndex ? index.cacheFile : 'memory';
  if (unwritten !== undefined)
    throw new StoreUnusableError(`the run index was not rebuilt: ${unwritten}`, { index: where });
  opts.onProgress?.(page.total);
  return { index: where, runs: page.total, corrupt, ms: Date.now() - started };
}

/**
 * A process without the data key cannot rebuild the index of a store holding sealed runs: their tasks and counts come
 * from the fold, which reads values (a DECISION on an input), and it would see none. Said before the index is touched,
 * naming a run, so the one there stays; a store with no sealed run (or a process with the key) goes on.
 */
async function refuseWithoutKey(store: EventStore): Promise<void> {
  const sealer = await IndexSealer.of(store);
  if (!sealer || sealer.key) return;
  for await (const run of storeAtRest(store).readAll()) {
    sealer.noteSealed(run.events);
    if (sealer.sawSealed)
      throw new DataKeyError(
        'LF_DATA_KEY_MISSING',
        `no index was written: run ${run.runId} holds values sealed with the data key and this process has none (LF_DATA_KEY), so the tasks and counts its fold gives (a DECISION reads values) would be wrong; the index is left as it was. Run \`ledgerflow reindex\` where LF_DATA_KEY is set (docs/security.md#the-run-index)`,
        { runId: run.runId },
      );
  }
}
