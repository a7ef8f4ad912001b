/**
 * `ledgerflow cancel|pause --query '<filter>'`: one input to every run a
 * filter matches (seed 004's emergency stop; the bulk actions of issue 39).
 * The filter is `list`'s, written `key=value` (`workflow=orders
 * status=RUNNING since=1h`); `--dry-run` says how many and which, changing
 * nothing; without `--yes` a terminal is asked and anything else refused.
 * Each run gets the input the single command gives it (recorded with who did
 * it, judged by their level), a few at a time; a run already in the state
 * asked for is counted, not failed; one refused (its level, a damaged log,
 * NATS permissions) is listed with why and the others go on.
 */
import { createInterface } from 'node:readline/promises';
import { errorMessage, LedgerflowError, UsageError } from '../errors/index.js';
import type { RunInput } from '../executor/index.js';
import { applyBulk, openRunIndex, parseRunQuery, planBulk, type BulkPlan } from '../query/index.js';
import { inert } from '../terminal/index.js';
import { EXIT } from './exit.js';
import type { Io } from './io.js';
import { storeFor } from './open-store.js';
import type { Acting } from './acting.js';
import type { InputOutcome } from '../executor/index.js';
import { usesNats, type GlobalOpts } from './store.js';
import { actingUser, requireLevel } from './acting.js';

export interface BulkOpts { query: string; dryRun?: boolean; yes?: boolean; as?: string; json?: boolean; wait?: string }

/** One run's input, as `cancel <runId>` takes it (run-inputs.ts's runInput, given by the caller: no import loop). */
export type TakeInput = (runId: string, input: RunInput, acting?: Acting) => Promise<InputOutcome>;

/** `key=value` words (a value with spaces in double quotes) → list's filters, as its flags name them. */
export function queryWords(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  for (const m of text.matchAll(/\s*([^\s=]+)=(?:"([^"]*)"|(\S*))/gy)) {
    const key = camel(m[1]!);
    const value = m[2] ?? m[3] ?? '';
    // where= may be given more than once (where=customer=42 where=region=eu): every condition holds.
    if (key === 'where') out.where = [...((out.where as string[] | undefined) ?? []), value]; else out[key] = value;
  }
  const rest = text.replace(/\s*([^\s=]+)=(?:"[^"]*"|\S*)/g, '').trim();
  if (rest !== '') throw new UsageError(`--query: "${rest}" is not key=value; write e.g. --query 'workflow=orders status=RUNNING since=1h'`, { option: '--query' });
  for (const paging of ['limit', 'cursor', 'before']) {
    if (paging in out) throw new UsageError(`--query: ${paging} pages a list; a bulk action takes every run the filters match (see them first with --dry-run)`, { option: '--query' });
  }
  if (Object.keys(out).length === 0) throw new UsageError('--query names no filter: give at least one, e.g. --query \'workflow=orders status=RUNNING\' (every run is never meant by accident)', { option: '--query' });
  return out;
}

const VERB = { cancel: ['cancel', 'cancelled'], pause: ['pause', 'paused'] } as const;

export async function bulkInputCmd(io: Io, g: GlobalOpts, input: Extract<RunInput, { kind: 'control' }>, opts: BulkOpts, runInput: TakeInput): Promise<number> {
  if (input.action === 'resume') throw new UsageError('resume takes one run id', {});
  // The filters named as the query names them (workflow, output-contains…), not as list's flags.
  const query = parseRunQuery(queryWords(opts.query), 'http', Date.now());
  const [verb, done] = VERB[input.action];
  const index = openRunIndex({ store: storeFor(g), onWarning: (m) => io.err(`warning: ${inert(m)}`) });
  let plan: BulkPlan;
  try {
    plan = await planBulk(index, query, input.action);
  } finally {
    await index.close();
  }
  const { matched, act } = plan;
  if (opts.dryRun) {
    if (opts.json) io.out(JSON.stringify({ action: verb, matched: matched.length, would: act.map((r) => r.runId), already: plan.already }, null, 2));
    else {
      io.out(`${matched.length} run(s) match; ${act.length} would be ${done}, ${plan.already.length} already are (or have settled); nothing changed`);
      for (const r of act) io.out(`  ${r.runId}  ${inert(r.workflowId)}  ${r.status}`);
    }
    return EXIT.ok;
  }
  if (act.length > 0 && !opts.yes && !(await confirmed(`${verb} ${act.length} run(s) matching ${opts.query}? [y/N] `))) {
    throw new UsageError(`${verb} of ${act.length} run(s) not confirmed: add --yes (or --dry-run to see which)`, { count: act.length });
  }
  // Who acts, proven once (embedded, a users file: the password checked, the level judged before any run is touched).
  const acting = usesNats(g) ? undefined : await actingUser(opts.as);
  if (acting) requireLevel(acting, 'control');
  const progress = process.stderr.isTTY && !opts.json;
  const result = await applyBulk(plan, {
    take: async (runId) => (await runInput(runId, input, acting)).changed,
    describe: (err) => ({ code: err instanceof LedgerflowError ? err.code : 'LF_INTERNAL', message: errorMessage(err) }),
    // A refusal of the level refuses them all: said once, not per run.
    fatal: (err) => err instanceof LedgerflowError && err.code === 'LF_AUTHORITY_REFUSED',
    ...(progress ? { progress: (n: number, of: number) => { process.stderr.write(`\r${verb}: ${n}/${of}`); } } : {}),
  });
  if (progress && act.length > 0) process.stderr.write('\n');
  if (opts.json) io.out(JSON.stringify({ action: verb, matched: matched.length, [done]: result.done, already: result.already, refused: result.refused }, null, 2));
  else {
    io.out(`${done} ${result.done.length} run(s); ${result.already.length} already ${done} or settled; ${result.refused.length} refused`);
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
