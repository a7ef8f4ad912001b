/**
 * The dashboard's API against the real `ledgerflow ui` process: a
 * waiting HUMAN task's input resolved, time travel answering the linked runs
 * as they were, the Host / Origin guard (DNS rebinding, other sites), and
 * named users (`--users`): each acting as themselves, a bad file refused.
 */
import { request } from 'node:http';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { startUiProcess, type UiProcess } from './ui-helpers.js';
import { waitFor } from '../helpers/wait.js';

const FIX = join(ROOT, 'test', 'fixtures', 'dashboard');
let dir: string;
let ui: UiProcess;

function definitions(): string {
  const d = tempDir('lf-ui-review-');
  mkdirSync(join(d, 'defs'));
  for (const f of ['review.yaml', 'review-alert.yaml', 'review-handlers.mjs'])
    copyFileSync(join(FIX, f), join(d, 'defs', f));
  return d;
}

/** A request with any Host header (fetch does not let a caller set it). */
function raw(
  base: string,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<{ status: number; body: any }> {
  const u = new URL(base);
  return new Promise((res, rej) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (r) => {
      let text = '';
      r.on('data', (d) => (text += d));
      r.on('end', () => {
        let json: unknown = text;
        try {
          json = JSON.parse(text);
        } catch {
          /* a page */
        }
        res({ status: r.statusCode!, body: json });
      });
    });
    req.on('error', rej);
    req.end(body);
  });
}

const call = async (u: UiProcess, method: string, path: string, body?: unknown, token = u.token!) => {
  const r = await fetch(`${u.base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json()) as any };
};
const waitingOn = (u: UiProcess, runId: string, task: string, token?: string) =>
  waitFor(
    `${runId} ${task} waiting`,
    async () =>
      (await call(u, 'GET', `/api/runs/${runId}`, undefined, token)).body.run?.tasks[task]?.status ===
      'PENDING_APPROVAL',
    { timeout: 15_000 },
  );

beforeAll(async () => {
  dir = definitions();
  ui = await startUiProcess(
    ['--store', join(dir, 'store')],
    ['--definitions', join(dir, 'defs'), '--allowed-host', 'dash.example.com'],
    { cwd: dir },
  );
}, 30_000);
afterAll(async () => {
  await ui?.stop();
});

describe('the run page data', () => {
  it('a HUMAN task waiting for approval comes with its input resolved (the values, not ${validate_compliance.output.violations})', async () => {
    const { runId } = (await call(ui, 'POST', '/api/workflows/review/start', { input: {} })).body;
    await waitingOn(ui, runId, 'approve_violations');
    const detail = (await call(ui, 'GET', `/api/runs/${runId}`)).body;
    expect(detail.inputs.approve_violations.input).toEqual({
      violations: [
        { rule: 'MARPOL-6', vessel: 'Aurora' },
        { rule: 'SOLAS-II', vessel: 'Borealis' },
      ],
    });
  });

  it('time travel answers the run as of the event: no child before it started, the child as it was then after; the agents of then', async () => {
    const { runId } = (await call(ui, 'POST', '/api/workflows/review/start', { input: {} })).body;
    await waitingOn(ui, runId, 'approve_violations');
    expect(
      (await call(ui, 'POST', `/api/runs/${runId}/approve`, { task: 'approve_violations', as: 'alice' })).status,
    ).toBe(200);
    await waitingOn(ui, runId, 'acknowledge');
    // The children come from the live run index, which follows the store a moment later.
    const now = await waitFor(
      `${runId}'s child settled in the run index`,
      async () => {
        const body = (await call(ui, 'GET', `/api/runs/${runId}`)).body;
        return body.children?.length && body.children[0].status === 'COMPLETED' ? body : undefined;
      },
      { timeout: 15_000 },
    );
    expect(now.children).toEqual([
      expect.objectContaining({ runId: `${runId}-alert_bridge-1`, status: 'COMPLETED', task: 'alert_bridge' }),
    ]);
    const events = (await call(ui, 'GET', `/api/runs/${runId}/events`)).body.events as {
      seq: number;
      type: string;
      data: any;
    }[];
    const waited = events.find((e) => e.type === 'task.completed' && e.data.task === 'validate_compliance')!.seq;
    const before = (await call(ui, 'GET', `/api/runs/${runId}/at/${waited}`)).body;
    expect(before.children).toEqual([]);
    expect(before.record.agents).toEqual([]);
    expect(before.record.status).toBe('WAITING');
    const last = (await call(ui, 'GET', `/api/runs/${runId}/at/${events.at(-1)!.seq}`)).body;
    expect(last.children).toEqual([expect.objectContaining({ runId: `${runId}-alert_bridge-1`, status: 'COMPLETED' })]);
    expect(last.record.agents).toEqual(['alice']);
  });
});

