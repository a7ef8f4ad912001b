/**
 * `bulkOnCluster(client, action, filter, opts)` (`ledgerflow/cluster`): the library's bulk action over NATS, as
 * `bulk(engine, …)` is on the embedded store (runs/bulk.ts), each run taken over the NATS run API on the client's own
 * connection. A file of its own so that the package's main entry types nothing of the NATS client.
 */
import type { ClusterClient } from '../cluster/index.js';
import { JetStreamRunIndex, parseRunQuery, type BulkAction, type RunQueryInput } from '../query/index.js';
import { bulkOver, type BulkCallOptions } from './bulk.js';
import { natsRuns } from './nats.js';
import type { Acting } from './port.js';
import { storeAtRest } from '../store/index.js';

export type ClusterBulkOptions = Omit<BulkCallOptions, 'by' | 'level' | 'index'> & {
  /** A name recorded when the server proves none (no users in nats.conf); else the connection's user acts. */
  as?: string;
};

/**
 * `bulkOnCluster(client, action, filter, opts)` (`ledgerflow/cluster`): the same over NATS, the runs the filter
 * matches in the run index (KV LF_RUNS_INDEX), each taken on the client's own connection (default 10 s for each
 * verdict); a refusal by the engines or by NATS permissions is listed with its run, the others go on.
 */
export async function bulkOnCluster(
  client: ClusterClient,
  action: BulkAction,
  filter: RunQueryInput,
  opts: ClusterBulkOptions = {},
): Promise<Record<string, unknown>> {
  const runs = natsRuns({ client, url: client.url, fallback: opts.as ?? 'library' });
  const as: Acting = opts.as !== undefined ? { name: opts.as } : {};
  return bulkOver(
    runs,
    new JetStreamRunIndex(storeAtRest(client.store), { keysFrom: client.store }),
    true,
    action,
    parseRunQuery(filter, 'http', Date.now()),
    as,
    { waitMs: 10_000, ...opts },
  );
}
