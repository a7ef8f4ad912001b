/**
 * The store a command uses (store.ts says which), opened; the embedded one's
 * directory checked first. CLI glue, kept here: its errors name the flags,
 * it sets LEDGERFLOW_STORE for this process's handlers and closes the store
 * when the command ends. Other modules are given a store, or call openStore.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { StoreUnusableError } from '../errors/index.js';
import { openStore, type EventStore } from '../store/index.js';
import { natsSettings } from '../cluster/index.js';
import { closeAtEnd, type GlobalOpts } from './store.js';

export function storeFor(g: GlobalOpts): EventStore {
  const url = g.nats ?? (g.store ? undefined : process.env.LEDGERFLOW_NATS_URL || undefined);
  const dir = g.store ?? process.env.LEDGERFLOW_STORE ?? '.ledgerflow';
  if (!url) checkStoreDir(dir, g.store !== undefined ? '--store' : process.env.LEDGERFLOW_STORE !== undefined ? 'LEDGERFLOW_STORE' : 'the default store');
  // Handlers of this process, and the programs they start, find the same store (e.g. to pause another run).
  if (!url) process.env.LEDGERFLOW_STORE = resolve(dir);
  return closeAtEnd(url
    ? openStore({ nats: { servers: url, ...natsSettings().store } })
    : openStore({ dir, nats: false, file: { onWarning: (m) => process.stderr.write(`warning: ${m}\n`) } }));
}

/**
 * The embedded store's directory is a directory, or does not exist yet (it is
 * made on the first write): checked once, before any command reads or writes,
 * so `--store /etc/passwd` is one clear error rather than ENOTDIR from deep in a read.
 */
function checkStoreDir(dir: string, source: string): void {
  const unusable = (what: string) => new StoreUnusableError(
    `${source} ${dir} is ${what}, not a directory: the embedded store is a directory (made if missing); pass one, e.g. --store .ledgerflow`, { dir: resolve(dir) });
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    // Missing: made on the first write. Anything but a file in the way (no permission) is reported where the store is used.
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw unusable('under a file');
    return;
  }
  if (!isDir) throw unusable('a file');
}
