/**
 * The runs of one workflow as the run index lists them, split into unsettled (what `migrate` moves and `check` judges)
 * and settled (what `check --history` replays): one place, so both commands judge the same runs on either store.
 */
import { SETTLED_STATUSES } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import { matchingRuns } from './bulk.js';
import { openRunIndex } from './open-index.js';
import { parseRunQuery, type RunQueryInput } from './query.js';
import type { RunRecord } from './record.js';

/** Every record of `workflowId` the filters (`list`'s, as --query words) match, newest first. */
async function recordsOf(
  store: EventStore,
  workflowId: string,
  filters: Omit<RunQueryInput, 'workflow'>,
  warn: (m: string) => void,
): Promise<RunRecord[]> {
  const query = parseRunQuery({ ...filters, workflow: workflowId }, 'http', Date.now());
  const index = openRunIndex({ store, onWarning: warn });
  try {
    return await matchingRuns(index, query);
  } finally {
    await index.close();
  }
}

/** The unsettled runs of the workflow the filters pick (every one without filters), oldest first. */
export async function unsettledRunIds(
  store: EventStore,
  workflowId: string,
  filters: Omit<RunQueryInput, 'workflow'>,
  warn: (m: string) => void,
): Promise<string[]> {
  return (await recordsOf(store, workflowId, filters, warn))
    .filter((r) => !SETTLED_STATUSES.includes(r.status))
    .map((r) => r.runId)
    .reverse();
}

/** The newest `newest` settled runs of the workflow, newest first. */
export async function settledRunIds(
  store: EventStore,
  workflowId: string,
  newest: number,
  warn: (m: string) => void,
): Promise<string[]> {
  if (newest <= 0) return [];
  return (await recordsOf(store, workflowId, {}, warn))
    .filter((r) => SETTLED_STATUSES.includes(r.status))
    .slice(0, newest)
    .map((r) => r.runId);
}
