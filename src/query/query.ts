/**
 * The run query: filters and paging, one zod schema shared by `ledgerflow list` flags and the HTTP API's query string,
 * so both accept and refuse the same values with the same words. Pure: "now" for relative times is given.
 */
import { z } from 'zod';
import {
  MAX_DURATION_MS,
  MAX_DURATION_TEXT,
  parseDuration,
  SEARCH_NAME,
  type SearchType,
  type SearchValue,
} from '../definition/index.js';
import { UsageError } from '../errors/index.js';
import { WorkflowStatus } from '../events/index.js';
import { decodeCursor } from './cursor.js';
import { TRIGGER_KINDS, type RunRecord } from './record.js';

export const MAX_LIMIT = 500;

/** A bad query value: names the field as the caller wrote it (`--since` or `since`) and what to write instead. Exit 2 / HTTP 400. */
export class QueryError extends UsageError {
  readonly field: string;
  constructor(field: string, message: string, value: unknown) {
    super(
      message,
      { field, value: typeof value === 'string' ? value : (JSON.stringify(value) ?? null) },
      'LF_QUERY_INVALID',
    );
    this.field = field;
  }
}

const text = z.string().trim().min(1);
const TRIGGER = new RegExp(`^(${TRIGGER_KINDS.join('|')})(?::(.+))?$`);

/** What the caller writes (flags or query parameters, all text or numbers). */
export const RunQuerySchema = z
  .object({
    workflow: text.optional(),
    status: z.string().trim().toUpperCase().pipe(WorkflowStatus).optional(),
    /** `kind` or `kind:id`: event:<event type or id>, schedule:<slot>, parent:<run id>, retry:<run id>, manual. */
    trigger: z.string().trim().regex(TRIGGER).optional(),
    agent: text.optional(),
    /** ISO 8601 time, or how long ago: `90m`, `24h`, `7d`. */
    since: text.optional(),
    until: text.optional(),
    outputContains: z.string().min(1).optional(),
    /** A run id prefix. */
    runId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,128}$/)
      .optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
    /** The page just before this position (a page's `prevCursor`): paging back to newer rows on the API. */
    before: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
    /** Search attribute conditions, all of which a run meets: `name=value`, `name!=value`, and for numbers, times and text `<`, `<=`, `>`, `>=`. */
    where: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .strict();
export type RunQueryInput = z.input<typeof RunQuerySchema>;

/** A checked query: times resolved to ISO, trigger split. */
export interface RunQuery {
  workflow?: string;
  status?: WorkflowStatus;
  trigger?: { kind: (typeof TRIGGER_KINDS)[number]; id?: string };
  agent?: string;
  since?: string;
  until?: string;
  outputContains?: string;
  runId?: string;
  limit?: number;
  cursor?: string;
  before?: string;
  /** Search attribute conditions (all must hold). */
  where?: WhereClause[];
}

const WHERE_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
type WhereOp = (typeof WHERE_OPS)[number];

/**
 * One `--where` condition: the attribute, the comparison and the value as written, with what it reads as for each type
 * (null: not one). A run compares it by the type its workflow declares for the attribute.
 */
export interface WhereClause {
  name: string;
  op: WhereOp;
  text: string;
  number: number | null;
  bool: boolean | null;
  /** An ISO time, or how long ago (`24h`) resolved against the query's now. */
  time: string | null;
}

const WHERE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*(.*?)\s*$/s;

/** The search attribute names and types the runs of an index have: what `where` is checked against. */
type SearchTypes = ReadonlyMap<string, ReadonlySet<SearchType>>;

/** How each field is written where the query came from: CLI flags or HTTP query parameters. */
type QuerySource = 'cli' | 'http';
const FLAGS: Record<string, string> = { outputContains: '--output-contains', runId: '--run-id' };
const fieldName = (field: string, where: QuerySource) => (where === 'http' ? field : (FLAGS[field] ?? `--${field}`));

export const FIX: Record<string, string> = {
  status: `one of ${WorkflowStatus.options.join(', ')}`,
  trigger: `one of ${TRIGGER_KINDS.join(', ')}, or kind:id (e.g. event:<event type or id>, schedule:2026-01-01T09:00:00.000Z, parent:<run id>)`,
  since: 'an ISO time (2026-01-01T00:00:00Z) or how long ago (90m, 24h, 7d)',
  until: 'an ISO time (2026-01-01T00:00:00Z) or how long ago (90m, 24h, 7d)',
  runId: 'a run id or its beginning (A-Z a-z 0-9 _ -)',
  where: 'name=value (or name!=value, and <, <=, >, >= for numbers and times), e.g. customer=42',
  limit: `a whole number from 1 to ${MAX_LIMIT}`,
  cursor: 'the nextCursor of the page before, as it was given',
  before: 'the prevCursor of the page after, as it was given',
};

/**
 * Parses a query from flags (`where: 'cli'`) or an HTTP query string (`'http'`); absent and empty values mean no
 * filter. `now` (ms) anchors relative times. Throws QueryError naming the first bad field.
 */
