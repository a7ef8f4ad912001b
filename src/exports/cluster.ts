/**
 * `ledgerflow/cluster`: ledgerflow on NATS JetStream from a program: remote workers that run the same handler modules
 * (pulled from the work queue), a client of the cluster's runs, and the JetStream store. The engines themselves run as
 * `ledgerflow engine` processes (docs/nats.md).
 */
export { createWorker, type Worker, type WorkerOptions } from '../cluster/worker/worker.js';
/** KV LF_SECRETS on a connection: a worker's default source of `${secrets.NAME}` (docs/operations.md#secrets). */
export { kvSecrets, SECRETS_BUCKET } from '../secrets/kv.js';
export { ClusterClient, type ControlOutcome, type DecisionOutcome } from '../cluster/client/client.js';
// Bulk actions over NATS (docs/operations.md#bulk-actions); `bulk` on the embedded store is ledgerflow's.
export { bulkOnCluster, type ClusterBulkOptions } from '../runs/bulk-cluster.js';
export type { ClusterSettings } from '../cluster/transport/setup.js';
export { JetStreamEventStore, openJetStreamStore } from '../store/index.js';
