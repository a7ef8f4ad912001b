/** The run index of a store, by the store's kind: the one place that picks an adapter. */
import { FileEventStore, JetStreamEventStore, storeAtRest, type EventStore } from '../store/index.js';
import { FileRunIndex } from './file-index.js';
import { JetStreamRunIndex } from './jetstream-index.js';
import { FoldingRunIndex } from './memory-index.js';
import type { RunIndex, RunIndexOptions } from './port.js';

/**
 * The run index of a store: the file store's cache under `<storeDir>/index/` (default the store's own directory), the
 * JetStream KV bucket, else records folded in memory.
 */
export function openRunIndex(opts: { store: EventStore; storeDir?: string } & RunIndexOptions): RunIndex {
  const { storeDir, store: given, ...rest } = opts;
  // The index reads what is stored; what it keeps of a value is sealed (record-values.ts), so its caches hold none in clear.
  const store = storeAtRest(given);
  // The events it folds are opened by this process's key, if it holds one (record-values.ts): `keysFrom`.
  const keys = store === given ? {} : { keysFrom: given };
  if (store instanceof FileEventStore)
    return new FileRunIndex(store, { ...rest, ...keys, ...(storeDir !== undefined ? { storeDir } : {}) });
  if (store instanceof JetStreamEventStore) return new JetStreamRunIndex(store, { ...rest, ...keys });
  // Records held in memory only: folded from the events as this process reads them (opened with its key).
  return new FoldingRunIndex(given, rest);
}
