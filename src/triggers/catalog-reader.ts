/**
 * The definitions whose schedules fire on the embedded store (`ledgerflow serve`), read again only when a file of the
 * folder changed (its names and modification times), so an edited or added schedule is picked up without a restart and
 * an idle tick reads no YAML. A file that does not load is skipped (the others' schedules fire) and said once, not
 * again while it stays as it is.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultDir, loadTriggerCatalog, type LoadedCatalog } from './catalog.js';
import { errorMessage } from '../errors/index.js';

/** A reader of `definitionsDir` (default: ./definitions, else the bundled ones): the first call refuses an absent folder. */
export function catalogReader(
  definitionsDir: string | undefined,
  log: (line: string) => void,
): () => LoadedCatalog['loaded'] {
  const dir = resolve(definitionsDir ?? defaultDir('definitions'));
  let stamp: string | null = null; // null: not read yet (an absent folder is then refused, not logged)
  let loaded: LoadedCatalog['loaded'] = [];
  let said = new Set<string>();
  return () => {
    const now = folderStamp(dir);
    if (now === stamp) return loaded;
    try {
      const catalog = loadTriggerCatalog({ definitionsDir: dir });
      loaded = catalog.loaded;
      const reasons = new Set(catalog.skipped.map((x) => x.reason));
      for (const reason of reasons) if (!said.has(reason)) log(`skipped ${reason}`);
      said = reasons;
    } catch (err) {
      // The folder itself went away: the schedules read before fire on, and that is said once per change, not every tick.
      if (stamp === null) throw err;
      log(`${errorMessage(err)}\nschedules: the definitions read before keep firing until the folder is back`);
    }
    stamp = now;
    return loaded;
  };
}

function folderStamp(dir: string): string {
  try {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => `${f}:${statSync(join(dir, f)).mtimeMs}`)
      .join('|');
  } catch {
    return ''; // an absent folder: loadTriggerCatalog says so
  }
}
