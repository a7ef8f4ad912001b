/**
 * `ledgerflow reindex`: rebuilds the run index from the log. On NATS the KV
 * bucket LF_RUNS_INDEX (deleted and made again; engines running meanwhile go
 * on projecting into it); on the file store `<store>/index/runs.json`
 * (deleted, then every run file read once). Progress goes to stderr.
 */
import { rm } from 'node:fs/promises';
import { FileEventStore, JetStreamEventStore } from '../store/index.js';
import { FileRunIndex, openRunIndex, reindex, type ReindexReport } from '../query/index.js';
import type { CorruptRun } from '../store/index.js';
import type { Io } from './io.js';
import type { GlobalOpts } from './store.js';
import { EXIT } from './exit.js';
import { StoreUnusableError } from '../errors/index.js';
import { natsSettings } from '../cluster/index.js';
import { storeFor } from './open-store.js';

export async function reindexCmd(io: Io, g: GlobalOpts, opts: { json?: boolean }): Promise<number> {
  const store = storeFor(g);
  let report: ReindexReport;
  if (store instanceof JetStreamEventStore) {
    const { replicas, storage } = natsSettings().cluster;
    report = await reindex(store, { ...(replicas ? { replicas } : {}), ...(storage ? { storage } : {}), onProgress: (n) => io.err(`reindex: ${n} runs`) });
  } else {
    const started = Date.now();
    const corrupt: CorruptRun[] = [];
    // Writing the cache is what reindex is for: here a cache that cannot be written fails the command.
    let unwritten: string | undefined;
    const index = openRunIndex({ store, onCorrupt: (c) => corrupt.push(c), onWarning: (m) => { unwritten ??= m; } });
    if (index instanceof FileRunIndex) await rm(index.cacheFile, { force: true });
    const page = await index.query({});
    await index.close();
    if (unwritten !== undefined) throw new StoreUnusableError(`the run index was not rebuilt: ${unwritten}`, { index: (index as FileRunIndex).cacheFile });
    report = { index: store instanceof FileEventStore ? (index as FileRunIndex).cacheFile : 'memory', runs: page.total, corrupt, ms: Date.now() - started };
    io.err(`reindex: ${page.total} runs`);
  }
  if (opts.json) io.out(JSON.stringify(report, null, 2));
  else {
    io.out(`reindexed ${report.runs} run${report.runs === 1 ? '' : 's'} into ${report.index} in ${report.ms} ms`);
    for (const c of report.corrupt) io.err(`warning: run ${c.runId} is corrupt and was left out: ${c.file}: ${c.reason}`);
  }
  return EXIT.ok;
}
