/**
 * A bulk action over the run API (docs/operations.md#bulk-actions): one action on every run a filter matches, each run
 * taken as the single verb takes it (`Runs.input`, `Runs.retry`), so a level, a damaged log or an engine's verdict
 * refuses a run of a bulk action as it refuses the one command. One copy for the CLI's `--query`, the dashboard's POST
 * /api/bulk/:action, the library's `bulk` (embedded) and `bulkOnCluster` (NATS); the plan, the pace and the answer are
 * query/bulk.ts's.
 */
import type { Level } from '../authority/index.js';
import {
  AuthorityError,
  CancelRefusedError,
  errorMessage,
  LedgerflowError,
  PauseRefusedError,
  permissionDenied,
} from '../errors/index.js';
import type { Engine } from '../local/index.js';
import {
  applyBulk,
  bulkAnswer,
  openRunIndex,
  parseRunQuery,
  planBulk,
  retryOnce,
  retryIdHolder,
  type BulkAction,
  type BulkApproval,
  type BulkPlan,
  type BulkResult,
  type RunIndex,
  type RunQuery,
  type RunQueryInput,
} from '../query/index.js';
import { embeddedRuns } from './embedded.js';
import type { Acting, Runs } from './port.js';

/** How each run is taken: cancel and pause's reason (an approval's comment), an approval's decision, how long to wait for a verdict (NATS). */
export interface BulkTake extends BulkApproval {
  reason?: string;
  waitMs?: number;
}

/** The single verb on one run, as applyBulk's `take` wants it: changed, already so (false), or the retry's new run. */
function runsTake(
  runs: Runs,
  plan: BulkPlan,
  as: Acting,
  o: BulkTake = {},
): (runId: string) => Promise<boolean | { started: string }> {
  const waitMs = o.waitMs !== undefined ? { waitMs: o.waitMs } : {};
  return async (runId) => {
    try {
      switch (plan.action) {
        case 'retry':
          return await retryOnce(
            runId,
            async (id) => retryIdHolder(await runs.history(id), runId),
            async (id) => (await runs.retry(runId, as, { ...(id ? { runId: id } : {}), ...waitMs })).runId,
          );
        case 'approve': {
          let changed = false;
          for (const taskId of plan.tasks[runId] ?? []) {
            const input = {
              kind: 'approval',
              taskId,
              decision: o.decision ?? 'approved',
              ...(o.reason !== undefined ? { comment: o.reason } : {}),
            } as const;
            changed = (await runs.input(runId, input, as, waitMs)).changed || changed;
          }
          return changed;
        }
        default: {
          const reason = plan.action !== 'resume' && o.reason !== undefined ? { reason: o.reason } : {};
          return (await runs.input(runId, { kind: 'control', action: plan.action, ...reason }, as, waitMs)).changed;
        }
      }
    } catch (err) {
      if (err instanceof CancelRefusedError || err instanceof PauseRefusedError) return false; // it moved meanwhile
      throw err;
    }
  };
}

/** A refusal as a bulk answer lists it: NATS permissions by subject, else the error's stable code. */
function describeRefusal(err: unknown): { code: string; message: string } {
  const subject = permissionDenied(err);
  if (subject !== null)
    return { code: 'LF_FORBIDDEN', message: `refused by NATS permissions${subject ? ` on ${subject}` : ''}` };
  return { code: err instanceof LedgerflowError ? err.code : 'LF_INTERNAL', message: errorMessage(err) };
}

/** Every run of `plan` taken over `runs` as `as`, a few at a time: what changed, what already was, what was refused. */
export function applyOver(
  runs: Runs,
  plan: BulkPlan,
  as: Acting,
  o: BulkTake & {
    progress?: (done: number, of: number) => void;
    describe?: (err: unknown) => { code: string; message: string };
  } = {},
): Promise<BulkResult> {
  // A level that may not act at all refuses them all, said once; an approval's level is judged per task (listed with its run).
  const fatal = (err: unknown) =>
    plan.action !== 'approve' &&
    (err instanceof AuthorityError || (err instanceof LedgerflowError && err.code === 'LF_AUTHORITY_REFUSED'));
  return applyBulk(plan, {
    take: runsTake(runs, plan, as, o),
    describe: o.describe ?? describeRefusal,
    fatal,
    ...(o.progress ? { progress: o.progress } : {}),
  });
}

