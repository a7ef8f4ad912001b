/**
 * `${secrets.NAME}` in a webhook's URL and headers (docs/operations.md#secrets): put in when each delivery is
 * tried, from the notifier's provider; the target (and its key, what the history notes) keeps the reference;
 * a missing secret fails the delivery naming it; what a failed try says is masked.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/notify/deliver.js';
import { envSecrets } from '../../src/secrets/index.js';

const settings = { attempts: 2, backoffMs: 1, maxBackoffMs: 1, timeoutMs: 2000 };
const body = { id: 'r/1/FAILED' } as never;
const seen: IncomingMessage[] = [];
let base = '';
const server = createServer((req, res) => {
  seen.push(req);
  req.resume();
  res.statusCode = req.url?.includes('hook-path') ? 204 : 500;
  res.end();
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('secrets in notification targets', () => {
  const provider = envSecrets({ LEDGERFLOW_SECRET_HOOK_PATH: 'hook-path', LEDGERFLOW_SECRET_HOOK_TOKEN: 'hook-tok3n' });

  it('puts the values in the URL and the headers when it delivers, leaving the target as it was', async () => {
    const target = {
      kind: 'webhook' as const,
      url: `${base}/\${secrets.HOOK_PATH}`,
      headers: { authorization: 'Bearer ${secrets.HOOK_TOKEN}' },
      key: 'webhook:x',
    };
    const out = await deliver(target, body, { settings, secrets: provider });
    expect(out).toMatchObject({ delivered: true, statusCode: 204 });
    const req = seen.at(-1)!;
    expect(req.url).toBe('/hook-path');
    expect(req.headers.authorization).toBe('Bearer hook-tok3n');
    expect(target.url).toBe(`${base}/\${secrets.HOOK_PATH}`);
  });

  it('fails a delivery whose secret is missing, naming it; masks what a failed try says', async () => {
    const missing = await deliver(
      { kind: 'webhook', url: `${base}/x`, headers: { authorization: '${secrets.NOPE}' }, key: 'webhook:y' },
      body,
      { settings, secrets: provider },
    );
    expect(missing).toMatchObject({
      delivered: false,
      error: expect.stringContaining('LF_SECRET_MISSING: secret NOPE not found'),
    });
    const said: string[] = [];
    // A server that is not there: the error names the host, which here is the secret's value.
    const gone = await deliver(
      { kind: 'webhook', url: 'http://${secrets.HOOK_PATH}.invalid/', headers: {}, key: 'webhook:z' },
      body,
      { settings, secrets: provider, onRetry: (e) => said.push(e) },
    );
    expect(gone.delivered).toBe(false);
    expect(JSON.stringify([gone, said])).not.toContain('hook-path');
  });
});
