/**
 * POST /api/bulk/:action (docs/dashboard.md): cancel or pause every run a
 * filter matches, the Coordination page's emergency stop. A dry run says how
 * many and which; the real one must carry that count as `confirm` (a 409
 * with the new count when runs moved meanwhile), so a click never acts on
 * more than the person saw. Each run is the single action (`actions.cancel`),
 * through the same core as the CLI's `--query` (query/bulk.ts).
 */
import { AuthorityError, CancelRefusedError, PauseRefusedError } from '../errors/index.js';
import { applyBulk, parseRunQuery, planBulk, type RunIndex } from '../query/index.js';
import type { Actions } from './backend.js';
import { ApiError, toHttpError } from './errors.js';
import { BulkBody, parseBody } from './schemas.js';

export async function bulkAction(runs: RunIndex, acts: Actions, action: string, raw: unknown): Promise<Record<string, unknown>> {
  if (action !== 'cancel' && action !== 'pause') throw new ApiError(404, 'LF_NOT_FOUND', `no bulk action ${action}: cancel or pause`);
  const body = parseBody(BulkBody, raw);
  if (Object.keys(body.query).length === 0) throw new ApiError(400, 'LF_INPUT_INVALID', 'query: give at least one filter (every run is never meant by accident)', { field: 'query' });
  const plan = await planBulk(runs, parseRunQuery(body.query, 'http', Date.now()), action);
  const ids = plan.act.map((r) => r.runId);
  if (body.dryRun) return { action, matched: plan.matched.length, would: ids, already: plan.already };
  const done = action === 'cancel' ? 'cancelled' : 'paused';
  if (body.confirm !== ids.length) {
    throw new ApiError(409, 'LF_CONFIRM_MISMATCH', `${ids.length} run(s) would be ${done} now${body.confirm === undefined ? '' : `, not ${body.confirm}`}: send confirm: ${ids.length} (after a dry run: dryRun: true lists them)`, { field: 'confirm' });
  }
  const result = await applyBulk(plan, {
    // One run's action as POST /api/runs/:id/cancel takes it; one already so (raced meanwhile) counts as already.
    take: async (runId) => {
      try {
        await acts[action](runId, body.reason);
        return true;
      } catch (err) {
        if (err instanceof CancelRefusedError || err instanceof PauseRefusedError) return false;
        throw err;
      }
    },
    describe: (err) => { const e = toHttpError(err).body.error; return { code: e.code, message: e.message }; },
    fatal: (err) => err instanceof AuthorityError,
  });
  return { action, matched: plan.matched.length, [done]: result.done, already: result.already, refused: result.refused };
}
