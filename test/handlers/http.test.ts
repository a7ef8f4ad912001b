/**
 * The HTTP executor (src/handlers/http.ts) against loopback servers: what the
 * CLI tests do not reach one by one — the allow-list's forms, redirects (a
 * refused hop, credentials kept from another host), Retry-After as a date,
 * JSON by content-type, HEAD.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpExecutor, hostAllowed, retryAfterMs } from '../../src/handlers/index.js';
import { toTaskError } from '../../src/runtime/index.js';

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((ok) => s.close(ok));
  }
});
async function serve(listener: RequestListener): Promise<string> {
  const s = createServer(listener);
  servers.push(s);
  const port = await new Promise<number>((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as AddressInfo).port)));
  return `http://127.0.0.1:${port}`;
}
const ctx = {
  runId: 'r',
  workflowId: 'w',
  taskId: 't',
  attempt: 1,
  idempotencyKey: 'r/t/1',
  log: () => {},
  signal: new AbortController().signal,
};
const request = (url: string, extra: Record<string, unknown> = {}) => ({
  method: 'GET',
  url,
  headers: {},
  query: {},
  expect: ['2xx'],
  max_response_bytes: 1024,
  ...extra,
});

describe('the HTTP executor', () => {
  it('reads an allow-list of names, name:port, *.domain and *', () => {
    const u = (s: string) => new URL(s);
    expect(hostAllowed(u('https://api.example.com/x'), ['api.example.com'])).toBe(true);
    expect(hostAllowed(u('https://API.example.com:8443/x'), ['api.example.com'])).toBe(true);
    expect(hostAllowed(u('http://127.0.0.1:8080/x'), ['127.0.0.1:8080'])).toBe(true);
    expect(hostAllowed(u('http://127.0.0.1:8081/x'), ['127.0.0.1:8080'])).toBe(false);
    expect(hostAllowed(u('https://a.b.example.com/x'), ['*.example.com'])).toBe(true);
    expect(hostAllowed(u('https://example.com/x'), ['*.example.com'])).toBe(false);
    expect(hostAllowed(u('https://evil-example.com/x'), ['*.example.com'])).toBe(false);
    expect(hostAllowed(u('http://localhost/x'), ['127.0.0.1'])).toBe(false);
    expect(hostAllowed(u('http://[::1]:9000/x'), ['::1'])).toBe(true);
    expect(hostAllowed(u('https://anything.test/x'), ['*'])).toBe(true);
    expect(hostAllowed(u('https://anything.test/x'), undefined)).toBe(true);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Thu, 26 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it('a 503 with a date in Retry-After is a retryable failure asking for that wait', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(503, { 'retry-after': new Date(Date.now() + 5000).toUTCString() });
      res.end('busy');
    });
    const err = await createHttpExecutor()(request(`${base}/x`), ctx).catch((e: unknown) => e);
    const te = toTaskError(err);
    expect(te).toMatchObject({ code: 'LF_HTTP_STATUS', retryable: true });
    expect(te.retryAfterMs).toBeGreaterThan(3000);
    expect(te.retryAfterMs).toBeLessThanOrEqual(5000);
  });

  it('follows a redirect on an allowed host, refuses one to a host off the list, and keeps Authorization from another host', async () => {
    const seen: (string | undefined)[] = [];
    const other = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/problem+json' });
      res.end('{"moved":true}');
    });
    const base = await serve((req, res) => {
      if (req.url === '/same') {
        res.writeHead(302, { location: '/final' });
        res.end();
        return;
      }
      if (req.url === '/final') {
        seen.push(req.headers.authorization);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('here');
        return;
      }
      res.writeHead(307, { location: `${other.replace('127.0.0.1', 'localhost')}/elsewhere` });
      res.end();
    });
    const auth = { headers: { Authorization: 'Bearer t' } };
    expect(await createHttpExecutor({ allow: ['127.0.0.1'] })(request(`${base}/same`, auth), ctx)).toMatchObject({
      status: 200,
      body: 'here',
    });
    expect(seen).toEqual(['Bearer t']);
    const refused = await createHttpExecutor({ allow: ['127.0.0.1'] })(request(`${base}/away`, auth), ctx).catch(
      (e: unknown) => toTaskError(e),
    );
    expect(refused).toMatchObject({ code: 'LF_HTTP_HOST_REFUSED', retryable: false });
    expect(await createHttpExecutor()(request(`${base}/away`, auth), ctx)).toMatchObject({
      status: 200,
      body: { moved: true },
    });
    expect(seen).toEqual(['Bearer t', undefined]);
  });

  it('HEAD gives a status and headers, no body', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-version': '7' });
      res.end();
    });
    expect(await createHttpExecutor()(request(`${base}/x`, { method: 'HEAD' }), ctx)).toMatchObject({
      status: 200,
      headers: { 'x-version': '7' },
      body: '',
    });
  });

  it('a url that is no http(s) URL fails without retry', async () => {
    expect(
      toTaskError(await createHttpExecutor()(request('file:///etc/passwd'), ctx).catch((e: unknown) => e)),
    ).toMatchObject({ code: 'LF_HTTP_REQUEST', retryable: false });
  });
});
