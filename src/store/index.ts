/**
 * The store module's public surface: the EventStore port, its adapters, and
 * openStore() which picks the embedded file store the CLI and library use by
 * default. Other modules import from here, never from the adapter files.
 */
import { FileEventStore } from './file.js';
import type { EventStore } from './port.js';

export type { AppendRequest, AppendResult, EventStore, ReadOptions, RunSummary, Subscription } from './port.js';
export { MemoryEventStore } from './memory.js';
export { FileEventStore, type FileStoreOptions } from './file.js';

/** The file store at `opts.dir`, else $LEDGERFLOW_STORE, else `.ledgerflow` in the working directory. */
export function openStore(opts: { dir?: string } = {}): EventStore {
  return new FileEventStore(opts.dir ?? process.env.LEDGERFLOW_STORE ?? '.ledgerflow');
}
