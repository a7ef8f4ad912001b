/**
 * The HTTP executor: sends one HTTP task's request, the edge both the local driver and the NATS worker use (the runtime
 * only resolves the request: the attempt's input, definition/http.ts). Node's own fetch (undici).
 *
 * - The host must be on the allow-list when there is one (`--http-allow`): else LF_HTTP_HOST_REFUSED, not retryable.
 *   Redirects are followed here (at most 5), each hop's host checked the same way.
 * - A status in `expect` (default 2xx) completes the task with `{ status, headers, body }`: body parsed when the
 *   content-type is JSON, else text; cut at `max_response_bytes`, then `truncated: true` and `bytes` (what was kept)
 *   say so.
 * - 5xx and 429 outside `expect`: LF_HTTP_STATUS, retryable, the next attempt waiting at least Retry-After (seconds or
 *   an HTTP date). Any other status: LF_HTTP_STATUS, not retryable. A network error (refused, reset, DNS):
 *   LF_HTTP_NETWORK, retryable. No answer within the task's `timeout` (or 30 s when it has none): LF_HTTP_TIMEOUT (with
 *   a timeout the attempt times out as any other: TIMED_OUT, then its retry policy).
 */
import { z } from 'zod';
import { NonRetryableError, errorMessage } from '../errors/index.js';
import { HTTP_METHODS, isStatusPattern } from '../definition/index.js';
import type { CommandContext, HttpRunner } from '../runtime/index.js';

/** How long a request may take when its task sets no timeout. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
/** How much of an unexpected response's body a failure message quotes. */
const ERROR_EXCERPT = 500;

export interface HttpExecutorOptions {
  /**
   * The hosts requests may go to (`api.example.com`, `*.example.com`, `127.0.0.1:8080`, `*` for any); undefined: any
   * host. Loopback addresses are hosts like others: refused unless listed.
   */
  allow?: readonly string[];
}

/** A request that ran and failed: retryable unless said otherwise (5xx, 429, network), with the wait Retry-After asked for. */
export class HttpTaskError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HttpTaskError';
  }
}

const Request = z.object({
  method: z.enum(HTTP_METHODS),
  url: z.string(),
  headers: z.record(z.string(), z.unknown()).default({}),
  query: z.record(z.string(), z.unknown()).default({}),
  body: z.unknown().optional(),
  expect: z.array(z.union([z.number(), z.string()])).default(['2xx']),
  max_response_bytes: z.number().int().positive(),
  timeout_ms: z.number().int().positive().optional(),
});
type HttpRequest = z.infer<typeof Request>;

const asText = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : v === null || v === undefined
      ? ''
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);

export function createHttpExecutor(opts: HttpExecutorOptions = {}): HttpRunner {
  const allow = opts.allow?.map((h) => h.trim().toLowerCase()).filter(Boolean);
  return (request, ctx) => send(request, ctx, allow);
}

/** Whether `url`'s host is on the list: a name (any port), `name:port`, `*.domain` (its subdomains) or `*`. */
export function hostAllowed(url: URL, allow: readonly string[] | undefined): boolean {
  if (allow === undefined || allow.includes('*')) return true;
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allow.some((a) => {
    const bare = a.replace(/^\[(.*)\](:\d+)?$/, '$1$2');
    if (bare.startsWith('*.')) return host.endsWith(bare.slice(1));
    const m = /^(.*):(\d+)$/.exec(bare);
    return m && !bare.includes('::') ? m[1] === host && m[2] === port : bare === host;
  });
}