export function parseRunQuery(raw: Record<string, unknown>, where: QuerySource, now: number): RunQuery {
  const given: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== undefined && v !== '') given[k] = v;
  const parsed = RunQuerySchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      throw new QueryError(
        key,
        `${fieldName(key, where)} is not a run filter; filters are ${Object.keys(RunQuerySchema.shape)
          .map((f) => fieldName(f, where))
          .join(', ')}`,
        given[key],
      );
    }
    const field = String(issue.path[0] ?? 'query');
    throw new QueryError(
      field,
      `${fieldName(field, where)} ${JSON.stringify(given[field])} is not valid: use ${FIX[field] ?? issue.message}`,
      given[field],
    );
  }
  const q = parsed.data;
  const out: RunQuery = {};
  if (q.workflow !== undefined) out.workflow = q.workflow;
  if (q.status !== undefined) out.status = q.status;
  if (q.trigger !== undefined) {
    const [, kind, id] = TRIGGER.exec(q.trigger)!;
    out.trigger = { kind: kind as (typeof TRIGGER_KINDS)[number], ...(id !== undefined ? { id } : {}) };
  }
  if (q.agent !== undefined) out.agent = q.agent;
  for (const f of ['since', 'until'] as const) {
    if (q[f] === undefined) continue;
    const at = timeOf(q[f], now);
    if (at === 'too long') {
      throw new QueryError(
        f,
        `${fieldName(f, where)} ${JSON.stringify(q[f])} is longer ago than ${MAX_DURATION_TEXT}, the longest duration ledgerflow takes; for an earlier time give it as an ISO time (2020-01-01)`,
        q[f],
      );
    }
    if (at === null)
      throw new QueryError(f, `${fieldName(f, where)} ${JSON.stringify(q[f])} is not a time: use ${FIX[f]}`, q[f]);
    out[f] = at;
  }
  if (out.since !== undefined && out.until !== undefined && out.since > out.until) {
    throw new QueryError(
      'until',
      `${fieldName('until', where)} (${out.until}) is before ${fieldName('since', where)} (${out.since}): no run can match`,
      q.until,
    );
  }
  if (q.outputContains !== undefined) out.outputContains = q.outputContains;
  if (q.runId !== undefined) out.runId = q.runId;
  if (q.limit !== undefined) out.limit = q.limit;
  for (const f of ['cursor', 'before'] as const) {
    if (q[f] === undefined) continue;
    if (decodeCursor(q[f]) === null)
      throw new QueryError(f, `${fieldName(f, where)} ${JSON.stringify(q[f])} is not a cursor: use ${FIX[f]}`, q[f]);
    out[f] = q[f];
  }
  if (q.where !== undefined) {
    const texts = (Array.isArray(q.where) ? q.where : [q.where]).filter((w) => w.trim() !== '');
    if (texts.length > 0) out.where = texts.map((w) => whereClause(w, where, now));
  }
  if (out.cursor !== undefined && out.before !== undefined) {
    throw new QueryError(
      'before',
      `${fieldName('before', where)} and ${fieldName('cursor', where)} together: give one (cursor pages on to older rows, before back to newer ones)`,
      q.before,
    );
  }
  return out;
}

function whereClause(w: string, where: QuerySource, now: number): WhereClause {
  const m = WHERE.exec(w);
  const name = fieldName('where', where);
  if (!m) throw new QueryError('where', `${name} ${JSON.stringify(w)} is not a condition: use ${FIX.where}`, w);
  const [, attr, op, text] = m as unknown as [string, string, WhereOp, string];
  if (!SEARCH_NAME.test(attr))
    throw new QueryError(
      'where',
      `${name} ${JSON.stringify(w)}: "${attr}" is not a search attribute name (at most 64 letters, digits or _)`,
      w,
    );
  const value = /^"(.*)"$/s.exec(text)?.[1] ?? text;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  const t = timeOf(value, now);
  return {
    name: attr,
    op,
    text: value,
    number: Number.isFinite(n) ? n : null,
    bool: value === 'true' ? true : value === 'false' ? false : null,
    time: t === null || t === 'too long' ? null : t,
  };
}

/** The clause's value as the type given; null when it is not one. */
function operand(c: WhereClause, type: SearchType): SearchValue | null {
  switch (type) {
    case 'number':
      return c.number;
    case 'bool':
      return c.bool;
    case 'time':
      return c.time;
    default:
      return c.text;
  }
}

/**
 * Checks `where` against the attributes the runs have: an attribute no run has and a value that is none of its types
 * are QueryErrors naming them (exit 2, HTTP 400), so that a typo is not answered "no runs".
 */
