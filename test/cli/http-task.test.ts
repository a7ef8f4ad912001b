/**
 * HTTP tasks (docs/language.md#http-call-a-service), with the page's own
 * example: its definition and its command lines, run as written against a
 * loopback server standing in for crm.example.com, on the embedded store and
 * on NATS (engine + `worker --http --http-allow`). Then each row of the
 * page's failure table: 503 then 200, 429 with Retry-After, a refused
 * connection, a 404, a body over max_response_body, a timeout, a host off
 * the allow-list; and the validation errors at their line:col.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
// The HTTP section alone: from its heading to the next one.
const SECTION = ((rest: string) => rest.slice(0, rest.indexOf('\n## ', 1) + 1 || rest.length))(
  PAGE.slice(PAGE.indexOf('## HTTP: call a service')),
);
const blocks = (lang: string): string[] =>
  [...SECTION.matchAll(/```(\w+)\n([\s\S]*?)```/g)].filter((m) => m[1] === lang).map((m) => m[2]!);
const YAML = blocks('yaml').find((b) => b.startsWith('# customer-ticket.yaml'))!;
const TOKEN = 'tok-7f3a';

/** A command line of the page as its environment and its arguments after `ledgerflow`. */
function parseLine(line: string): { env: Record<string, string>; stdin?: string; args: string[] } {
  const piped = /^printf '%s' '([^']*)' \| (.*)$/.exec(line.trim());
  const w = (piped ? piped[2]! : line).trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(w[0]!)) {
    const [k, ...v] = w.shift()!.split('=');
    env[k!] = v.join('=');
  }
  expect(w.shift()).toBe('ledgerflow');
  return { env, ...(piped ? { stdin: piped[1]! } : {}), args: w };
}
const shLines = (i: number) =>
  blocks('sh')
    [i]!.split('\n')
    .filter((l) => l.trim() !== '')
    .map(parseLine);

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
/** The loopback server: the page's CRM, and a route for each failure. */
function crm() {
  const seen: Seen[] = [];
  const count = new Map<string, number>();
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = new URL(req.url!, 'http://x').pathname;
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const n = (count.get(path) ?? 0) + 1;
      count.set(path, n);
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(value));
      };
      if (path.startsWith('/api/v2/customers/c-1042'))
        return json(200, { id: 'c-1042', email: 'ada@example.com', plan: 'pro', seen: req.headers.authorization });
      if (path.startsWith('/api/v2/customers/')) return json(404, { error: 'no such customer' });
      if (path === '/api/v2/tickets' && req.method === 'POST')
        return json(201, { id: 'T-501', received: JSON.parse(body) });
      if (path === '/flaky') return n === 1 ? json(503, { error: 'warming up' }) : json(200, { ok: true, attempt: n });
      if (path === '/limited')
        return n === 1 ? json(429, { error: 'slow down' }, { 'retry-after': '2' }) : json(200, { ok: true });
      if (path === '/missing') return json(404, { error: 'gone' });
      if (path === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(5000));
        return;
      }
      if (path === '/slow') {
        hanging.push(res);
        return;
      }
      json(404, { error: 'no route' });
    });
  });
  return {
    seen,
    count,
    start: () =>
      new Promise<number>((ok) => server.listen(0, '127.0.0.1', () => ok((server.address() as AddressInfo).port))),
    stop: () =>
      new Promise<void>((ok) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A port nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await new Promise<number>((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as AddressInfo).port)));
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

/** Every file under a directory, as text. */
function everyByte(dir: string): string {
  let out = '';
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out += everyByte(p);
    else if (statSync(p).isFile()) out += readFileSync(p).toString('latin1');
  }
  return out;
}

interface TaskView {
  status: string;
  attempts: number;
  output: any;
  error: { code?: string; message: string; retryable: boolean } | null;
}
interface View {
  runId: string;
  status: string;
  output: any;
  tasks: Record<string, TaskView>;
}

const server = crm();
let port = 0;
beforeAll(async () => {
  port = await server.start();
});
afterAll(async () => {
  await server.stop();
  expect(await expectEveryRunReplays()).toBeGreaterThan(2);
});

