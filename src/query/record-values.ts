/**
 * A run record's fields that come from the run's values (docs/security.md#the-run-index): the one-line result of a
 * settled run (its output or error), the output's text and each search attribute's value. Under encryption at rest
 * they are sealed where the index writes a record (its cache file, the records kept on disk, KV LF_RUNS_INDEX) and
 * opened where it reads one back; the rest of the record (ids, statuses, task names and counts, times, who) stays
 * clear. Without any key (an index over clear runs) nothing here is called.
 */
import type { PersistedFold } from '../compiler/index.js';
import type { IndexSealer } from '../encryption/index.js';
import { REDACTED } from '../encryption/index.js';
import type { SearchValue } from '../definition/index.js';
import type { RunRecord } from './record.js';

export type { IndexSealer } from '../encryption/index.js';

/** The statuses whose result is the output's or the error's text (the others' name tasks and people). */
const VALUE_RESULT: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** The record as it is written: its value fields sealed with the current key. */
export function sealRecord<R extends Partial<RunRecord> & Pick<RunRecord, 'runId' | 'status'>>(
  s: IndexSealer,
  r: R,
): R {
  if (!s.key) return r;
  const out = { ...r };
  if (typeof r.result === 'string' && VALUE_RESULT.has(r.status)) out.result = s.sealText(r.runId, 'result', r.result);
  if (typeof r.outputText === 'string') out.outputText = s.sealText(r.runId, 'outputText', r.outputText);
  if (r.search) out.search = mapValues(r.search, (k, v) => s.sealJson(r.runId, `search.${k}`, v) as SearchValue);
  return out;
}

/**
 * The record as it is read back: its value fields opened, or `[encrypted]` where this process has not the key. Null
 * when a value was sealed with a key this process holds but has not loaded (a rotation): fold the run again.
 */
export function revealRecord<R extends Partial<RunRecord> & Pick<RunRecord, 'runId'>>(s: IndexSealer, r: R): R | null {
  s.stale = false;
  const out = { ...r };
  if (typeof r.result === 'string') out.result = s.openText(r.runId, 'result', r.result);
  if (typeof r.outputText === 'string') out.outputText = s.openText(r.runId, 'outputText', r.outputText);
  if (r.search) out.search = mapValues(r.search, (k, v) => s.openJson(r.runId, `search.${k}`, v) as SearchValue);
  return s.stale ? null : out;
}

/** A run's folded context (what continuing its record needs) sealed as one value, or opened (null: it does not open here). */
export function sealFold(s: IndexSealer, runId: string, fold: PersistedFold | null): PersistedFold | null {
  if (!fold || !s.key) return fold;
  const context = { [FOLD_KEY]: s.sealJson(runId, 'fold.context', fold.context) } as unknown;
  return { ...fold, context: context as PersistedFold['context'] };
}

export function openFold(s: IndexSealer, runId: string, fold: PersistedFold | null): PersistedFold | null {
  const sealed = fold ? (fold.context as unknown as Record<string, unknown>)[FOLD_KEY] : undefined;
  if (!fold || sealed === undefined) return fold;
  const context = s.openJson(runId, 'fold.context', sealed);
  return context === REDACTED || s.stale ? null : { ...fold, context: context as PersistedFold['context'] };
}

const FOLD_KEY = 'lf:index';

function mapValues<V, W>(o: Record<string, V>, fn: (k: string, v: V) => W): Record<string, W> {
  const out: Record<string, W> = {};
  for (const [k, v] of Object.entries(o)) out[k] = fn(k, v);
  return out;
}