/**
 * The plan of `action` over the runs `query` matches in `index` (closed after when `own`; `only`: just these of them),
 * an approve's waiting tasks read from the run's status where its record names none.
 */
export async function planOver(
  runs: Pick<Runs, 'status'>,
  index: RunIndex,
  own: boolean,
  action: BulkAction,
  query: RunQuery,
  choice: BulkApproval & { only?: readonly string[] },
): Promise<BulkPlan> {
  const pending = async (runId: string) =>
    Object.entries((await runs.status(runId))?.tasks ?? {})
      .filter(([, t]) => t.status === 'PENDING_APPROVAL')
      .map(([id]) => id);
  try {
    return await planBulk(index, query, action, choice, pending);
  } finally {
    if (own) await index.close();
  }
}

/** What a bulk call may add besides the library's options: a selection, a check of the plan before any run is taken, how a refusal is said. */
export interface BulkHooks {
  only?: readonly string[];
  confirm?(plan: BulkPlan): void;
  describe?(err: unknown): { code: string; message: string };
}

/**
 * Plans over `index`, answers a dry run, else takes every run over `runs`: one answer for the library (both stores)
 * and the dashboard's POST /api/bulk/:action.
 */
export async function bulkOver(
  runs: Runs,
  index: RunIndex,
  own: boolean,
  action: BulkAction,
  query: RunQuery,
  as: Acting,
  opts: BulkCallOptions & BulkHooks,
): Promise<Record<string, unknown>> {
  const approval = {
    ...(opts.task !== undefined ? { task: opts.task } : {}),
    ...(opts.decision !== undefined ? { decision: opts.decision } : {}),
  };
  const plan = await planOver(runs, index, own, action, query, {
    ...approval,
    ...(opts.only ? { only: opts.only } : {}),
  });
  if (opts.dryRun) return bulkAnswer(plan, null, approval);
  opts.confirm?.(plan);
  return bulkAnswer(
    plan,
    await applyOver(runs, plan, as, {
      ...approval,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.describe ? { describe: opts.describe } : {}),
    }),
    approval,
  );
}

export interface BulkCallOptions extends BulkApproval {
  /** Say how many and which; change nothing. */
  dryRun?: boolean;
  /** Who acts, recorded in each run as the single action records it (default: $USER, else "library"). */
  by?: string;
  /** Their level (a users file): may they control runs; an approval's is judged per task (its agent_level). */
  level?: Level;
  /** cancel, pause: the reason recorded. approve: the comment. */
  reason?: string;
  /** The run index to query (default: the store's, opened and closed here). */
  index?: RunIndex;
  progress?(done: number, of: number): void;
  /** NATS: how long each run waits for an engine's verdict (0: published, not waited for). */
  waitMs?: number;
}

/**
 * `bulk(engine, action, filter, opts)`: the library's bulk action on an embedded Engine: `{ action, matched, would,
 * already }` for a dry run, else `{ action, matched, <cancelled|paused|resumed|retried|approved|rejected>: [ids],
 * already, refused }` (a retry adds `started: [{ runId, retryOf }]`). A retried, resumed or approved run is recorded,
 * not driven (a `serve` or `ui` drives it). An unknown filter field or a bad value throws QueryError (LF_QUERY_INVALID).
 */
export async function bulk(
  engine: Engine,
  action: BulkAction,
  filter: RunQueryInput,
  opts: BulkCallOptions = {},
): Promise<Record<string, unknown>> {
  const by = opts.by ?? process.env.USER ?? 'library';
  const runs = embeddedRuns({ engine, store: engine.store, fallback: by });
  const as: Acting = { name: by, ...(opts.level ? { actor: { name: by, level: opts.level } } : {}) };
  return bulkOver(
    runs,
    opts.index ?? openRunIndex({ store: engine.store }),
    !opts.index,
    action,
    parseRunQuery(filter, 'http', Date.now()),
    as,
    opts,
  );
}
