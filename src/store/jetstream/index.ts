/**
 * The JetStream adapters' public surface: the event store (store.ts, with follow.ts, read-all.ts, run-messages.ts,
 * run-positions.ts, last-message.ts, handed-commits.ts, list-runs.ts and append-races.ts; the archive, archive.ts and compare-purge.ts),
 * the snapshot store, roles one process of a cluster holds at a time (role.ts), and requests on one reply
 * subscription (replies.ts, for the cluster's offers and reports). The other files here are their internals.
 */
export { JetStreamEventStore, openJetStreamStore } from './store.js';
export { TASK_GATES_BUCKET } from './shared-docs.js';
export type { JetStreamStoreOptions } from './options.js';
export type { HandedCommit, WrittenCommit } from './handed-commits.js';
export { parseServers } from './options.js';
export {
  apiErrorCode,
  connectRefusal,
  ERR_STREAM_NAME_IN_USE,
  isArchiveMarkerMsg,
  isConnectRefusal,
  isNoResponders,
  isTransient,
} from './codec.js';
export { JetStreamSnapshotStore, DEFAULT_SNAPSHOT_BUCKET, type JetStreamSnapshotOptions } from './snapshots.js';
export { ADMISSION_BUCKET } from './exclusive.js';
export { RENEW_MS as ROLE_RENEW_MS, ROLE_STALE_MS, holdRole, type Role, type RoleTimers } from './role.js';
export { ARCHIVE_BUCKET, ARCHIVE_INDEX_BUCKET } from './archive.js';
export {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  KvWatchInclude,
  Kvm,
  NoRespondersError,
  RetentionPolicy,
  StorageType,
  TimeoutError,
  headers,
  jetstream,
  jetstreamManager,
  nanos,
  toJsMsg,
  apiPrefix,
  domainOf,
  kvPutSubject,
} from './nats-lib.js';
export { connect } from './write-coalesce.js';
export { SharedReplies } from './replies.js';
export { pullNow } from './pull-now.js';
export { drainConsumer, throwAway } from './scan.js';
export { kvKeys } from './kv-keys.js';
export { KvCas } from './kv-cas.js';