describe('HTTP tasks on the embedded store (docs/language.md#http-call-a-service)', () => {
  it("runs the page's customer-ticket.yaml with its command line: the GET with the token from a secret, the POST with a JSON body; the token is in no byte of the store", async () => {
    const dir = tempDir('lf-http-');
    writeFileSync(join(dir, 'customer-ticket.yaml'), YAML);
    const [line] = shLines(0);
    expect(line!.args.slice(0, 2)).toEqual(['run', 'customer-ticket.yaml']);
    const r = await cli(
      ['--store', join(dir, 'store'), ...line!.args, '--crm', `http://127.0.0.1:${port}/api/v2`, '--json'],
      { cwd: dir, env: line!.env },
    );
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as View;
    expect(view.status).toBe('COMPLETED');
    expect(view.output).toEqual({ ticket: 'T-501', email: 'ada@example.com' });
    const got = view.tasks.get_customer!.output;
    expect(got).toMatchObject({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { id: 'c-1042', email: 'ada@example.com', plan: 'pro' },
    });
    // The server saw the value; what came back holding it is masked.
    expect(got.body.seen).toBe('Bearer [secret CRM_TOKEN]');
    expect(view.tasks.open_ticket!.output).toMatchObject({
      status: 201,
      body: {
        id: 'T-501',
        received: { customer: 'c-1042', email: 'ada@example.com', subject: 'Welcome aboard', tags: ['onboarding'] },
      },
    });
    const get = server.seen.find((s) => s.method === 'GET' && s.url.startsWith('/api/v2/customers/c-1042'))!;
    expect(get.url).toBe('/api/v2/customers/c-1042?expand=addresses');
    expect(get.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(get.headers.accept).toBe('application/json');
    const post = server.seen.find((s) => s.method === 'POST')!;
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(everyByte(join(dir, 'store'))).not.toContain(TOKEN);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  }, 60_000);

  it("retries 503 and 429 (waiting what Retry-After says), retries a refused connection then fails, fails a 404 at once, cuts a long body, times out, each as the page's table says", async () => {
    const dir = tempDir('lf-http-fail-');
    const down = await closedPort();
    const task = (id: string, extra: string) => `    - id: ${id}\n      type: HTTP\n      optional: true\n${extra}`;
    writeFileSync(
      join(dir, 'failures.yaml'),
      [
        'workflow:',
        '  id: http_failures',
        '  version: 1',
        '  input: { required: [base] }',
        '  tasks:',
        task(
          'flaky',
          '      url: "${workflow.input.base}/flaky"\n      retry_policy: { max_attempts: 3, initial_delay: 100ms }\n',
        ),
        task(
          'limited',
          '      url: "${workflow.input.base}/limited"\n      retry_policy: { max_attempts: 2, initial_delay: 10ms }\n',
        ),
        task(
          'down',
          `      url: "http://127.0.0.1:${down}/orders"\n      retry_policy: { max_attempts: 2, initial_delay: 50ms }\n`,
        ),
        task(
          'missing',
          '      url: "${workflow.input.base}/missing"\n      retry_policy: { max_attempts: 3, initial_delay: 10ms }\n',
        ),
        task('big', '      url: "${workflow.input.base}/big"\n      max_response_body: 1KiB\n'),
        task('slow', '      url: "${workflow.input.base}/slow"\n      timeout: 300ms\n'),
      ].join('\n'),
    );
    const r = await cli(
      ['--store', join(dir, 'store'), 'run', 'failures.yaml', '--base', `http://127.0.0.1:${port}`, '--json'],
      { cwd: dir },
    );
    expect(r.stderr).not.toContain('Error:');
    const view = JSON.parse(r.stdout) as View;
    const t = view.tasks;
    expect(t.flaky).toMatchObject({
      status: 'COMPLETED',
      attempts: 2,
      output: { status: 200, body: { ok: true, attempt: 2 } },
    });
    expect(t.limited).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    expect(t.down).toMatchObject({
      status: 'FAILED',
      attempts: 2,
      error: { code: 'LF_HTTP_NETWORK', retryable: true },
    });
    expect(t.down!.error!.message).toContain(`GET http://127.0.0.1:${down}/orders: ECONNREFUSED`);
    expect(t.missing).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: 'LF_HTTP_STATUS', retryable: false },
    });
    expect(t.missing!.error!.message).toBe(
      `GET http://127.0.0.1:${port}/missing answered 404 Not Found (not retried; expect: [2xx]): {"error":"gone"}`,
    );
    expect(t.big).toMatchObject({
      status: 'COMPLETED',
      output: { status: 200, body: 'x'.repeat(1024), truncated: true, bytes: 1024 },
    });
    expect(t.slow!.status).toBe('TIMED_OUT');
    expect(server.count.get('/missing')).toBe(1);
    // The 429's Retry-After (2 s) is longer than the policy's 10 ms: the backoff timer waited it.
    const history = await cli(['--store', join(dir, 'store'), 'history', view.runId, '--json'], { cwd: dir });
    const events = JSON.parse(history.stdout) as { type: string; time: string; data: Record<string, any> }[];
    const failed = events.find((e) => e.type === 'task.failed' && e.data.task === 'limited')!;
    expect(failed.data.error).toMatchObject({ code: 'LF_HTTP_STATUS', retryable: true, retryAfterMs: 2000 });
    const second = events.find((e) => e.type === 'task.started' && e.data.task === 'limited' && e.data.attempt === 2)!;
    expect(Date.parse(second.time) - Date.parse(failed.time)).toBeGreaterThanOrEqual(2000);
  }, 60_000);

  it('run --http-allow refuses a host it does not list, naming it and the flag (LF_HTTP_HOST_REFUSED, not retried)', async () => {
    const dir = tempDir('lf-http-allow-');
    writeFileSync(join(dir, 'customer-ticket.yaml'), YAML);
    const r = await cli(
      [
        '--store',
        join(dir, 'store'),
        'run',
        'customer-ticket.yaml',
        '--customer_id',
        'c-1042',
        '--crm',
        `http://127.0.0.1:${port}/api/v2`,
        '--http-allow',
        'crm.example.com',
        '--json',
      ],
      { cwd: dir, env: { LEDGERFLOW_SECRET_CRM_TOKEN: TOKEN } },
    );
    expect(r.code).toBe(1);
    const view = JSON.parse(r.stdout) as View;
    expect(view.tasks.get_customer).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: 'LF_HTTP_HOST_REFUSED', retryable: false },
    });
    expect(view.tasks.get_customer!.error!.message).toContain(
      `host 127.0.0.1:${port} is not on this executor's allow-list (crm.example.com); add it to --http-allow`,
    );
    // A list that names no host is refused before anything is written.
    const bad = await cli(
      [
        '--store',
        join(dir, 'store2'),
        'run',
        'customer-ticket.yaml',
        '--customer_id',
        'c-1',
        '--http-allow',
        'https://crm.example.com/',
      ],
      { cwd: dir },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--http-allow https://crm.example.com/: "https://crm.example.com/" is not a host');
  }, 30_000);

  it("ledgerflow test runs the page's expectations and every path of customer-ticket.yaml without sending anything or a secret set", async () => {
    const dir = tempDir('lf-http-cov-');
    writeFileSync(join(dir, 'customer-ticket.yaml'), YAML);
    mkdirSync(join(dir, 'expectations'));
    writeFileSync(
      join(dir, 'expectations', 'customer-ticket.yaml'),
      blocks('yaml').find((b) => b.startsWith('# expectations/customer-ticket.yaml'))!,
    );
    const before = server.seen.length;
    const [line] = shLines(2);
    const r = await cli(line!.args, { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('1 definition: 7 paths, 2 expectations — all passed');
    expect(server.seen.length).toBe(before);
  }, 30_000);

  it('refuses a bad method, a URL that is not http(s), a status that is none and a body on a GET at their line:col', async () => {
    const dir = tempDir('lf-http-bad-');
    writeFileSync(
      join(dir, 'bad.yaml'),
      [
        'workflow:',
        '  id: bad_http',
        '  version: 1',
        '  tasks:',
        '    - id: a',
        '      type: HTTP',
        '      method: FETCH',
        '      url: ftp://files.example.com/x',
        '    - id: b',
        '      type: HTTP',
        '      url: https://api.example.com/orders',
        '      expect: [200, 700]',
        '    - id: c',
        '      type: HTTP',
        '      url: https://api.example.com/orders',
        '      body: { a: 1 }',
      ].join('\n'),
    );
    const r = await cli(['validate', 'bad.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'bad.yaml:7:15: error: workflow.tasks[0].method: expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, got "FETCH"',
    );
    expect(r.stderr).toContain(
      'bad.yaml:8:12: error: url of HTTP task a is "ftp://files.example.com/x"; a URL starts with http:// or https://',
    );
    expect(r.stderr).toContain(
      'bad.yaml:12:21: error: workflow.tasks[1].expect[1]: expected a status (100-599) or a class like 2xx',
    );
    expect(r.stderr).toContain('bad.yaml:16:7: error: HTTP task c sends a body with GET');
  }, 30_000);
});

describe.skipIf(noNats)('HTTP tasks on NATS: worker --http --http-allow (docs/language.md#http-call-a-service)', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('a worker (or an engine) needs --http-allow with --http, and --http-allow means nothing without --http', async () => {
    const [worker, engine, alone] = await Promise.all([
      cli(['--nats', c.url, 'worker', '--http']),
      cli(['--nats', c.url, 'engine', '--http']),
      cli(['--nats', c.url, 'worker', '--commands', '--http-allow', 'api.example.com']),
    ]);
    for (const r of [worker, engine]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--http needs --http-allow <hosts>');
    }
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain(
      '--http-allow says which hosts HTTP tasks may call, but this process runs none: add --http',
    );
  });

  it("runs the page's commands with the engine sending the requests itself (its line with the worker's --http --http-allow, no worker)", async () => {
    const dir = tempDir('lf-http-nats-engine-');
    writeFileSync(join(dir, 'customer-ticket.yaml'), YAML);
    const lines = shLines(1);
    const local = (a: string) => a.replace('nats://127.0.0.1:4222', c.url).replace('crm.example.com', '127.0.0.1');
    const httpFlags = lines
      .find((l) => l.args[2] === 'worker')!
      .args.filter((a, i, all) => a === '--http' || a === '--http-allow' || all[i - 1] === '--http-allow')
      .map(local);
    let runId = '';
    for (const line of lines.filter((l) => l.args[2] !== 'worker')) {
      const args = line.args.map(local);
      if (args[2] === 'engine') {
        const child = spawnCli([...args, ...httpFlags], { cwd: dir, env: line.env });
        procs.push(child);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        child.stderr!.on('data', (d) => (out += d));
        await waitFor('the engine to start', () => out.includes('taking work'), { timeout: 30_000, detail: () => out });
        continue;
      }
      if (args[2] === 'start') args.push('--crm', `http://127.0.0.1:${port}/api/v2`);
      if (args[2] === 'wait') {
        args[3] = runId;
        args.push('--timeout', '60s', '--json');
      }
      const r = await cli(args, {
        cwd: dir,
        env: line.env,
        ...(line.stdin !== undefined ? { stdin: line.stdin } : {}),
      });
      expect(r.code, r.stderr + r.stdout.slice(0, 3000)).toBe(0);
      if (args[2] === 'start') runId = r.stdout.trim();
      if (args[2] === 'wait')
        expect((JSON.parse(r.stdout) as View).output).toEqual({ ticket: 'T-501', email: 'ada@example.com' });
    }
  }, 180_000);

  it("runs the page's commands (engine, worker --http, deploy, start, wait): the worker sends the requests; a host off its list fails LF_HTTP_HOST_REFUSED", async () => {
    const dir = tempDir('lf-http-nats-');
    writeFileSync(join(dir, 'customer-ticket.yaml'), YAML);
    const lines = shLines(1);
    expect(lines.map((l) => l.args[2])).toEqual(['secrets', 'engine', 'worker', 'deploy', 'start', 'wait']);
    // The page's server and host, as this test's: the loopback server stands in for crm.example.com.
    const local = (a: string) => a.replace('nats://127.0.0.1:4222', c.url).replace('crm.example.com', '127.0.0.1');
    const crmUrl = `http://127.0.0.1:${port}/api/v2`;
    let runId = '';
    for (const line of lines) {
      const args = line.args.map(local);
      if (args[2] === 'engine' || args[2] === 'worker') {
        const child = spawnCli(args, { cwd: dir, env: line.env });
        procs.push(child);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        child.stderr!.on('data', (d) => (out += d));
        await waitFor(
          `the ${args[2]} to start`,
          () => out.includes(args[2] === 'engine' ? 'taking work' : 'running HTTP tasks'),
          { timeout: 30_000, detail: () => out },
        );
        continue;
      }
      if (args[2] === 'start') args.push('--crm', crmUrl);
      if (args[2] === 'wait') {
        args[3] = runId;
        args.push('--timeout', '60s', '--json');
      }
      const r = await cli(args, {
        cwd: dir,
        env: line.env,
        ...(line.stdin !== undefined ? { stdin: line.stdin } : {}),
      });
      expect(r.code, r.stderr + r.stdout.slice(0, 3000)).toBe(0);
      if (args[2] === 'start') runId = r.stdout.trim();
      if (args[2] === 'wait') {
        const view = JSON.parse(r.stdout) as View;
        expect(view.status).toBe('COMPLETED');
        expect(view.output).toEqual({ ticket: 'T-501', email: 'ada@example.com' });
        expect(view.tasks.get_customer!.output.body.seen).toBe('Bearer [secret CRM_TOKEN]');
      }
    }
    expect(server.seen.filter((s) => s.method === 'POST').at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);

    // localhost is not 127.0.0.1 on the worker's list: refused, not retried, naming the host.
    const refused = await cli(
      [
        '--nats',
        c.url,
        'start',
        'customer_ticket',
        '--customer_id',
        'c-1042',
        '--crm',
        `http://localhost:${port}/api/v2`,
      ],
      { cwd: dir },
    );
    expect(refused.code, refused.stderr).toBe(0);
    const waited = await cli(['--nats', c.url, 'wait', refused.stdout.trim(), '--timeout', '60s', '--json'], {
      cwd: dir,
    });
    const view = JSON.parse(waited.stdout) as View;
    expect(view.tasks.get_customer).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: 'LF_HTTP_HOST_REFUSED', retryable: false },
    });
    expect(view.tasks.get_customer!.error!.message).toContain(
      `host localhost:${port} is not on this executor's allow-list (127.0.0.1)`,
    );
  }, 180_000);
});
