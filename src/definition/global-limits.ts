/**
 * The limits file (docs/limits.md#limits-per-queue-or-handler): a `concurrency:`, a `rate_limit:` and a `breaker:` per
 * task queue and per handler name, shared by every task of every workflow that runs on that queue or calls that
 * handler. YAML text → GlobalLimits plus every problem at file:line:col. Pure: the caller reads the file; `ledgerflow
 * limits set` stores the result where every process of the store reads it.
 */
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { errorMessage, type Diagnostic } from '../errors/index.js';
import { formatIssue, isObj, textDiagnostic } from './issues.js';
import { MAX_DEFINITION_BYTES, utf8LengthOver } from './limits.js';
import { parseDuration } from '../duration.js';
import { Locator } from './positions.js';
import { BreakerSchema, limitMapError, RateLimitSchema, TaskConcurrencySchema } from './task-schema.js';
import type { TaskBreaker, TaskConcurrency, TaskRateLimit } from './task-types.js';

/** One queue's or handler's limits: the same three a task may have. */
export interface LimitSpec {
  concurrency?: TaskConcurrency;
  rateLimit?: TaskRateLimit;
  breaker?: TaskBreaker;
}

/** The limits file, normalised: plain JSON (what the store keeps). */
export interface GlobalLimits {
  queues: Record<string, LimitSpec>;
  handlers: Record<string, LimitSpec>;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,255}$/;

const LimitSpecSchema = z
  .strictObject(
    {
      concurrency: TaskConcurrencySchema.optional(),
      rate_limit: RateLimitSchema.optional(),
      breaker: BreakerSchema.optional(),
    },
    {
      error: limitMapError(
        '{ concurrency: { limit: 5 }, rate_limit: { limit: 100, per: 1s } }',
        'concurrency, rate_limit and breaker',
      ),
    },
  )
  .refine((s) => s.concurrency !== undefined || s.rate_limit !== undefined || s.breaker !== undefined, {
    error:
      'give concurrency: { limit: 5 }, rate_limit: { limit: 100, per: 1s }, breaker: { failures: 5, window: 1m, open_for: 30s } or several (or leave the name out)',
  });

const Names = (what: string) =>
  z.record(
    z.string().regex(NAME, {
      error: `a ${what} name is letters, digits, _, . and - (at most 256), starting with a letter, digit or _`,
    }),
    LimitSpecSchema,
    { error: `expected a map of ${what} name: { concurrency: { limit: 5 }, rate_limit: { limit: 100, per: 1s } }` },
  );

const LimitsFileSchema = z.strictObject(
  {
    queues: Names('queue').optional(),
    handlers: Names('handler').optional(),
  },
  { error: limitMapError('queues: { payments: { concurrency: { limit: 5 } } }', 'queues and handlers') },
);

function normalizeSpec(raw: z.infer<typeof LimitSpecSchema>): LimitSpec {
  return {
    ...(raw.concurrency ? { concurrency: { limit: raw.concurrency.limit } } : {}),
    ...(raw.rate_limit
      ? { rateLimit: { limit: raw.rate_limit.limit, perMs: parseDuration(raw.rate_limit.per)! } }
      : {}),
    ...(raw.breaker
      ? {
          breaker: {
            failures: raw.breaker.failures,
            windowMs: parseDuration(raw.breaker.window)!,
            openForMs: parseDuration(raw.breaker.open_for)!,
          },
        }
      : {}),
  };
}

function normalizeLimits(raw: z.infer<typeof LimitsFileSchema>): GlobalLimits {
  const map = (m: Record<string, z.infer<typeof LimitSpecSchema>> | undefined) =>
    Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, normalizeSpec(v)]));
  return { queues: map(raw.queues), handlers: map(raw.handlers) };
}

/** One queue's or handler's limits as stored (normalized: `rateLimit.perMs`). */
const StoredSpecSchema = z.object({
  concurrency: z.object({ limit: z.number().int().min(1).max(100_000) }).optional(),
  rateLimit: z.object({ limit: z.number().int().min(1).max(100_000), perMs: z.number().positive() }).optional(),
  breaker: z
    .object({
      failures: z.number().int().min(1).max(100_000),
      windowMs: z.number().positive(),
      openForMs: z.number().positive(),
    })
    .optional(),
});

/** Stored limits as read back (a file, a KV entry): parsed at the boundary; anything else is refused by the caller. */
export const StoredLimitsSchema = z.object({
  queues: z.record(z.string().regex(NAME), StoredSpecSchema),
  handlers: z.record(z.string().regex(NAME), StoredSpecSchema),
});

interface LimitsParse {
  limits: GlobalLimits | null;
  diagnostics: Diagnostic[];
}

/** Parses a limits file: every problem at its line and column, each naming the fix; `limits` is null when any is an error. */
export function parseLimits(text: string, file?: string): LimitsParse {
  const withFile = (d: Diagnostic): Diagnostic => (file === undefined ? d : { ...d, file });
  const invalid = (message: string, at?: { line: number; col: number }) =>
    withFile(textDiagnostic('LF_LIMITS_INVALID', message, at));
  const over = utf8LengthOver(text, MAX_DEFINITION_BYTES);
  if (over !== null)
    return { limits: null, diagnostics: [invalid(`a limits file may be at most ${MAX_DEFINITION_BYTES} bytes`)] };
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const duplicate = e.code === 'DUPLICATE_KEY';
    const message = duplicate ? 'duplicate key: a queue or handler may be named once' : `YAML: ${e.message}`;
    diagnostics.push(invalid(message, lineCounter.linePos(e.pos[0])));
  }
  if (diagnostics.length > 0) return { limits: null, diagnostics };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { limits: null, diagnostics: [invalid(`YAML: ${errorMessage(err)}`)] };
  }
  // An empty file: no limits (what `limits set` of an empty file stores, clearing them).
  if (raw === null || raw === undefined) return { limits: { queues: {}, handlers: {} }, diagnostics: [] };
  const locator = new Locator(doc, lineCounter, source);
  const parsed = LimitsFileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const f = formatIssue(issue, raw);
      if (issue.code === 'invalid_key') {
        const what = f.path[0] === 'handlers' ? 'handler' : 'queue';
        f.message = `${JSON.stringify(String(f.path.at(-1)))} is no ${what} name: a ${what} name is letters, digits, _, . and - (at most 256), starting with a letter, digit or _`;
      }
      // A bad key (unknown, or a name that is no name) is shown at the key, not its value.
      const keyIssue = issue.code === 'unrecognized_keys' || issue.code === 'invalid_key';
      const path = issue.code === 'unrecognized_keys' && isObj(raw) ? [...f.path, issue.keys[0]!] : f.path;
      const pos = locator.locate(path, { onKey: keyIssue });
      diagnostics.push(
        withFile({
          severity: 'error',
          code: 'LF_LIMITS_INVALID',
          message: f.message.replace(/^: /, ''),
          path,
          line: pos.line,
          col: pos.col,
        }),
      );
    }
    return {
      limits: null,
      diagnostics: diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0)),
    };
  }
  return { limits: normalizeLimits(parsed.data), diagnostics: [] };
}

/** Whether any queue or handler has a limit. */
export const hasLimits = (l: GlobalLimits | undefined): boolean =>
  l !== undefined && (Object.keys(l.queues).length > 0 || Object.keys(l.handlers).length > 0);
