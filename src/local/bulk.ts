/**
 * `bulk(engine, action, filter, opts)`: the library's bulk action on an
 * embedded Engine (docs/operations.md "Bulk actions"): every run `filter`
 * (GET /api/runs's and `list`'s filters) matches, through the one core of
 * query/bulk.ts, answered in the shape of the CLI's `--json` and the HTTP API.
 * Each run gets the single action's record with `by`: cancel, pause and resume
 * as recordInput records them, an approval per waiting HUMAN task, a retry as
 * Engine.retry starts it (recorded, not driven: a `serve` or `ui` drives it).
 */
import { CancelRefusedError, errorMessage, LedgerflowError, PauseRefusedError } from '../errors/index.js';
import { requireAllowed, type Level } from '../authority/index.js';
import { recordInput } from '../executor/index.js';
import { applyBulk, bulkAnswer, retryOnce, openRunIndex, parseRunQuery, planBulk, type BulkAction, type BulkApproval, type BulkPlan, type RunIndex, type RunQueryInput } from '../query/index.js';
import type { Engine } from './engine.js';

export interface BulkCallOptions extends BulkApproval {
  /** Say how many and which; change nothing. */
  dryRun?: boolean;
  /** Who acts, recorded in each run as the single action records it (default: $USER, else "library"). */
  by?: string;
  /** Their level (a users file): an approval's is judged per task (its agent_level), as a single approve's. */
  level?: Level;
  /** cancel, pause: the reason recorded. approve: the comment. */
  reason?: string;
  /** The run index to query (default: the store's, opened and closed here). */
  index?: RunIndex;
  progress?(done: number, of: number): void;
}

/** The single action on one run of an Engine's store, as `take` of applyBulk wants it. */
export function engineTake(engine: Engine, plan: BulkPlan, o: Omit<BulkCallOptions, 'dryRun' | 'index' | 'progress'> & { by: string }): (runId: string) => Promise<boolean | { started: string }> {
  const level = o.level ? { level: o.level } : {};
  const reason = o.reason !== undefined ? { reason: o.reason } : {};
  return async (runId) => {
    switch (plan.action) {
      case 'retry': {
        return retryOnce(runId, async (id) => (await engine.store.lastSeq(id)) > 0, (id) => engine.retry(runId, { by: o.by, ...(id ? { runId: id } : {}) }));
      }
      case 'approve': {
        let changed = false;
        for (const taskId of plan.tasks[runId] ?? []) {
          const out = await recordInput(engine, runId, { kind: 'approval', taskId, decision: o.decision ?? 'approved', ...(o.reason !== undefined ? { comment: o.reason } : {}) }, { by: o.by, ...level });
          changed ||= out.changed;
        }
        return changed;
      }
      default: {
        try {
          return (await recordInput(engine, runId, { kind: 'control', action: plan.action, ...(plan.action === 'resume' ? {} : reason) }, { by: o.by, ...level })).changed;
        } catch (err) {
          if (err instanceof CancelRefusedError || err instanceof PauseRefusedError) return false; // moved meanwhile
          throw err;
        }
      }
    }
  };
}

/** The HUMAN tasks of a run waiting for a decision, from its log (planBulk's `pending`). */
export function pendingApprovals(engine: Engine): (runId: string) => Promise<string[]> {
  return async (runId) => Object.entries((await engine.status(runId)).tasks).filter(([, t]) => t.status === 'PENDING_APPROVAL').map(([id]) => id);
}

/** A refusal as a bulk answer lists it. */
export function describeRefusal(err: unknown): { code: string; message: string } {
  return { code: err instanceof LedgerflowError ? err.code : 'LF_INTERNAL', message: errorMessage(err) };
}

/**
 * A bulk action on every run `filter` matches: `{ action, matched, would, already }` for a dry run, else
 * `{ action, matched, <cancelled|paused|resumed|retried|approved|rejected>: [ids], already, refused }` (a retry
 * adds `started: [{ runId, retryOf }]`). An unknown filter field or a bad value throws QueryError (LF_QUERY_INVALID).
 */
export async function bulk(engine: Engine, action: BulkAction, filter: RunQueryInput, opts: BulkCallOptions = {}): Promise<Record<string, unknown>> {
  const query = parseRunQuery(filter, 'http', Date.now());
  const index = opts.index ?? openRunIndex({ store: engine.store });
  let plan: BulkPlan;
  try {
    plan = await planBulk(index, query, action, opts, pendingApprovals(engine));
  } finally {
    if (!opts.index) await index.close();
  }
  if (opts.dryRun) return bulkAnswer(plan, null, opts);
  const by = opts.by ?? process.env.USER ?? 'library';
  // With a level (a users file), one that may not control runs is refused before any run is touched (AuthorityError);
  // an approval's level is judged per task, and a refusal listed with its run.
  if (opts.level && action !== 'approve') requireAllowed({ name: by, level: opts.level }, 'control');
  const result = await applyBulk(plan, { take: engineTake(engine, plan, { ...opts, by }), describe: describeRefusal, ...(opts.progress ? { progress: opts.progress } : {}) });
  return bulkAnswer(plan, result, opts);
}
