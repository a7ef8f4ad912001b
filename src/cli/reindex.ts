/**
 * `ledgerflow reindex`: rebuilds the run index from the log (rebuildRunIndex,
 * src/query/rebuild.ts), with the NATS bucket settings an engine would give
 * it. Progress goes to stderr.
 */
import { rebuildRunIndex } from '../query/index.js';
import { natsSettings } from '../cluster/index.js';
import { EXIT } from './exit.js';
import { json, type Io } from './io.js';
import { storeFor } from './open-store.js';
import { usesNats, type GlobalOpts } from './store.js';
import { corruptText } from './render.js';

export async function reindexCmd(io: Io, g: GlobalOpts, opts: { json?: boolean }): Promise<number> {
  // The bucket's settings as an engine would give it (read only for NATS: a bad LEDGERFLOW_NATS_* does not stop a file store's rebuild).
  const { replicas, storage } = usesNats(g) ? natsSettings().cluster : {};
  const report = await rebuildRunIndex(storeFor(g), { ...(replicas ? { replicas } : {}), ...(storage ? { storage } : {}), onProgress: (n) => io.err(`reindex: ${n} runs`) });
  if (opts.json) io.out(json(report));
  else {
    io.out(`reindexed ${report.runs} run${report.runs === 1 ? '' : 's'} into ${report.index} in ${report.ms} ms`);
    for (const c of report.corrupt) io.err(corruptText(c));
  }
  return EXIT.ok;
}
