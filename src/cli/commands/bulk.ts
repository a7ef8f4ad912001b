/**
 * `ledgerflow cancel|pause|resume|retry|approve --query '<filter>'`: one action on every run a filter matches (an
 * emergency stop; the bulk actions of issue 39; docs/operations.md "Bulk actions"). The filter is `list`'s, written
 * `key=value` (`workflow=orders status=RUNNING since=1h`); `--dry-run` says how many and which, changing nothing;
 * without `--yes` a terminal is asked and anything else refused. Each run gets what the single command records (with
 * who did it, judged by their level), a few at a time; a run already in the state asked for is counted, not failed; one
 * refused (its level, a damaged log, NATS permissions) is listed with why and the others go on. Nothing is driven here:
 * a resumed, approved or retried run is moved on by a `serve` / `ui` (embedded) or the engines (NATS).
 */
import { createInterface } from 'node:readline/promises';
import { requireAllowed } from '../../authority/index.js';
import { UsageError } from '../../errors/index.js';
import {
  bulkAnswer,
  bulkDoneKey,
  openRunIndex,
  parseRunQuery,
  type BulkAction,
  type BulkApproval,
} from '../../query/index.js';
import { applyOver, planOver } from '../../runs/index.js';
import { inert } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import { waitFlag } from '../flags/input-flags.js';
import type { Io } from '../render/io.js';
import { indexProgressText } from '../render/list.js';
import { storeFor } from '../open-store.js';
import { sideFor } from '../runs.js';
import type { GlobalOpts } from '../flags/store.js';

export interface BulkOpts {
  query: string;
  dryRun?: boolean;
  yes?: boolean;
  as?: string;
  json?: boolean;
  wait?: string;
  reason?: string;
  comment?: string;
  task?: string;
  decision?: string;
}

