/**
 * The store a command uses (store.ts says which), opened; the embedded one's directory checked first. CLI glue, kept
 * here: its errors name the flags, it sets LEDGERFLOW_STORE for this process's handlers and closes the store when the
 * command ends. Other modules are given a store, or call openStore. The JetStream adapter (and the nats client under
 * it) is imported only by a command that uses NATS: useStore() loads it before the command runs, so storeFor stays
 * synchronous and `run` on the embedded store never loads it.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { StoreUnusableError } from '../errors/index.js';
import { FileEventStore } from '../store/file.js';
import type { EventStore } from '../store/index.js';
import { closeAtEnd, localDir, natsUrlOf, usesNats, type GlobalOpts } from './flags/store.js';
import { withDataKeys } from '../encryption/index.js';
import { withObservers } from './state-file-choice.js';

type NatsStore = (url: string) => EventStore;
let natsStore: NatsStore | undefined;

/** Loads what storeFor(g) needs for these options: the JetStream adapter when g names NATS. Idempotent. */
export async function useStore(g: GlobalOpts): Promise<void> {
  if (natsStore || !usesNats(g)) return;
  const [{ openStore }, { natsSettings }] = await Promise.all([
    import('../store/index.js'),
    import('../cluster/index.js'),
  ]);
  natsStore = (url) => withDataKeys(openStore({ nats: { servers: url, ...natsSettings().store } }));
}

export function storeFor(g: GlobalOpts): EventStore {
  const url = natsUrlOf(g);
  const dir = localDir(g);
  if (!url)
    checkStoreDir(
      dir,
      g.store !== undefined
        ? '--store'
        : process.env.LEDGERFLOW_STORE !== undefined
          ? 'LEDGERFLOW_STORE'
          : 'the default store',
    );
  // Handlers of this process, and the programs they start, find the same store (e.g. to pause another run).
  if (!url) process.env.LEDGERFLOW_STORE = resolve(dir);
  if (url && !natsStore) throw new Error('storeFor: the JetStream adapter is not loaded; await useStore(g) first');
  const warn = (m: string) => process.stderr.write(`${m}\n`);
  // On the embedded store, the state file (when this process keeps one) sees every commit made through it. Both
  // stores encrypt at rest under the data key among the secrets (src/encryption); observers see clear values.
  return closeAtEnd(
    url
      ? natsStore!(url)
      : withObservers(withDataKeys(new FileEventStore(dir, { onWarning: (m) => warn(`warning: ${m}`) })), warn),
  );
}

/**
 * The embedded store's directory is a directory, or does not exist yet (it is made on the first write): checked once,
 * before any command reads or writes, so `--store /etc/passwd` is one clear error rather than ENOTDIR from deep in a
 * read.
 */
function checkStoreDir(dir: string, source: string): void {
  const unusable = (what: string) =>
    new StoreUnusableError(
      `${source} ${dir} is ${what}, not a directory: the embedded store is a directory (made if missing); pass one, e.g. --store .ledgerflow`,
      { dir: resolve(dir) },
    );
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
