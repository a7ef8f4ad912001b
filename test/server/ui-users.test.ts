/**
 * docs/users.md, "The dashboard", as a user does it: `ledgerflow users add`
 * with passwords, `ledgerflow users token alice`, then `ledgerflow ui` in the
 * project folder (no flag: it finds users.yaml). People sign in with their
 * name and password or their own token, and each action is judged by their
 * level as the CLI judges it: a refusal is a 403 naming both levels and
 * records nothing but a refused approval.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { PAYROLL, STOCK_COUNT } from '../helpers/authority.js';

let dir = '';
let base = '';
let aliceToken = '';
let child: ReturnType<typeof spawnCli> | undefined;
let printed = '';

/** A signed-in person: the session cookie and CSRF token POST /api/session gave. */
interface Person {
  cookie: string;
  csrf: string;
}

async function signIn(user: string, password: string): Promise<{ status: number; body: any; person?: Person }> {
  const r = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  const body = (await r.json()) as any;
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { status: r.status, body, ...(r.ok ? { person: { cookie, csrf: body.csrf as string } } : {}) };
}

async function as(
  who: Person | string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const auth: Record<string, string> =
    typeof who === 'string' ? { authorization: `Bearer ${who}` } : { cookie: who.cookie, 'x-lf-csrf': who.csrf };
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: await r.json() };
}

