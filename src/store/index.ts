/**
 * The store module's public surface: the EventStore port, its adapters, and openStore() which picks the store the CLI
 * and library use: JetStream when a NATS URL is given (option or $LEDGERFLOW_NATS_URL), else the embedded file store.
 * Other modules import from here, never from the adapter files.
 */
import { FileEventStore, type FileStoreOptions } from './file.js';
import { JetStreamEventStore, type JetStreamStoreOptions } from './jetstream/index.js';
import type { EventStore } from './port.js';

export type {
  AppendRequest,
  AppendResult,
  CorruptRun,
  CorruptRunHandler,
  TornTail,
  RunLease,
  EventStore,
  RunSummary,
  SnapshotStore,
  BlobSource,
  BlobStore,
  ArchivedRun,
  ArchiveOptions,
  ArchivePeriod,
  RunArchive,
  StoredSnapshot,
  Subscription,
  OnEvents,
  ReadMark,
  ReadOn,
} from './port.js';
export { commitIssues, compareRuns } from './common.js';
export { MemorySnapshotStore, StoredSnapshotSchema } from './snapshots.js';
export { MemoryEventStore } from './memory.js';
export { observedStore, type StoreObserver } from './observed.js';
export { overridden } from './overridden.js';
export { AT_REST, storeAtRest } from './at-rest.js';
export { FileEventStore } from './file.js';
export { newCursor, type Cursor } from './cursor.js';
export { FileBlobStore, MemoryBlobStore, ObjectBlobStore, BLOB_BUCKET, checkedBody } from './blobs/index.js';
// The JetStream adapters, and the NATS client's values loaded on first use (jetstream/nats-lib.ts): import them from here, not from '@nats-io/*'.
export * from './jetstream/index.js';
export { inboxPrefixFor } from './jetstream/inbox.js';

interface OpenStoreOptions {
  /** File store directory (default $LEDGERFLOW_STORE, else `.ledgerflow`). */
  dir?: string;
  /**
   * JetStream: a URL (`nats://user:pass@host:4222`, comma-separated for a cluster) or full options. Default
   * $LEDGERFLOW_NATS_URL; `false` forces the file store even when that variable is set.
   */
  nats?: string | JetStreamStoreOptions | false;
  /** Options of the file store, when that is the one opened. */
  file?: FileStoreOptions;
}

/**
 * The JetStream store when `opts.nats` or $LEDGERFLOW_NATS_URL names a server (it connects on first use, so this stays
 * synchronous), else the file store at `opts.dir`, else $LEDGERFLOW_STORE, else `.ledgerflow` in the working directory.
 * $LEDGERFLOW_NATS_URL wins over `dir`: set it and every command uses JetStream; pass `nats: false` to opt out.
 */
export function openStore(opts: OpenStoreOptions = {}): EventStore {
  const nats = opts.nats === false ? undefined : (opts.nats ?? (process.env.LEDGERFLOW_NATS_URL || undefined));
  if (nats !== undefined) return new JetStreamEventStore(typeof nats === 'string' ? { servers: nats } : nats);
  return new FileEventStore(opts.dir ?? process.env.LEDGERFLOW_STORE ?? '.ledgerflow', opts.file);
}
export { withLock } from './lock.js';
export { diedHere, pidAlive, processMark, type ProcessMark } from './pid-state.js';
export { syncDir, unlessMissing, writeSynced } from './durable-fs.js';
export { runIdsAmong, storeChangeMark, storeChangeMarkListing } from './change-mark.js';
