/**
 * Per-workflow figures (a definition's `monitoring.metrics`): `ledgerflow stats`, the dashboard's definition page and
 * GET /api/definitions/:id/stats give the same JSON. figures.ts is pure (run records in, figures out); load.ts reads
 * the run index and the recorded definition.
 */
export { workflowStats, percentile, type WorkflowStats } from './figures.js';
export { loadWorkflowStats, type StatsQuery } from './load.js';
