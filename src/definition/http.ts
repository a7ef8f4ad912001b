/**
 * HTTP tasks in the language (docs/language.md#http-tasks): their fields in the schema, their normalised form, and the
 * checks that need more than a shape. The request an attempt makes is the task's input, built here once (`{ method,
 * url, headers, query, body, expect, max_response_bytes }`): the runtime resolves it as any input (templates,
 * `${secrets.NAME}`), and the HTTP executor at the edge (src/handlers/http.ts) reads it.
 */
import { z } from 'zod';
import { HTTP_METHODS, type HttpTask, type JsonValue, type TaskBase } from './task-types.js';

/** Bytes of a response body an HTTP task's output keeps unless it says (`max_response_body`). */
export const DEFAULT_HTTP_RESPONSE_BYTES = 256 * 1024;
/** The most `max_response_body` may ask for. */
const MAX_HTTP_RESPONSE_BYTES = 64 * 1024 * 1024;

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
};

/** Bytes from 65536, "64KiB", "1MiB" (units are powers of 1024); undefined when it is no size. */
export function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** One expected status: a number 100-599, or a class like `2xx`. */
export function isStatusPattern(v: unknown): boolean {
  return (
    (typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599) ||
    (typeof v === 'string' && /^[1-5]xx$/i.test(v))
  );
}

const METHOD_FIX = `expected one of ${HTTP_METHODS.join(', ')}`;
const STATUS_FIX = 'expected a status (100-599) or a class like 2xx, or a list of them, e.g. expect: [200, 404]';
const Status = z.union([z.number(), z.string()], { error: STATUS_FIX }).refine(isStatusPattern, { error: STATUS_FIX });
const TemplateMap = (what: string) =>
  z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string (a template)' }), {
    error: `expected a map of ${what}: value`,
  });
const SIZE_FIX = 'expected a size: bytes, or e.g. 64KiB, 1MiB (at most 64MiB)';

/** The HTTP task's keys in TaskSchema (schema.ts spreads them in). */
export const HTTP_FIELDS = {
  method: z
    .string({ error: METHOD_FIX })
    .refine((m) => (HTTP_METHODS as readonly string[]).includes(m.toUpperCase()), { error: METHOD_FIX })
    .optional()
    .meta({ description: `HTTP: the method, ${HTTP_METHODS.join(', ')} (default GET).` }),
  url: z
    .string({ error: 'expected a URL (a template), e.g. https://api.example.com/customers/${workflow.input.id}' })
    .optional()
    .meta({ description: 'HTTP: the URL, http:// or https:// (a template; ${secrets.NAME} allowed).' }),
  headers: TemplateMap('header name')
    .optional()
    .meta({ description: 'HTTP: request headers (values are templates; ${secrets.NAME} allowed).' }),
  query: TemplateMap('parameter name')
    .optional()
    .meta({ description: 'HTTP: query parameters added to the URL, encoded (values are templates).' }),
  body: z.unknown().optional().meta({
    description:
      'HTTP: the request body: a map or list is sent as JSON (content-type application/json unless headers say), text as it is; templates inside.',
  }),
  expect: z
    .union([Status, z.array(Status).min(1, { error: STATUS_FIX })], { error: STATUS_FIX })
    .optional()
    .meta({
      description:
        'HTTP: the statuses that complete the task (default 2xx); 5xx and 429 outside it are retried, any other fails the task.',
    }),
  max_response_body: z
    .union([z.number(), z.string()], { error: SIZE_FIX })
    .refine((v) => (parseSize(v) ?? Infinity) <= MAX_HTTP_RESPONSE_BYTES, { error: SIZE_FIX })
    .optional()
    .meta({
      description:
        'HTTP: bytes of the response body kept in the output (default 256KiB); a longer body is cut and marked truncated.',
    }),
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
const textMap = (v: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(isObj(v) ? v : {})
      .filter(([, x]) => ['string', 'number', 'boolean'].includes(typeof x))
      .map(([k, x]) => [k, text(x)]),
  );

/** The normalised HTTP task; its input is the request (what an attempt resolves and sends). */
export function httpTask(t: Record<string, unknown>, base: TaskBase): HttpTask {
  const method = (HTTP_METHODS as readonly string[]).includes(text(t.method).toUpperCase())
    ? (text(t.method).toUpperCase() as HttpTask['method'])
    : 'GET';
  const expect = (Array.isArray(t.expect) ? t.expect : t.expect === undefined ? [] : [t.expect]).filter(
    isStatusPattern,
  ) as (number | string)[];
  const task: HttpTask = {
    ...base,
    type: 'HTTP',
    method,
    url: text(t.url),
    headers: textMap(t.headers),
    query: textMap(t.query),
    ...(t.body !== undefined ? { body: t.body as JsonValue } : {}),
    expect: expect.length > 0 ? expect.map((e) => (typeof e === 'string' ? e.toLowerCase() : e)) : ['2xx'],
    maxResponseBytes: parseSize(t.max_response_body) ?? DEFAULT_HTTP_RESPONSE_BYTES,
  };
  return { ...task, input: httpRequest(task) };
}

/** The request an attempt of `t` sends, as its input: resolved like any input when the attempt starts. */
function httpRequest(t: HttpTask): Record<string, JsonValue> {
  return {
    method: t.method,
    url: t.url,
    headers: t.headers,
    query: t.query,
    ...(t.body !== undefined ? { body: t.body } : {}),
    expect: t.expect,
    max_response_bytes: t.maxResponseBytes,
    // With a timeout the attempt's own deadline stops the request; the executor sets none of its own then.
    ...(t.timeoutMs !== undefined ? { timeout_ms: t.timeoutMs } : {}),
  };
}
