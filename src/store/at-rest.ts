/**
 * A decorator that changes what is stored (encryption at rest, src/encryption) answers `storeAtRest` with the store
 * below it: what holds values as they are kept. The run index reads through it, so the caches it writes (a file, a KV
 * bucket) hold what the log holds and never a value the decorator opened.
 */
import type { EventStore } from './port.js';

export const AT_REST = Symbol.for('ledgerflow.storeAtRest');

export function storeAtRest<S extends EventStore>(store: S): S {
  const below = (store as unknown as Record<symbol, unknown>)[AT_REST] as S | undefined;
  return below ?? store;
}
