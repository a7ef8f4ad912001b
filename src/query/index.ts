/**
 * Run records and queries: the public surface of src/query. Records and matching are pure (record.ts, query.ts); the
 * index adapters are the edge: memory (folded in memory), file (`<store>/index/runs.jsonl`) and JetStream (KV
 * LF_RUNS_INDEX, kept by the engines' projection; `reindex` rebuilds it).
 */

export type { RunIndex, RunIndexOptions, RunPage, DamagedLog, RecordFollower } from './port.js';
export {
  recordOf,
  track,
  advance,
  persistTracked,
  restoreTracked,
  RecordGapError,
  OUTPUT_TEXT_LIMIT,
  type RunRecord,
  type RunTrigger,
  type TaskRecord,
  type WaitingTask,
  type TrackedRun,
  type StoredTracked,
  type FoldedAfter,
} from './record.js';
export {
  RunQuerySchema,
  parseRunQuery,
  matches,
  QueryError,
  MAX_LIMIT,
  type RunQuery,
  type RunQueryInput,
} from './query.js';
export { pageOf } from './paging.js';
export { emptyTally, mergeTally, tallyRun, type RunTally, type TalliedRun } from './run-tally.js';
export { EXACT_MAX, percentiles, type DurationSketch } from './duration-sketch.js';
export type { KeptVersion } from './cache-figures.js';
export {
  RUNS_INDEX_BUCKET,
  RUNS_INDEX_CONSUMER,
  startRunIndexProjection,
  type RunIndexProjection,
} from './jetstream-projection.js';
export { reindex } from './jetstream-reindex.js';
/** The server refused a KV write because the key moved on (or exists, for create): the engines' CAS writes share it. */
export { isCasConflict } from './jetstream-bucket.js';
export { FileRunIndex } from './file-index.js';
export { LogWitness, damagedText } from './damage.js';
export { JetStreamRunIndex } from './jetstream-index.js';
export { rebuildRunIndex } from './rebuild.js';

export { openRunIndex } from './open-index.js';
export { settledRunIds, unsettledRunIds } from './workflow-runs.js';
export {
  applyBulk,
  planBulk,
  matchingRuns,
  bulkAnswer,
  bulkDoneKey,
  retryOnce,
  retryIdHolder,
  type RetryIdHolder,
  BULK_ACTIONS,
  type BulkAction,
  type BulkApproval,
  type BulkPlan,
  type BulkResult,
} from './bulk.js';