/** `key=value` words (a value with spaces in double quotes) → list's filters, as its flags name them. */
export function queryWords(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  for (const m of text.matchAll(/\s*([^\s=]+)=(?:"([^"]*)"|(\S*))/gy)) {
    const key = camel(m[1]!);
    const value = m[2] ?? m[3] ?? '';
    // where= may be given more than once (where=customer=42 where=region=eu): every condition holds.
    if (key === 'where') out.where = [...((out.where as string[] | undefined) ?? []), value];
    else out[key] = value;
  }
  const rest = text.replace(/\s*([^\s=]+)=(?:"[^"]*"|\S*)/g, '').trim();
  if (rest !== '')
    throw new UsageError(
      `--query: "${rest}" is not key=value; write e.g. --query 'workflow=orders status=RUNNING since=1h'`,
      { option: '--query' },
    );
  for (const paging of ['limit', 'cursor', 'before']) {
    if (paging in out)
      throw new UsageError(
        `--query: ${paging} pages a list; a bulk action takes every run the filters match (see them first with --dry-run)`,
        { option: '--query' },
      );
  }
  if (Object.keys(out).length === 0)
    throw new UsageError(
      "--query names no filter: give at least one, e.g. --query 'workflow=orders status=RUNNING' (every run is never meant by accident)",
      { option: '--query' },
    );
  return out;
}

/** approve --query's --decision (default approved) and --task. */
function approvalOf(opts: BulkOpts): BulkApproval {
  if (opts.decision !== undefined && opts.decision !== 'approved' && opts.decision !== 'rejected') {
    throw new UsageError(`--decision: "${opts.decision}" is not approved or rejected`, {
      option: '--decision',
      value: opts.decision,
    });
  }
  return {
    ...(opts.task !== undefined ? { task: opts.task } : {}),
    ...(opts.decision !== undefined ? { decision: opts.decision } : {}),
  };
}

/** What a run counted "already" may be besides (said after the count). */
const ALREADY: Record<BulkAction, string> = {
  cancel: 'or have settled',
  pause: 'or have settled',
  resume: 'or are not paused',
  retry: 'or have a retry run, or are not FAILED or CANCELLED',
  approve: 'or wait on no such task',
};
const ALREADY_OR: Record<BulkAction, string> = {
  cancel: 'settled',
  pause: 'settled',
  resume: 'not paused',
  retry: 'not retryable',
  approve: 'waiting on no such task',
};

export async function bulkCmd(io: Io, g: GlobalOpts, action: BulkAction, opts: BulkOpts): Promise<number> {
  // The filters named as the query names them (workflow, output-contains…), not as list's flags.
  const query = parseRunQuery(queryWords(opts.query), 'http', Date.now());
  const approval = approvalOf(opts);
  if (action !== 'approve' && (opts.task !== undefined || opts.decision !== undefined))
    throw new UsageError('--task and --decision go with approve --query', {});
  const done = bulkDoneKey(action, approval);
  const index = openRunIndex({
    store: storeFor(g),
    onWarning: (m) => io.err(`warning: ${inert(m)}`),
    onProgress: (n, of) => io.err(indexProgressText(n, of)),
  });
  const side = await sideFor(g);
  const runs = await side.runs();
  const plan = await planOver(runs, index, true, action, query, approval);
  const { matched, act } = plan;
  if (opts.dryRun) {
    if (opts.json) io.out(JSON.stringify(bulkAnswer(plan, null, approval), null, 2));
    else {
      io.out(
        matched.length === 0
          ? `no run matches ${opts.query}; nothing to ${action}`
          : `${matched.length} run(s) match; ${act.length} would be ${done}, ${plan.already.length} already are (${ALREADY[action]}); nothing changed`,
      );
      for (const r of act)
        io.out(
          `  ${r.runId}  ${inert(r.workflowId)}  ${r.status}${action === 'approve' ? `  ${(plan.tasks[r.runId] ?? []).join(', ')}` : ''}`,
        );
    }
    return EXIT.ok;
  }
  if (
    act.length > 0 &&
    !opts.yes &&
    !(await confirmed(`${action} ${act.length} run(s) matching ${opts.query}? [y/N] `))
  ) {
    throw new UsageError(`${action} of ${act.length} run(s) not confirmed: add --yes (or --dry-run to see which)`, {
      count: act.length,
    });
  }
  // Who acts, proven once (embedded, a users file: the password checked, the level judged before any run is touched;
  // an approval's level per task, by the approval rule, a refusal listed with its run). Each run as the single command takes it.
  const as = await side.acting(opts.as);
  if (action !== 'approve') requireAllowed(as.actor, 'control');
  const progress = process.stderr.isTTY && !opts.json;
  const reason = action === 'approve' ? opts.comment : opts.reason;
  const result = await applyOver(runs, plan, as, {
    ...approval,
    waitMs: waitFlag(opts.wait),
    ...(reason !== undefined ? { reason } : {}),
    ...(progress
      ? {
          progress: (n: number, of: number) => {
            process.stderr.write(`\r${action}: ${n}/${of}`);
          },
        }
      : {}),
  });
  if (progress && act.length > 0) process.stderr.write('\n');
  if (opts.json) io.out(JSON.stringify(bulkAnswer(plan, result, approval), null, 2));
  else {
    if (matched.length === 0) io.out(`no run matches ${opts.query}; nothing to ${action}`);
    else
      io.out(
        `${done} ${result.done.length} run(s); ${result.already.length} already ${done} or ${ALREADY_OR[action]}; ${result.refused.length} refused${result.done.length > 0 && action !== 'cancel' && action !== 'pause' ? `; ${side.says.movesOn}` : ''}`,
      );
    for (const s of result.started) io.out(`  ${s.retryOf} → ${s.runId}`);
    for (const r of result.refused) io.out(`  refused ${r.runId}: ${inert(r.message)}`);
  }
  return result.refused.length > 0 ? EXIT.usage : EXIT.ok;
}

/** A yes from a person at a terminal; anything else (a pipe, a CI job) is no. */
async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
