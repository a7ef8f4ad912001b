/**
 * POST /api/bulk/:action (docs/dashboard.md, docs/operations.md "Bulk
 * actions"): cancel, pause, resume, retry or approve every run a filter
 * matches: the Coordination page's emergency stop and the runs page's
 * selection. A dry run says how many and which; the real one must carry that
 * count as `confirm` (a 409 with the new count when runs moved meanwhile), so
 * a click never acts on more than the person saw. Each run is the single
 * action taken over the run API as the signed-in person (runs/bulk.ts), as
 * the CLI's `--query` and the library's `bulk` take it, with the same answer.
 */
import { BULK_ACTIONS, bulkAnswer, parseRunQuery, planBulk, type BulkAction, type RunIndex } from '../query/index.js';
import type { Actions } from './backend.js';
import { pendingFrom, runReads } from '../runs/index.js';
import type { EventStore } from '../store/index.js';
import { ApiError, toHttpError } from './errors.js';
import { BulkBody, parseBody } from './schemas.js';

const isAction = (a: string): a is BulkAction => (BULK_ACTIONS as readonly string[]).includes(a);

/** `store`: the runs' logs as the UI reads them: an approve's waiting tasks (for runs whose record names none). */
export async function bulkAction(
  runs: RunIndex,
  acts: Actions,
  action: string,
  raw: unknown,
  store: EventStore,
): Promise<Record<string, unknown>> {
  if (!isAction(action))
    throw new ApiError(404, 'LF_NOT_FOUND', `no bulk action ${action}: ${BULK_ACTIONS.join(', ')}`);
  const body = parseBody(BulkBody, raw);
  if (Object.keys(body.query).length === 0 && body.runs === undefined)
    throw new ApiError(
      400,
      'LF_INPUT_INVALID',
      'query: give at least one filter, or the runs selected (every run is never meant by accident)',
      { field: 'query' },
    );
  if (action !== 'approve' && (body.task !== undefined || body.decision !== undefined))
    throw new ApiError(400, 'LF_INPUT_INVALID', 'task: task and decision go with approve', {
      field: body.task !== undefined ? 'task' : 'decision',
    });
  const approval = {
    ...(body.task !== undefined ? { task: body.task } : {}),
    ...(body.decision !== undefined ? { decision: body.decision } : {}),
  };
  const plan = await planBulk(
    runs,
    parseRunQuery(body.query, 'http', Date.now()),
    action,
    { ...approval, ...(body.runs ? { only: body.runs } : {}) },
    pendingFrom(runReads(store)),
  );
  const ids = plan.act.map((r) => r.runId);
  if (body.dryRun) return bulkAnswer(plan, null, approval);
  if (body.confirm !== ids.length) {
    throw new ApiError(
      409,
      'LF_CONFIRM_MISMATCH',
      `${ids.length} run(s) would be acted on now (${action})${body.confirm === undefined ? '' : `, not ${body.confirm}`}: send confirm: ${ids.length} (after a dry run: dryRun: true lists them)`,
      { field: 'confirm' },
    );
  }
  // Each run as POST /api/runs/:id/<action> takes it; one already so (raced meanwhile) counts as already.
  const result = await acts.bulk(
    plan,
    { ...approval, ...(body.reason !== undefined ? { reason: body.reason } : {}) },
    (err) => {
      const e = toHttpError(err).body.error;
      return { code: e.code, message: e.message };
    },
  );
  return bulkAnswer(plan, result, approval);
}
