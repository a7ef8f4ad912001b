/**
 * The read verbs of the run API, written once for both stores: each reads the log and the run index through the store
 * port (a run's status as RunCommits folds it, its events, a wait that follows its log, the index's query), so status,
 * history, wait and list answer in one shape on either.
 */
import { RunNotFoundError } from '../errors/index.js';
import { RunCommits } from '../executor/index.js';
import type { EventStore } from '../store/index.js';
import type { Runs } from './port.js';

export type RunReads = Pick<Runs, 'status' | 'history' | 'wait' | 'list'>;

/** `storeDir`: the file store's directory, where its run index lives (default the store's own). */
export function runReads(store: EventStore, storeDir?: string): RunReads {
  const commits = new RunCommits({ store });
  return {
    status: (runId) =>
      commits.status(runId).catch((err: unknown) => {
        if (err instanceof RunNotFoundError) return null;
        throw err;
      }),
    history: (runId) => store.read(runId),
    wait: (runId, opts) => commits.wait(runId, opts),
    async list(query, opts = {}) {
      // Loaded here: the query index also holds the NATS run index, which a command on the embedded store never needs.
      const { openRunIndex } = await import('../query/index.js');
      const index = openRunIndex({ store, ...(storeDir !== undefined ? { storeDir } : {}), ...opts });
      try {
        return (await index.query(query)).runs;
      } finally {
        await index.close();
      }
    },
  };
}
