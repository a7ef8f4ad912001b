/**
 * POST /api/bulk/:action (docs/dashboard.md, docs/operations.md "Bulk actions"): cancel, pause, resume, retry or
 * approve every run a filter matches: the Coordination page's emergency stop and the runs page's selection. A dry run
 * says how many and which; the real one must carry that count as `confirm` (a 409 with the new count when runs moved
 * meanwhile), so a click never acts on more than the person saw. Each run is the single action taken over the run API
 * as the signed-in person (runs/bulk.ts), as the CLI's `--query` and the library's `bulk` take it, with the same
 * answer.
 */
import { BULK_ACTIONS, parseRunQuery, type BulkAction, type RunIndex } from '../query/index.js';
import type { Actions } from './actions.js';
import { ApiError, toHttpError } from './errors.js';
import { BulkBody, parseBody } from './schemas.js';

const isAction = (a: string): a is BulkAction => (BULK_ACTIONS as readonly string[]).includes(a);

export async function bulkAction(
  runs: RunIndex,
  acts: Actions,
  action: string,
  raw: unknown,
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
  const { query, runs: only, confirm, ...opts } = body;
  return acts.bulk(runs, action, parseRunQuery(query, 'http', Date.now()), {
    ...opts,
    ...(only ? { only } : {}),
    confirm({ act }) {
      if (confirm !== act.length)
        throw new ApiError(
          409,
          'LF_CONFIRM_MISMATCH',
          `${act.length} run(s) would be acted on now (${action})${confirm === undefined ? '' : `, not ${confirm}`}: send confirm: ${act.length} (after a dry run: dryRun: true lists them)`,
          { field: 'confirm' },
        );
    },
    // Each run as POST /api/runs/:id/<action> takes it; one already so (raced meanwhile) counts as already.
    describe: (err) => {
      const e = toHttpError(err).body.error;
      return { code: e.code, message: e.message };
    },
  });
}