async function send(
  input: Record<string, unknown>,
  ctx: CommandContext,
  allow: readonly string[] | undefined,
): Promise<unknown> {
  const parsed = Request.safeParse(input);
  if (!parsed.success)
    throw new NonRetryableError(
      `task ${ctx.taskId}: its request is not one an HTTP task sends (${parsed.error.issues[0]?.message ?? 'invalid'})`,
      'LF_HTTP_REQUEST',
    );
  const req = parsed.data;
  let url = requestUrl(req, ctx.taskId);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) headers.set(k, asText(v));
  let body: string | undefined;
  if (req.body !== undefined && req.body !== null) {
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    if (typeof req.body !== 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  // With a task timeout the attempt's deadline aborts the request (TIMED_OUT, as any attempt); without one, 30 s.
  const signal =
    req.timeout_ms !== undefined
      ? ctx.signal
      : AbortSignal.any([ctx.signal, AbortSignal.timeout(DEFAULT_HTTP_TIMEOUT_MS)]);
  let method: string = req.method;
  for (let hop = 0; ; hop++) {
    if (!hostAllowed(url, allow)) {
      throw new NonRetryableError(
        `task ${ctx.taskId}: host ${url.host} is not on this executor's allow-list (${allow!.join(', ')}); add it to --http-allow (e.g. --http-allow ${[...allow!, url.hostname].join(',')})`,
        'LF_HTTP_HOST_REFUSED',
      );
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), redirect: 'manual', signal });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (signal.aborted)
        throw new HttpTaskError(
          `${method} ${url.href}: no answer within ${DEFAULT_HTTP_TIMEOUT_MS / 1000} s (the default without a task timeout; set timeout: on the task)`,
          'LF_HTTP_TIMEOUT',
          true,
        );
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new HttpTaskError(
        `${method} ${url.href}: ${cause?.code ?? ''}${cause?.code ? ' ' : ''}${cause?.message ?? errorMessage(err)}`,
        'LF_HTTP_NETWORK',
        true,
      );
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location && !matches(res.status, req.expect)) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS)
        throw new HttpTaskError(`${method} ${url.href}: more than ${MAX_REDIRECTS} redirects`, 'LF_HTTP_STATUS', false);
      const next = new URL(location, url);
      // 303 (and 301/302 after a POST, as browsers do) turns into a GET without a body.
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers.delete('content-type');
      }
      // Credentials stay with the host they were meant for.
      if (next.host !== url.host) {
        headers.delete('authorization');
        headers.delete('cookie');
      }
      url = next;
      continue;
    }
    return outcome(res, method, url, req, ctx);
  }
}

function requestUrl(req: HttpRequest, taskId: string): URL {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new NonRetryableError(
      `task ${taskId}: url ${JSON.stringify(req.url)} is not a URL (it should start with http:// or https:// and a host)`,
      'LF_HTTP_REQUEST',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new NonRetryableError(
      `task ${taskId}: url ${JSON.stringify(req.url)} is not http:// or https://`,
      'LF_HTTP_REQUEST',
    );
  for (const [k, v] of Object.entries(req.query)) url.searchParams.append(k, asText(v));
  return url;
}

function matches(status: number, expect: readonly (number | string)[]): boolean {
  return expect.some((e) => (typeof e === 'number' ? e === status : isStatusPattern(e) && String(status)[0] === e[0]));
}

async function outcome(
  res: Response,
  method: string,
  url: URL,
  req: HttpRequest,
  ctx: CommandContext,
): Promise<unknown> {
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const { text, cut } = await readCapped(res, matches(res.status, req.expect) ? req.max_response_bytes : ERROR_EXCERPT);
  if (!matches(res.status, req.expect)) {
    const retryable = res.status >= 500 || res.status === 429;
    const wait = retryable ? retryAfterMs(res.headers.get('retry-after')) : undefined;
    const excerpt = text.trim() ? `: ${text.trim()}${cut ? '…' : ''}` : '';
    const why = retryable
      ? wait !== undefined
        ? `; retried after ${Math.ceil(wait / 1000)} s (Retry-After) if the retry policy has attempts left`
        : '; retried if the retry policy has attempts left'
      : ` (not retried; expect: [${req.expect.join(', ')}])`;
    throw new HttpTaskError(
      `${method} ${url.href} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${why}${excerpt}`,
      'LF_HTTP_STATUS',
      retryable,
      wait,
    );
  }
  const json = /^application\/([\w.+-]*\+)?json\b/i.test(headers['content-type'] ?? '');
  let body: unknown = text;
  if (json && !cut && text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      ctx.log(`the response says it is JSON but is not; kept as text`);
    }
  }
  if (method === 'HEAD' || text === '') body = json ? null : '';
  return { status: res.status, headers, body, ...(cut ? { truncated: true, bytes: Buffer.byteLength(text) } : {}) };
}

/** The body as text, its first `limit` bytes at most (the rest is not read: the connection is closed). */
async function readCapped(res: Response, limit: number): Promise<{ text: string; cut: boolean }> {
  if (!res.body) return { text: '', cut: false };
  const chunks: Buffer[] = [];
  let size = 0;
  let cut = false;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      chunks.push(Buffer.from(value.subarray(0, limit - size)));
      size = limit;
      cut = true;
      await reader.cancel();
      break;
    }
    chunks.push(Buffer.from(value));
    size += value.byteLength;
  }
  // A cut through a multi-byte character drops its start rather than keep a broken one.
  const text = Buffer.concat(chunks).toString('utf8');
  return { text: cut ? text.replace(/\uFFFD$/, '') : text, cut };
}

/** Retry-After as milliseconds: seconds, or an HTTP date from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
