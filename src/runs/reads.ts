/**
 * The read verbs of the run API, written once for both stores: each reads the log and the run index through the store
 * port (a run's status as RunCommits folds it, its events, a wait that follows its log, the index's query), so status,
 * history, wait and list answer in one shape on either.
 */
import { RunNotFoundError } from '../errors/index.js';
import { RunCommits } from '../executor/index.js';
import type { EventStore } from '../store/index.js';
import { progressOf, withProgress, type ProgressChannel } from '../progress/index.js';
import type { Runs } from './port.js';

export type RunReads = Pick<Runs, 'status' | 'withProgress' | 'history' | 'wait' | 'list' | 'page'>;

/**
 * `storeDir`: the file store's directory, where its run index lives (default the store's own). `progress`: the store's
 * live progress channel (none: only what outcomes kept). `pageCacheDir`: NATS, where this reader keeps the runs' start
 * order for `list`'s first page (RunIndexOptions).
 */
export function runReads(
  store: EventStore,
  storeDir?: string,
  progress?: ProgressChannel,
  pageCacheDir?: string,
): RunReads {
  const commits = new RunCommits({ store });
  const status = (runId: string) =>
    commits.status(runId).catch((err: unknown) => {
      if (err instanceof RunNotFoundError) return null;
      throw err;
    });
  const page: RunReads['page'] = async (query, opts = {}) => {
    // Loaded here: the query index also holds the NATS run index, which a command on the embedded store never needs.
    const { openRunIndex } = await import('../query/index.js');
    const index = openRunIndex({
      store,
      ...(storeDir !== undefined ? { storeDir } : {}),
      ...(pageCacheDir !== undefined ? { pageCacheDir } : {}),
      ...opts,
    });
    try {
      return await index.query(query);
    } finally {
      await index.close();
    }
  };
  return {
    status,
    async withProgress(view, opts = {}) {
      const { runId } = view;
      const [live, events] = await Promise.all([
        progress ? progress.read(runId).catch(() => []) : [],
        opts.live ? [] : (opts.events ?? store.read(runId)),
      ]);
      return withProgress(view, progressOf(view, live, events));
    },
    history: (runId) => store.read(runId),
    wait: (runId, opts) => commits.wait(runId, opts),
    list: async (query, opts = {}) => (await page(query, opts)).runs,
    page,
  };
}
