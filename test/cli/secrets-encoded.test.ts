/**
 * A secret that leaves an attempt encoded is masked as well as one that leaves it as written
 * (docs/operations.md#secrets, "Masked on the way out"). The case found: an HTTP task whose `query:` carries
 * `${secrets.API_TOKEN}`, a token holding `+/=`, a server answering 404: the error recorded the URL with the
 * token form-encoded (`%2B%2F%3D`), for history, status and the dashboard to show. And a handler returning the
 * token base64-, URL-, hex-encoded, upper-cased, in a Basic header and in a link, and logging it base64-encoded.
 * Run with `ledgerflow run` on the embedded store, the value given as the page says
 * (LEDGERFLOW_SECRET_API_TOKEN); then `history`, `history --json`, `status --json` and every byte of the store.
 * And the same on NATS, the worker sending the request and running the handler (its own masking, at its edge):
 * `history --json`, `status --json` and every message of every stream.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, testCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'S3cr3t-T0ken+/=xyz';
const b64 = (s: string, enc: 'base64' | 'base64url' = 'base64') => Buffer.from(s, 'utf8').toString(enc);
/** Every form the token must not be found in. */
const FORMS: [string, string][] = [
  ['as written', TOKEN],
  ['form-encoded', new URLSearchParams({ t: TOKEN }).toString().slice(2)],
  ['URL-encoded', encodeURIComponent(TOKEN)],
  ['URL-encoded, lower-case escapes', encodeURIComponent(TOKEN).toLowerCase()],
  ['base64', b64(TOKEN).replace(/=+$/, '')],
  ['base64url', b64(TOKEN, 'base64url')],
  ["base64 of user:token, the token's part", b64(`bot:${TOKEN}`).slice(6, -2)],
  ['hex', Buffer.from(TOKEN).toString('hex')],
  ['upper case', TOKEN.toUpperCase()],
];
const expectNoForm = (text: string, where: string) => {
  // Base64's case is its content; every other form is looked for in any case.
  for (const [what, form] of FORMS)
    expect(
      what.startsWith('base64') ? text.includes(form) : text.toLowerCase().includes(form.toLowerCase()),
      `${where} holds the token ${what}: ${form}`,
    ).toBe(false);
};

function everyByte(dir: string): string {
  let out = '';
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out += everyByte(p);
    else if (statSync(p).isFile()) out += readFileSync(p).toString('latin1');
  }
  return out;
}

const HANDLERS = `export default {
  encode: async (input, ctx) => {
    const t = input.token;
    ctx.log('calling with ' + Buffer.from(t).toString('base64'));
    return {
      base64: Buffer.from(t).toString('base64'),
      base64url: Buffer.from(t).toString('base64url'),
      url: encodeURIComponent(t),
      form: new URLSearchParams({ t }).toString().slice(2),
      hex: Buffer.from(t).toString('hex'),
      upper: t.toUpperCase(),
      basic: 'Basic ' + Buffer.from('bot:' + t).toString('base64'),
      link: 'https://api.example/v1/items?limit=10&token=' + encodeURIComponent(t),
      json: JSON.stringify({ token: t }),
    };
  },
};
`;

const workflow = (port: number) => `workflow:
  id: encoded_secrets
  version: 1
  handlers: ./encode.mjs
  tasks:
    - id: encode
      type: SIMPLE
      input: { token: "\${secrets.API_TOKEN}" }
    - id: call
      type: HTTP
      depends_on: [encode]
      method: GET
      url: "http://127.0.0.1:${port}/404"
      query: { token: "\${secrets.API_TOKEN}" }
`;

let server: Server;
let port = 0;
const seen: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url!);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no such thing');
  });
  port = await new Promise<number>((ok) =>
    server.listen(0, '127.0.0.1', () => ok((server.address() as AddressInfo).port)),
  );
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
});

