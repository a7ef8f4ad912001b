/**
 * `ledgerflow reindex`: rebuilds the run index from the log (rebuildRunIndex, src/query/rebuild.ts), with the NATS
 * bucket settings an engine would give it. Progress goes to stderr.
 */
import { rebuildRunIndex } from '../../query/index.js';
import { journalWitness } from '../../query/damage.js';
import { FileEventStore } from '../../store/file.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { storeFor } from '../open-store.js';
import type { GlobalOpts } from '../flags/store.js';
import { sideFor } from '../runs.js';
import { corruptText } from '../render/list.js';

export async function reindexCmd(io: Io, g: GlobalOpts, opts: { json?: boolean }): Promise<number> {
  // The bucket's settings as an engine would give it.
  const report = await rebuildRunIndex(storeFor(g), {
    ...(await sideFor(g)).buckets(),
    onProgress: (n) => io.err(`reindex: ${n} runs`),
  });
  // The logs are accepted as they are: also where the store's journal remembers more of them than they hold.
  const store = storeFor(g);
  const accepted = store instanceof FileEventStore ? await journalWitness(store).acceptAll() : [];
  if (opts.json) io.out(json({ ...report, acceptedShortLogs: accepted }));
  else {
    io.out(`reindexed ${report.runs} run${report.runs === 1 ? '' : 's'} into ${report.index} in ${report.ms} ms`);
    for (const id of accepted)
      io.out(`accepted the log of run ${id} as it is: the store's journal recorded more of it than it holds`);
    for (const c of report.corrupt) io.err(corruptText(c));
  }
  return EXIT.ok;
}
