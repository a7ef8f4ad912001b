/**
 * `bulkOnCluster(client, action, filter, opts)` (`ledgerflow/cluster`): the
 * library's bulk action over NATS (docs/operations.md "Bulk actions"), as
 * `bulk(engine, …)` is on the embedded store: the runs the filter matches in
 * the run index (KV LF_RUNS_INDEX), each taken as the client's single action
 * on its own connection (ClusterClient.cancel, pause, resume, decide per
 * waiting HUMAN task, retry under `<id>-retry`), the same answer. A refusal
 * by the engines or by NATS permissions is listed with its run; the others go on.
 */
import { CancelRefusedError, errorMessage, LedgerflowError, PauseRefusedError, permissionDenied } from '../../errors/index.js';
import { applyBulk, bulkAnswer, retryOnce, JetStreamRunIndex, parseRunQuery, planBulk, type BulkAction, type BulkApproval, type RunQueryInput } from '../../query/index.js';
import type { ClusterClient } from './client.js';

export interface ClusterBulkOptions extends BulkApproval {
  dryRun?: boolean;
  /** A name recorded when the server proves none (no users in nats.conf); else the connection's user acts. */
  as?: string;
  /** cancel, pause: the reason; approve: the comment. */
  reason?: string;
  /** How long each run waits for an engine's verdict (default 10 s; 0: published, not waited for). */
  waitMs?: number;
}

export async function bulkOnCluster(client: ClusterClient, action: BulkAction, filter: RunQueryInput, opts: ClusterBulkOptions = {}): Promise<Record<string, unknown>> {
  const query = parseRunQuery(filter, 'http', Date.now());
  const index = new JetStreamRunIndex(client.store);
  const plan = await (async () => { try { return await planBulk(index, query, action, opts); } finally { await index.close(); } })();
  if (opts.dryRun) return bulkAnswer(plan, null, opts);
  const say = { ...(opts.as !== undefined ? { as: opts.as } : {}), ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}) };
  const reason = opts.reason !== undefined ? { reason: opts.reason } : {};
  const result = await applyBulk(plan, {
    take: async (runId) => {
      try {
        switch (action) {
          case 'retry': {
            return await retryOnce(runId, async (id) => (await client.store.lastSeq(id)) > 0, async (id) => (await client.retry(runId, id ? { runId: id } : {})).runId);
          }
          case 'approve': {
            for (const task of plan.tasks[runId] ?? []) await client.decide(runId, task, opts.decision ?? 'approved', opts.as ?? 'library', opts.reason, say);
            return true;
          }
          case 'resume': return (await client.resume(runId, say)).changed;
          case 'pause': await client.pause(runId, { ...say, ...reason }); return true;
          default: await client.cancel(runId, { ...say, ...reason }); return true;
        }
      } catch (err) {
        if (err instanceof CancelRefusedError || err instanceof PauseRefusedError) return false; // moved meanwhile
        throw err;
      }
    },
    describe: (err) => {
      const subject = permissionDenied(err);
      if (subject !== null) return { code: 'LF_FORBIDDEN', message: `refused by NATS permissions${subject ? ` on ${subject}` : ''}` };
      return { code: err instanceof LedgerflowError ? err.code : 'LF_INTERNAL', message: errorMessage(err) };
    },
  });
  return bulkAnswer(plan, result, opts);
}
