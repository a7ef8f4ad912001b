/**
 * `ledgerflow/query`: the run index behind `ledgerflow list` and the dashboard's runs page, and the filters it takes
 * (docs/queries.md). Its errors (QueryError, RecordGapError) are exported by `ledgerflow` with every other error class.
 * A workflow's figures from the same records (docs/metrics.md#per-workflow-figures).
 */
export {
  openRunIndex,
  recordOf,
  advance,
  track,
  parseRunQuery,
  pageOf,
  matches,
  RunQuerySchema,
  reindex,
  type RunIndex,
  type RunPage,
  type RunRecord,
  type RunTrigger,
  type TaskRecord,
  type WaitingTask,
  type RunQuery,
  type RunQueryInput,
  type RunIndexOptions,
  type TrackedRun,
} from '../query/index.js';
export { workflowStats, loadWorkflowStats, type WorkflowStats, type StatsQuery } from '../stats/index.js';