describe('Host and Origin', () => {
  const port = () => new URL(ui.base).port;
  const bearer = () => ({ authorization: `Bearer ${ui.token}` });

  it('answers the names it listens on (127.0.0.1, localhost, [::1]) and --allowed-host; any other Host is a 421 saying which are allowed', async () => {
    for (const host of [
      `127.0.0.1:${port()}`,
      `localhost:${port()}`,
      `[::1]:${port()}`,
      'dash.example.com',
      'dash.example.com:443',
    ]) {
      expect((await raw(ui.base, '/api/session', { ...bearer(), host })).status, host).toBe(200);
    }
    // DNS rebinding: the attacker's name resolving to 127.0.0.1; the token does not help it, nor does a static file.
    for (const path of ['/api/runs', '/', '/app.js']) {
      const r = await raw(ui.base, path, { ...bearer(), host: `rebind.attacker.example:${port()}` });
      expect(r.status, path).toBe(421);
    }
    const r = await raw(ui.base, '/api/runs', { ...bearer(), host: `rebind.attacker.example:${port()}` });
    expect(r.body.error).toMatchObject({
      code: 'LF_HOST_REFUSED',
      message: expect.stringMatching(
        /rebind\.attacker\.example.*allowed: .*localhost.*dash\.example\.com.*--allowed-host/,
      ),
    });
    // Another port on an allowed name is another service.
    expect((await raw(ui.base, '/api/session', { ...bearer(), host: '127.0.0.1:1' })).status).toBe(421);
  });

  it('refuses a cookie request from another site even with the CSRF header (403 naming the origin); its own origin passes', async () => {
    const login = await fetch(`${ui.base}/?token=${ui.token}`, { redirect: 'manual' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { csrf } = (await (await fetch(`${ui.base}/api/session`, { headers: { cookie } })).json()) as {
      csrf: string;
    };
    const { runId } = (await call(ui, 'POST', '/api/workflows/review/start', { input: {} })).body;
    await waitingOn(ui, runId, 'approve_violations');
    const headers = { cookie, 'x-lf-csrf': csrf, 'content-type': 'application/json', host: `127.0.0.1:${port()}` };
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${Number(port()) + 1}`]) {
      const r = await raw(ui.base, `/api/runs/${runId}/pause`, { ...headers, origin }, 'POST', '{}');
      expect(r.status, origin).toBe(403);
      expect(r.body.error.code).toBe('LF_ORIGIN_REFUSED');
    }
    expect((await call(ui, 'GET', `/api/runs/${runId}`)).body.run.status).toBe('WAITING');
    const ok = await raw(ui.base, `/api/runs/${runId}/pause`, { ...headers, origin: ui.base }, 'POST', '{}');
    expect(ok.status).toBe(200);
  });

  it('--allowed-host refuses a value that is no host name (exit 2)', async () => {
    const r = await cli(['--store', join(dir, 'store2'), 'ui', '--port', '0', '--allowed-host', 'http://x/'], {
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--allowed-host "http:\/\/x\/": a host name/);
  });
});

describe('named users (--users)', () => {
  const aliceToken = 'a'.repeat(40);
  const bobToken = 'b'.repeat(40);
  let users: UiProcess;
  let udir: string;
  beforeAll(async () => {
    udir = definitions();
    const bobHash = createHash('sha256').update(bobToken).digest('hex');
    writeFileSync(
      join(udir, 'users.yaml'),
      `users:\n  - name: alice\n    token: ${aliceToken}\n  - name: bob\n    token_sha256: ${bobHash}\n`,
    );
    users = await startUiProcess(
      ['--store', join(udir, 'store')],
      ['--definitions', join(udir, 'defs'), '--users', 'users.yaml'],
      { cwd: udir },
    );
  }, 30_000);
  afterAll(async () => {
    await users?.stop();
  });

  it("each user signs in with their own token (the file's token or its sha256); there is no shared token", async () => {
    expect(users.token).toBeNull();
    expect((await call(users, 'GET', '/api/session', undefined, aliceToken)).body).toMatchObject({
      user: 'alice',
      identity: 'users',
    });
    expect((await call(users, 'GET', '/api/session', undefined, bobToken)).body).toMatchObject({
      user: 'bob',
      identity: 'users',
    });
    expect((await call(users, 'GET', '/api/session', undefined, 'c'.repeat(40))).status).toBe(401);
    const page = await fetch(`${users.base}/?token=${bobToken}`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    expect(await (await fetch(`${users.base}/api/session`, { headers: { cookie } })).json()).toMatchObject({
      user: 'bob',
      via: 'cookie',
    });
  });

  it("records each action as the signed-in user: `as` is refused (400 naming it), and bob may not approve alice's task", async () => {
    const { runId } = (await call(users, 'POST', '/api/workflows/review/start', { input: {} }, aliceToken)).body;
    await waitingOn(users, runId, 'approve_violations', aliceToken);
    const as = await call(
      users,
      'POST',
      `/api/runs/${runId}/approve`,
      { task: 'approve_violations', as: 'alice' },
      bobToken,
    );
    expect(as.status).toBe(400);
    expect(as.body.error).toMatchObject({ field: 'as', message: expect.stringMatching(/signed-in user/) });
    expect(
      (await call(users, 'POST', `/api/runs/${runId}/approve`, { task: 'approve_violations' }, bobToken)).status,
    ).toBe(403);
    expect(
      (
        await call(
          users,
          'POST',
          `/api/runs/${runId}/approve`,
          { task: 'approve_violations', comment: 'seen' },
          aliceToken,
        )
      ).status,
    ).toBe(200);
    const events = (await call(users, 'GET', `/api/runs/${runId}/events`, undefined, aliceToken)).body.events as {
      type: string;
      data: any;
    }[];
    expect(events.filter((e) => e.type.startsWith('approval.')).map((e) => [e.type, e.data.by])).toEqual([
      ['approval.refused', 'bob'],
      ['approval.recorded', 'alice'],
    ]);
  });

  it('a bad users file refuses to start (exit 2) naming the entry and the fix', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        'users:\n  - name: alice\n    token: short\n',
        /bad\.yaml:3:12: users\.0\.token: a token of at least 32 characters/,
      ],
      ['users:\n  - name: alice\n', /bad\.yaml:2:5: users\.0: give exactly one of token or token_sha256/],
      [
        `users:\n  - name: alice\n    token: ${aliceToken}\n  - name: alice\n    token: ${bobToken}\n`,
        /users\.1\.name: alice is listed twice/,
      ],
      [
        `users:\n  - name: alice\n    token: ${aliceToken}\n  - name: bob\n    token: ${aliceToken}\n`,
        /bob has the same token as alice/,
      ],
      [`users:\n  - name: alice\n    token: ${aliceToken}\n    role: admin\n`, /unknown field role/],
      ['users: []\n', /list at least one user/],
    ];
    for (const [text, message] of cases) {
      writeFileSync(join(udir, 'bad.yaml'), text);
      const r = await cli(['--store', join(udir, 'store'), 'ui', '--port', '0', '--users', 'bad.yaml'], { cwd: udir });
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(message);
    }
  });
});

it('the shared token says, where its URL is printed, that whoever holds it acts as any name', async () => {
  const child = spawnCli(['--store', join(dir, 'store3'), 'ui', '--port', '0'], { cwd: dir });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  try {
    await waitFor('the printed URL', async () => out.split('\n').length > 2, { timeout: 15_000 });
    expect(out).toMatch(
      /at http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}\nanyone holding this token acts as any name they type, approvals included.*--users <file>/,
    );
  } finally {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
});
