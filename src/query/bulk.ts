/**
 * A bulk action (one action on every run a query matches): the runs found by paging the run index through, split into
 * those the action would change and those already there, then taken a few at a time. One core for the CLI's
 * `cancel|pause|resume|retry|approve --query`, the library's `bulk` and the HTTP API's POST /api/bulk/:action, so all
 * count, skip, refuse and answer alike (`bulkAnswer`: one JSON shape). `take` is the single action (recorded as it
 * records one run's); it answers whether it changed the run (a retry: the new run's id), or throws a refusal, which is
 * kept with the run and does not stop the others — except `fatal` ones (a level that may not act at all), which stop
 * them all.
 */
import { AppendConflictError, RunIdTakenError } from '../errors/index.js';
import { SETTLED_STATUSES, type EventEnvelope, type RunSource } from '../events/index.js';
import type { RunIndex } from './port.js';
import type { RunQuery } from './query.js';
import type { RunRecord } from './record.js';

export const BULK_ACTIONS = ['cancel', 'pause', 'resume', 'retry', 'approve'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** What an approve --query decides: which waiting HUMAN task (default: each the run waits on) and how. */
export interface BulkApproval {
  task?: string;
  decision?: 'approved' | 'rejected';
}

/** planBulk's choices: an approval's, and `only` (a selection: just these of the runs the query matches). */
interface BulkChoice extends BulkApproval {
  only?: readonly string[];
}

export interface BulkPlan {
  action: BulkAction;
  matched: RunRecord[];
  act: RunRecord[];
  already: string[];
  /** approve: the waiting tasks of each run to act on, by run id. */
  tasks: Record<string, string[]>;
}
export interface BulkRefusal {
  runId: string;
  code: string;
  message: string;
}
export interface BulkResult {
  done: string[];
  already: string[];
  refused: BulkRefusal[];
  started: Array<{ runId: string; retryOf: string }>;
}

/** Runs taken at once: each is a commit (or a NATS round trip) of its own. */
const BULK_AT_ONCE = 8;

/** The key of the runs changed in the answer: `cancelled`, `paused`, `resumed`, `retried`, `approved` / `rejected`. */
export function bulkDoneKey(action: BulkAction, approval: BulkApproval = {}): string {
  if (action === 'approve') return approval.decision === 'rejected' ? 'rejected' : 'approved';
  return { cancel: 'cancelled', pause: 'paused', resume: 'resumed', retry: 'retried' }[action];
}

/**
 * The tasks of the run an approve acts on: its waiting HUMAN tasks (only `task` when named).
 * A run waiting on none of them is "already" (nothing to decide).
 */
function approvalTasks(r: Pick<RunRecord, 'waiting'>, task?: string): string[] {
  return (r.waiting ?? []).map((w) => w.task).filter((t) => task === undefined || t === task);
}

/**
 * Whether the action would change the run at all: a cancel of a settled run, a pause of a paused one, a resume
 * of one not paused, a retry of one not FAILED or CANCELLED or retried already (`retried`: the ids that have a
 * retry run), an approve of a run that waits on no such task do not.
 */
function wouldChange(
  action: BulkAction,
  r: Pick<RunRecord, 'status' | 'runId'> & Partial<Pick<RunRecord, 'waiting'>>,
  ctx: { retried?: ReadonlySet<string>; task?: string } = {},
): boolean {
  if (action === 'retry')
    return (r.status === 'FAILED' || r.status === 'CANCELLED') && !(ctx.retried?.has(r.runId) ?? false);
  if (SETTLED_STATUSES.includes(r.status)) return false;
  if (action === 'pause') return r.status !== 'PAUSED';
  if (action === 'resume') return r.status === 'PAUSED';
  if (action === 'approve') return approvalTasks({ waiting: r.waiting ?? [] }, ctx.task).length > 0;
  return true;
}

/**
 * The ids a bulk retry of `runId` may take, in order: `<runId>-retry`, then `-retry-2` … `-retry-4` when a run that is
 * not its retry holds the name (a user may name a run anything: `run --id foo-retry`). Fixed names, so that two bulk
 * retries that race start one run (the second's start finds the id taken by the first's retry). Ids too long for the
 * suffix get none: a fresh id (the run index still finds their retry by its trigger).
 */
function bulkRetryIds(runId: string): string[] {
  return ['', '-2', '-3', '-4'].map((n) => `${runId}-retry${n}`).filter((id) => id.length <= 100);
}

/** What holds a bulk retry's id: nothing, the retry of the run being retried, or a run of its own. */
export type RetryIdHolder = 'none' | 'its-retry' | 'other';

/** Who holds a retry id, from that id's log (`events`, empty when no run has it): the retry of `runId`, or another run. */
export function retryIdHolder(events: readonly EventEnvelope[], runId: string): RetryIdHolder {
  const first = events[0];
  if (!first) return 'none';
  const source = first.type === 'run.started' ? (first.data as { source?: RunSource }).source : undefined;
  return source?.retryOf?.runId === runId ? 'its-retry' : 'other';
}

/**
 * One run's bulk retry, once, on every store and path: under the first of its retry ids (bulkRetryIds) no other run
 * holds, and `false` (already retried) when that id holds its retry, whether found or started meanwhile by another
 * bulk retry the index has not seen yet. `holder` reads who holds an id; `start` starts the retry under the id given
 * (or a fresh one) and answers the new run's id.
 */
export async function retryOnce(
  runId: string,
  holder: (id: string) => Promise<RetryIdHolder>,
  start: (id: string | undefined) => Promise<string>,
): Promise<false | { started: string }> {
  for (const id of bulkRetryIds(runId)) {
    const held = await holder(id);
    if (held === 'its-retry') return false;
    if (held === 'other') continue;
    try {
      return { started: await start(id) };
    } catch (err) {
      if (!(err instanceof AppendConflictError || err instanceof RunIdTakenError)) throw err;
      // Taken meanwhile: by a racing bulk retry of the same run (already retried), or by a run of its own (the next id).
      if ((await holder(id)) === 'its-retry') return false;
    }
  }
  return { started: await start(undefined) };
}

/** Every record a query matches (newest first, every page; the query's own paging ignored). */
export async function matchingRuns(index: Pick<RunIndex, 'query'>, query: RunQuery): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  const { cursor: _drop, before: _also, limit: _l, ...filters } = query;
  let cursor: string | undefined;
  do {
    const page = await index.query({ ...filters, limit: 500, ...(cursor ? { cursor } : {}) });
    out.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** The ids of the runs that have a retry run (the index's trigger retry:<id>): a bulk retry takes each once. */
async function retriedRuns(index: Pick<RunIndex, 'query'>): Promise<Set<string>> {
  const retries = await matchingRuns(index, { trigger: { kind: 'retry' } });
  return new Set(retries.flatMap((r) => (r.trigger.kind === 'retry' ? [r.trigger.runId] : [])));
}

/**
 * Every run the query matches, and what the action would do to each. `pending` (approve): a run's HUMAN tasks
 * waiting for a decision, read from its log, for an unsettled run whose record names none (a run whose log is only
 * its start commit folds with its first tasks started but the record does not list them).
 */
export async function planBulk(
  index: Pick<RunIndex, 'query'>,
  query: RunQuery,
  action: BulkAction,
  approval: BulkChoice = {},
  pending?: (runId: string) => Promise<string[]>,
): Promise<BulkPlan> {
  let matched = await matchingRuns(index, query);
  if (approval.only) {
    const only = new Set(approval.only);
    matched = matched.filter((r) => only.has(r.runId));
  }
  if (action === 'approve' && pending) {
    matched = await Promise.all(
      matched.map(async (r) =>
        SETTLED_STATUSES.includes(r.status) || r.waiting.length > 0
          ? r
          : { ...r, waiting: (await pending(r.runId)).map((task) => ({ task, approvers: [] })) },
      ),
    );
  }
  const ctx = {
    ...(action === 'retry' ? { retried: await retriedRuns(index) } : {}),
    ...(approval.task !== undefined ? { task: approval.task } : {}),
  };
  const act = matched.filter((r) => wouldChange(action, r, ctx));
  const tasks =
    action === 'approve' ? Object.fromEntries(act.map((r) => [r.runId, approvalTasks(r, approval.task)])) : {};
  return {
    action,
    matched,
    act,
    already: matched.filter((r) => !wouldChange(action, r, ctx)).map((r) => r.runId),
    tasks,
  };
}

interface BulkOptions {
  /** The single action on one run: true when it changed the run, false when it was already so; a retry: the new run's id. */
  take(runId: string): Promise<boolean | { started: string }>;
  /** A refusal's stable code and message. */
  describe(err: unknown): { code: string; message: string };
  /** A refusal that refuses them all (thrown as it is, the rest not tried). */
  fatal?(err: unknown): boolean;
  /** After each run (a count to show). */
  progress?(done: number, of: number): void;
}

export async function applyBulk(plan: BulkPlan, o: BulkOptions): Promise<BulkResult> {
  const result: BulkResult = { done: [], already: [...plan.already], refused: [], started: [] };
  let next = 0;
  let processed = 0;
  const worker = async () => {
    while (next < plan.act.length) {
      const r = plan.act[next++]!;
      try {
        const took = await o.take(r.runId);
        if (took === false) result.already.push(r.runId);
        else {
          result.done.push(r.runId);
          if (took !== true) result.started.push({ runId: took.started, retryOf: r.runId });
        }
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

/**
 * The one answer of a bulk action (CLI --json, library, HTTP API): a dry run `{ action, matched, would, already }`
 * (approve: `tasks` too); else `{ action, matched, <done key>: [ids], already, refused }` (retry: `started: [{ runId,
 * retryOf }]`, the new runs).
 */
export function bulkAnswer(
  plan: BulkPlan,
  result: BulkResult | null,
  approval: BulkApproval = {},
): Record<string, unknown> {
  const tasks = plan.action === 'approve' ? { tasks: plan.tasks } : {};
  if (result === null)
    return {
      action: plan.action,
      matched: plan.matched.length,
      would: plan.act.map((r) => r.runId),
      already: plan.already,
      ...tasks,
    };
  return {
    action: plan.action,
    matched: plan.matched.length,
    [bulkDoneKey(plan.action, approval)]: result.done,
    already: result.already,
    refused: result.refused,
    ...(plan.action === 'retry' ? { started: result.started } : {}),
  };
}
