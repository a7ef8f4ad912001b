/**
 * A bulk action (one input to every run a query matches): the runs found by
 * paging the run index through, split into those the action would change and
 * those already there, then taken a few at a time. One core for the CLI's
 * `cancel --query` and the HTTP API's POST /api/bulk/:action, so both
 * count, skip and refuse alike. `take` is the single action (recorded as it
 * records one run's); it answers whether it changed the run, or throws a
 * refusal, which is kept with the run and does not stop the others — except
 * `fatal` ones (a level that may not act at all), which stop them all.
 */
import { SETTLED_STATUSES } from '../events/index.js';
import type { RunIndex } from './port.js';
import type { RunQuery } from './query.js';
import type { RunRecord } from './record.js';

export type BulkAction = 'cancel' | 'pause';

export interface BulkPlan { matched: RunRecord[]; act: RunRecord[]; already: string[] }
export interface BulkResult { done: string[]; already: string[]; refused: Array<{ runId: string; code: string; message: string }> }

/** Runs taken at once: each is a commit (or a NATS round trip) of its own. */
export const BULK_AT_ONCE = 8;

/** Whether the action would change the run at all (a cancel of a settled run, a pause of a paused one do not). */
export function wouldChange(action: BulkAction, r: Pick<RunRecord, 'status'>): boolean {
  if (SETTLED_STATUSES.includes(r.status)) return false;
  return action === 'pause' ? r.status !== 'PAUSED' : true;
}

/** Every run the query matches (newest first, every page), and what the action would do to each. */
export async function planBulk(index: Pick<RunIndex, 'query'>, query: RunQuery, action: BulkAction): Promise<BulkPlan> {
  const matched: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const { cursor: _drop, before: _also, limit: _l, ...filters } = query;
    const page = await index.query({ ...filters, limit: 500, ...(cursor ? { cursor } : {}) });
    matched.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { matched, act: matched.filter((r) => wouldChange(action, r)), already: matched.filter((r) => !wouldChange(action, r)).map((r) => r.runId) };
}

export interface BulkOptions {
  /** The single action on one run: true when it changed the run, false when it was already so. */
  take(runId: string): Promise<boolean>;
  /** A refusal's stable code and message. */
  describe(err: unknown): { code: string; message: string };
  /** A refusal that refuses them all (thrown as it is, the rest not tried). */
  fatal?(err: unknown): boolean;
  /** After each run (a count to show). */
  progress?(done: number, of: number): void;
}

export async function applyBulk(plan: BulkPlan, o: BulkOptions): Promise<BulkResult> {
  const result: BulkResult = { done: [], already: [...plan.already], refused: [] };
  let next = 0;
  let processed = 0;
  const worker = async () => {
    while (next < plan.act.length) {
      const r = plan.act[next++]!;
      try {
        (await o.take(r.runId) ? result.done : result.already).push(r.runId);
      } catch (err) {
        if (o.fatal?.(err)) throw err;
        result.refused.push({ runId: r.runId, ...o.describe(err) });
      }
      o.progress?.(++processed, plan.act.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BULK_AT_ONCE, plan.act.length) }, worker));
  return result;
}
