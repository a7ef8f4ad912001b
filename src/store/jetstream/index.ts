/**
 * The JetStream adapters' public surface: the event store (store.ts, with
 * follow.ts, read-all.ts, run-messages.ts, run-positions.ts and
 * append-races.ts) and the snapshot store. The other files here are their
 * internals.
 */
export { JetStreamEventStore, openJetStreamStore } from './store.js';
export { TASK_GATES_BUCKET } from './shared-docs.js';
export type { JetStreamStoreOptions } from './options.js';
export { parseServers } from './options.js';
export { connectRefusal } from './codec.js';
export { JetStreamSnapshotStore, DEFAULT_SNAPSHOT_BUCKET, type JetStreamSnapshotOptions } from './snapshots.js';
export { ADMISSION_BUCKET } from './exclusive.js';
export { AckPolicy, ConsumerEvents, DeliverPolicy, DiscardPolicy, ErrorCode, Events, KvWatchInclude, NatsError, RetentionPolicy, StorageType, connect, createInbox, headers, nanos, natsLib } from './nats-lib.js';
