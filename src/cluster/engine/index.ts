/**
 * `ledgerflow engine`: the process that drives runs over NATS: takes inputs, timers, approvals and signals from the
 * shared consumers, commits through its run host, hands attempts to workers. How it works: ./NOTES.md.
 */
export { ClusterEngine } from './engine.js';
export type { ClusterEngineOptions } from './engine-options.js';
export { LEGACY_TASKS_EVERY_MS } from './legacy-tasks.js';
export { GATES_BUCKET, KvGateStore, StreamGateLog, TRIGGER_LOG_STREAM } from './trigger-gates.js';
