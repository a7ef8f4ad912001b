/** The one run API (port.ts) and its implementation per store. */
export type {
  Acting,
  Forked,
  ForkRequest,
  InputOutcome,
  Resumed,
  Retried,
  RunInput,
  Runs,
  Started,
  StartingRuns,
  StartRequest,
} from './port.js';
export { embeddedRuns, type EmbeddedRunsOptions } from './embedded.js';
export { natsRuns, type NatsRunsOptions } from './nats.js';
export { applyOver, bulk, bulkOver, planOver, type BulkCallOptions, type BulkHooks, type BulkTake } from './bulk.js';
export { runReads, type RunReads } from './reads.js';
export { runUpkeep, type RunUpkeep } from './upkeep.js';
export { natsUpkeep, requestArchivePeriods, requestKeyRotation, UPKEEP_WAIT_MS } from './nats-upkeep.js';
export {
  ARCHIVE_BATCH,
  archivalRounds,
  archiveOf,
  archiveRuns,
  type ArchivalRounds,
  type ArchiveSelection,
} from './archival.js';