describe('a secret leaving an attempt encoded (docs/operations.md#secrets)', () => {
  it("an HTTP task's query token (+/=) answered 404, and a handler returning it encoded: no form of it in history, status or the store", async () => {
    const dir = tempDir('lf-secrets-encoded-');
    const store = join(dir, 'store');
    writeFileSync(join(dir, 'encode.mjs'), HANDLERS);
    writeFileSync(join(dir, 'encoded.yaml'), workflow(port));
    const env = { LEDGERFLOW_SECRET_API_TOKEN: TOKEN };
    const r = await cli(['--store', store, 'run', 'encoded.yaml'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(1);
    // The server was sent the value, form-encoded as URLSearchParams writes it.
    expect(seen).toContain(`/404?token=${new URLSearchParams({ t: TOKEN }).toString().slice(2)}`);
    expectNoForm(r.stdout + r.stderr, "run's output");
    const runId = /run (\S+) started/.exec(r.stdout)![1]!;

    const history = await cli(['--store', store, 'history', runId], { cwd: dir });
    expect(history.code, history.stderr).toBe(0);
    expectNoForm(history.stdout + history.stderr, 'history');
    expect(history.stdout).toContain(`GET http://127.0.0.1:${port}/404?token=[secret API_TOKEN] answered 404`);

    const json = await cli(['--store', store, 'history', runId, '--json'], { cwd: dir });
    expectNoForm(json.stdout, 'history --json');
    const events = JSON.parse(json.stdout) as { type: string; data: Record<string, any> }[];
    const output = events.find((e) => e.type === 'task.completed' && e.data.task === 'encode')!.data.output;
    expect(output).toEqual({
      base64: '[secret API_TOKEN]',
      base64url: '[secret API_TOKEN]',
      url: '[secret API_TOKEN]',
      form: '[secret API_TOKEN]',
      hex: '[secret API_TOKEN]',
      upper: '[secret API_TOKEN]',
      basic: expect.stringMatching(/^Basic \S{0,8}\[secret API_TOKEN\]$/),
      link: 'https://api.example/v1/items?limit=10&token=[secret API_TOKEN]',
      json: '{"token":"[secret API_TOKEN]"}',
    });
    expect(events.find((e) => e.type === 'task.failed')!.data.error).toMatchObject({
      code: 'LF_HTTP_STATUS',
      message: expect.stringContaining('?token=[secret API_TOKEN] answered 404'),
    });

    const status = await cli(['--store', store, 'status', runId, '--json'], { cwd: dir });
    expect(status.code).toBe(0);
    expectNoForm(status.stdout, 'status --json');
    expect(status.stdout).toContain('[secret API_TOKEN]');

    const bytes = everyByte(store);
    expectNoForm(bytes, 'the store');
    expect(bytes).toContain('${secrets.API_TOKEN}');
  }, 60_000);
});

describe.skipIf(noNats)(
  'a secret leaving an attempt encoded, on NATS: the worker masks (docs/operations.md#secrets)',
  () => {
    const procs: ChildProcess[] = [];
    afterEach(() => killLeftovers(procs));

    it('the same workflow run by a worker with --http: no form of the token in history, status or any stream', async () => {
      // A fresh server: no LF_SECRETS bucket, so the worker takes the value from its environment as the page says.
      const c = await testCluster();
      const dir = tempDir('lf-secrets-encoded-nats-');
      writeFileSync(join(dir, 'encode.mjs'), HANDLERS);
      writeFileSync(join(dir, 'encoded.yaml'), workflow(port));
      const env = { LEDGERFLOW_SECRET_API_TOKEN: TOKEN };
      for (const args of [
        ['--nats', c.as('engine'), 'engine'],
        ['--nats', c.as('worker'), 'worker', '--handlers', 'encode.mjs', '--http', '--http-allow', `127.0.0.1:${port}`],
      ]) {
        const child = spawnCli(args, { cwd: dir, env });
        procs.push(child);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        child.stderr!.on('data', (d) => (out += d));
        await waitFor(`the ${args[2]} to start`, () => out.includes(args[2] === 'engine' ? 'engine' : 'worker '), {
          timeout: 30_000,
          detail: () => out,
        });
      }
      expect((await cli(['--nats', c.as('engine'), 'deploy', 'encoded.yaml'], { cwd: dir })).code).toBe(0);
      const started = await cli(['--nats', c.as('engine'), 'start', 'encoded_secrets'], { cwd: dir });
      const runId = started.stdout.trim();
      const wait = await cli(['--nats', c.as('engine'), 'wait', runId, '--timeout', '60s', '--json'], { cwd: dir });
      expectNoForm(wait.stdout + wait.stderr, 'wait');
      expect(JSON.parse(wait.stdout).tasks.call.error.message).toContain(
        `GET http://127.0.0.1:${port}/404?token=[secret API_TOKEN] answered 404`,
      );

      const history = await cli(['--nats', c.as('engine'), 'history', runId, '--json'], { cwd: dir });
      expectNoForm(history.stdout, 'history --json');
      const events = JSON.parse(history.stdout) as { type: string; data: Record<string, any> }[];
      expect(events.find((e) => e.type === 'task.completed' && e.data.task === 'encode')!.data.output).toMatchObject({
        base64: '[secret API_TOKEN]',
        form: '[secret API_TOKEN]',
        hex: '[secret API_TOKEN]',
        basic: expect.stringContaining('[secret API_TOKEN]'),
      });
      const status = await cli(['--nats', c.as('engine'), 'status', runId, '--json'], { cwd: dir });
      expectNoForm(status.stdout, 'status --json');

      const jsm = await c.jsm();
      let read = 0;
      for await (const info of jsm.streams.list()) {
        for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
          const m = await jsm.streams.getMessage(info.config.name, { seq }).catch(() => null);
          if (!m) continue;
          read++;
          expectNoForm(Buffer.from(m.data).toString('latin1'), `${info.config.name} #${seq}`);
        }
      }
      expect(read).toBeGreaterThan(5);
    }, 120_000);
  },
);