export function checkWhere(where: readonly WhereClause[] | undefined, types: SearchTypes): void {
  for (const c of where ?? []) {
    const has = types.get(c.name);
    const written = `${c.name}${c.op}${c.text}`;
    if (!has) {
      const known = [...types.keys()].sort();
      throw new QueryError(
        'where',
        `where ${JSON.stringify(written)}: no run has a search attribute "${c.name}"; ${known.length ? `runs have: ${known.join(', ')}` : 'no run has any (a workflow declares them in search:)'}`,
        written,
      );
    }
    const fits = [...has].filter((t) => operand(c, t) !== null && (t !== 'bool' || c.op === '=' || c.op === '!='));
    if (fits.length === 0) {
      const types = [...has].join(' or ');
      const what =
        has.has('bool') && c.bool !== null
          ? `${c.op} compares numbers, times and text; a bool takes = or !=`
          : `${JSON.stringify(c.text)} is not a ${types}${has.has('time') ? ' (an ISO time, or how long ago: 24h)' : has.has('bool') ? ' (true or false)' : ''}`;
      throw new QueryError(
        'where',
        `where ${JSON.stringify(written)}: ${c.name} is a ${types} attribute and ${what}`,
        written,
      );
    }
  }
}

/** The names and types of the records' search attributes. */
export function searchTypesOf(
  records: Iterable<RunRecord>,
  into = new Map<string, Set<SearchType>>(),
): Map<string, Set<SearchType>> {
  for (const r of records) addSearchTypes(r, into);
  return into;
}

export function addSearchTypes(r: Pick<RunRecord, 'searchTypes'>, into: Map<string, Set<SearchType>>): void {
  if (!r.searchTypes) return;
  for (const [k, t] of Object.entries(r.searchTypes)) {
    const had = into.get(k);
    if (!had) into.set(k, new Set([t]));
    else had.add(t);
  }
}

function whereHolds(r: Matchable, c: WhereClause): boolean {
  const v = r.search?.[c.name];
  if (v === undefined) return false; // a run without the attribute meets no condition on it, not even !=
  const want = operand(c, r.searchTypes?.[c.name] ?? 'string');
  if (want === null) return false;
  switch (c.op) {
    case '=':
      return v === want;
    case '!=':
      return v !== want;
    case '<':
      return typeof v !== 'boolean' && v < want;
    case '<=':
      return typeof v !== 'boolean' && v <= want;
    case '>':
      return typeof v !== 'boolean' && v > want;
    case '>=':
      return typeof v !== 'boolean' && v >= want;
  }
}

/** An ISO time (normalised), or `now` minus a duration (`24h`, `7d`, `PT1H`) of at most 365d; null when it is neither. */
function timeOf(value: string, now: number): string | null | 'too long' {
  // A bare number has no unit: refused rather than read as milliseconds.
  const ago = /^\d+(?:\.\d+)?$/.test(value) ? null : parseDuration(value);
  // The cap durations have everywhere; past it `now - ago` may not even be a date.
  if (ago !== null && ago > MAX_DURATION_MS) return 'too long';
  if (ago !== null) return new Date(now - ago).toISOString();
  // A date-time or a date: digits first, so that "1" or "yesterday" are not taken for years.
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** Whether a record passes every filter of the query (paging aside). */
/** What `matches` reads of a record: all but its task table, result line and waiting list (a settled run's slim row has these). */
type Matchable = Pick<
  RunRecord,
  'runId' | 'workflowId' | 'status' | 'startedAt' | 'trigger' | 'agents' | 'search' | 'searchTypes'
> & { outputText?: string | null };

export function matches(r: Matchable, q: RunQuery): boolean {
  if (q.workflow !== undefined && r.workflowId !== q.workflow) return false;
  if (q.status !== undefined && r.status !== q.status) return false;
  if (q.runId !== undefined && !r.runId.startsWith(q.runId)) return false;
  if (q.since !== undefined && r.startedAt < q.since) return false;
  if (q.until !== undefined && r.startedAt > q.until) return false;
  if (q.agent !== undefined && !r.agents.includes(q.agent)) return false;
  if (q.trigger !== undefined) {
    if (r.trigger.kind !== q.trigger.kind) return false;
    // event:<x> is what users try with an event's type (event:lead_qualification) as often as with its id: either matches.
    if (
      q.trigger.id !== undefined &&
      triggerId(r.trigger) !== q.trigger.id &&
      !(r.trigger.kind === 'event' && r.trigger.type === q.trigger.id)
    )
      return false;
  }
  if (q.outputContains !== undefined && !(r.outputText ?? '').toLowerCase().includes(q.outputContains.toLowerCase()))
    return false;
  if (q.where !== undefined) for (const c of q.where) if (!whereHolds(r, c)) return false;
  return true;
}

/** What `kind:id` compares with: the event id, the schedule slot, or the run id of the parent or retried run. */
function triggerId(t: RunRecord['trigger']): string | null {
  switch (t.kind) {
    case 'event':
      return t.id;
    case 'schedule':
      return t.slot;
    case 'parent':
    case 'retry':
      return t.runId;
    default:
      return null;
  }
}

/** Whether the query only pages (no filter, a limit, no `before`): the queries a page from the end answers. */
export function pagesOnly(q: RunQuery): boolean {
  if (q.limit === undefined || q.before !== undefined) return false;
  return (
    q.workflow === undefined &&
    q.status === undefined &&
    q.trigger === undefined &&
    q.agent === undefined &&
    q.since === undefined &&
    q.until === undefined &&
    q.outputContains === undefined &&
    q.runId === undefined &&
    (q.where === undefined || q.where.length === 0)
  );
}