describe('the dashboard signs people in from the users file (docs/users.md)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-ui-users-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'stock-count.yaml'), STOCK_COUNT);
    writeFileSync(join(dir, 'definitions', 'payroll.yaml'), PAYROLL);
    for (const [name, level, domains] of [
      ['alice', 'L0', ''],
      ['ops-east', 'L2', 'inventory'],
    ] as const) {
      const r = await cli(
        ['users', 'add', name, '--level', level, ...(domains ? ['--domains', domains] : []), '--password-stdin'],
        { cwd: dir, stdin: `${name}-pw\n` },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const token = await cli(['users', 'token', 'alice'], { cwd: dir });
    expect(token.code, token.stderr).toBe(0);
    aliceToken = token.stdout.trim();
    expect(token.stderr).toContain('shown this once');
    expect((await cli(['users', 'list'], { cwd: dir })).stdout).toMatch(/alice\s+L0 \(Commander\)\s+-\s+yes\s+yes/);

    child = spawnCli(['--store', join(dir, 'store'), 'ui', '--port', '0'], { cwd: dir });
    child.stdout!.on('data', (d) => (printed += d));
    await waitFor('ui listening', () => /each user signs in/.test(printed), { timeout: 20_000 });
    base = /at (http:\/\/\S+?)\/?\n/.exec(printed)![1]!;
  }, 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
  });

  it('says where its users come from, has no shared token, and answers a 401 that asks for a sign-in', async () => {
    expect(printed).toContain(`2 named users from ${join(dir, 'users.yaml')}`);
    expect(printed).not.toMatch(/\?token=[0-9a-f]/); // no shared token printed
    const anon = await fetch(`${base}/api/runs`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ identity: 'users', signIn: true });
    const wrong = await signIn('alice', 'guess');
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'LF_UNAUTHORIZED']);
    expect((await signIn('mallory', 'x')).status).toBe(401);
  });

  it("a Station OPS starts its domain's workflow, not another; cannot cancel it nor approve the Commander's task", async () => {
    const ops = (await signIn('ops-east', 'ops-east-pw')).person!;
    expect((await as(ops, 'GET', '/api/session')).body).toMatchObject({
      user: 'ops-east',
      identity: 'users',
      level: 'L2 (Station OPS)',
    });

    const started = await as(ops, 'POST', '/api/workflows/stock-count/start', { input: {} });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const runId = started.body.runId as string;
    const payroll = await as(ops, 'POST', '/api/workflows/payroll/start', { input: {} });
    expect([payroll.status, payroll.body.error.code]).toEqual([403, 'LF_AUTHORITY_REFUSED']);
    expect(payroll.body.error.message).toContain(
      'ops-east is L2 (Station OPS); starting payroll needs L1 (CMD.BRIDGE) or higher',
    );
    await waitFor(
      'commander_review waiting',
      async () =>
        (await as(ops, 'GET', `/api/runs/${runId}`)).body.run?.tasks.commander_review?.status === 'PENDING_APPROVAL',
      { timeout: 15_000 },
    );

    const events = async () =>
      (await as(aliceToken, 'GET', `/api/runs/${runId}/events`)).body.events as { type: string; data: any }[];
    const before = (await events()).length;
    for (const action of ['cancel', 'pause', 'retry']) {
      const r = await as(ops, 'POST', `/api/runs/${runId}/${action}`, {});
      expect([r.status, r.body.error.code, r.body.error.message], action).toEqual([
        403,
        'LF_AUTHORITY_REFUSED',
        'ops-east is L2 (Station OPS); controlling runs needs L1 (CMD.BRIDGE) or higher',
      ]);
    }
    expect((await events()).length).toBe(before); // nothing recorded
    const breaker = await as(ops, 'POST', '/api/breakers/open', { name: 'queue/payments' });
    expect([breaker.status, breaker.body.error.message]).toEqual([
      403,
      'ops-east is L2 (Station OPS); setting limits needs L1 (CMD.BRIDGE) or higher',
    ]);
    // A schedule's pause, resume, trigger and backfill (docs/operations.md#schedules): L1, judged before the workflow is looked up.
    const schedule = await as(ops, 'POST', '/api/schedules/payroll/pause', { reason: 'mine' });
    expect([schedule.status, schedule.body.error.code]).toEqual([403, 'LF_AUTHORITY_REFUSED']);
    expect(schedule.body.error.message).toMatch(
      /^ops-east is L2 \(Station OPS\); changing schedules needs L1 \(CMD\.BRIDGE\) or higher$/,
    );

    // An approval below the task's agent_level is refused and kept, as the CLI's is.
    const approve = await as(ops, 'POST', `/api/runs/${runId}/approve`, { task: 'commander_review' });
    expect(approve.status).toBe(403);
    expect(
      (await events()).filter((e) => e.type === 'approval.refused').map((e) => [e.data.by, e.data.reason]),
    ).toEqual([
      ['ops-east', 'ops-east is L2 (Station OPS); approving commander_review needs L0 (Commander) or higher'],
    ]);

    // The Commander, with her own token, approves.
    expect((await as(aliceToken, 'GET', '/api/session')).body).toMatchObject({
      user: 'alice',
      via: 'bearer',
      level: 'L0 (Commander)',
    });
    const byAlice = await as(aliceToken, 'POST', `/api/runs/${runId}/approve`, { task: 'commander_review' });
    expect(byAlice.status, JSON.stringify(byAlice.body)).toBe(200);
    await waitFor(
      'run completed',
      async () => (await as(aliceToken, 'GET', `/api/runs/${runId}`)).body.run?.status === 'COMPLETED',
      { timeout: 15_000 },
    );
    expect((await events()).filter((e) => e.type === 'approval.recorded').map((e) => e.data.by)).toEqual(['alice']);
  }, 60_000);

  it('a new token ends the old one, and a user removed is signed out, in the running dashboard', async () => {
    const ops = (await signIn('ops-east', 'ops-east-pw')).person!;
    const again = await cli(['users', 'token', 'alice', '--json'], { cwd: dir });
    const fresh = JSON.parse(again.stdout).token as string;
    const text = readFileSync(join(dir, 'users.yaml'), 'utf8');
    expect([text.includes(fresh), text.includes(aliceToken), /token_sha256: [0-9a-f]{64}/.test(text)]).toEqual([
      false,
      false,
      true,
    ]); // its sha256 only
    await waitFor('the old token refused', async () => (await as(aliceToken, 'GET', '/api/session')).status === 401, {
      timeout: 10_000,
    });
    expect((await as(fresh, 'GET', '/api/session')).body).toMatchObject({ user: 'alice' });

    expect((await cli(['users', 'rm', 'ops-east'], { cwd: dir })).code).toBe(0);
    await waitFor('ops-east signed out', async () => (await as(ops, 'GET', '/api/session')).status === 401, {
      timeout: 10_000,
    });
    expect((await signIn('ops-east', 'ops-east-pw')).status).toBe(401);
  }, 30_000);
});
