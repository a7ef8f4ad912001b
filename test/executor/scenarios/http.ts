/** The executor contract (../contract.ts): HTTP tasks: a response as the output, retries after Retry-After, a status that is not retried. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScenarioKit, workflowYaml } from './kit.js';

export function httpScenarios({ open, replays }: ScenarioKit): void {
  describe('HTTP tasks', () => {
    const calls = new Map<string, number>();
    let server: Server;
    let base = '';
    beforeAll(async () => {
      server = createServer((req, res) => {
        const n = (calls.get(req.url!) ?? 0) + 1;
        calls.set(req.url!, n);
        if (req.url!.startsWith('/orders/') && n === 1) {
          res.writeHead(503, { 'retry-after': '1' });
          res.end('busy');
          return;
        }
        if (req.url!.startsWith('/orders/')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ order: req.url!.split('/')[2], lines: 3 }));
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"gone"}');
      });
      base = await new Promise<string>((ok) =>
        server.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      );
    });
    afterAll(
      () =>
        new Promise<void>((ok) => {
          server.closeAllConnections();
          server.close(() => ok());
        }),
    );

    const orders = workflowYaml(
      'ct-http',
      'HTTP calls',
      `
  input: { required: [base, path] }
  output: { lines: "\${count.output.lines}" }
  tasks:
    - id: fetch
      type: HTTP
      url: "\${workflow.input.base}/\${workflow.input.path}/\${workflow.runId}"
      retry_policy: { max_attempts: 3, initial_delay: 10ms }
    - id: count
      type: SIMPLE
      depends_on: [fetch]
      input: { body: "\${fetch.output.body}" }
`,
    );

    it('a 503 with Retry-After is retried no sooner than it asks, the response is the output; a 404 fails at once', async () => {
      const s = await open({
        workflows: [orders],
        handlers: { count: (i) => ({ lines: (i.body as { lines: number }).lines }) },
      });
      const runId = await s.start('ct-http', { base, path: 'orders' });
      const done = await s.until(runId, 'settled');
      expect(done.status).toBe('COMPLETED');
      expect(done.tasks.fetch).toMatchObject({
        attempts: 2,
        output: { status: 200, body: { order: runId, lines: 3 } },
      });
      expect(done.output).toEqual({ lines: 3 });
      const events = await s.history(runId);
      const failed = events.find((e) => e.type === 'task.failed')!;
      expect(failed.data).toMatchObject({
        task: 'fetch',
        attempt: 1,
        error: { code: 'LF_HTTP_STATUS', retryable: true, retryAfterMs: 1000 },
      });
      const again = events.find((e) => e.type === 'task.started' && e.data.task === 'fetch' && e.data.attempt === 2)!;
      expect(Date.parse(again.time) - Date.parse(failed.time)).toBeGreaterThanOrEqual(1000);

      const gone = await s.until(await s.start('ct-http', { base, path: 'missing' }), 'settled');
      expect(gone.status).toBe('FAILED');
      expect(gone.tasks.fetch).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: { code: 'LF_HTTP_STATUS', retryable: false },
      });
      await replays(s, runId, gone.runId);
    });
  });
}
