/**
 * `ledgerflow ui --nats` against a real nats-server: people sign in with their
 * NATS user and password, and each action is published as that user, so the
 * server's permissions decide. The server runs nats.conf with alice made an
 * approver only (her lf.control line dropped, as nats.conf itself suggests
 * for people who may not control runs): she may approve, not cancel.
 */
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { NATS_CONF, startNatsServer, type NatsServer } from '../helpers/nats.js';
import { startUiProcess, until, type UiProcess } from './ui-helpers.js';
import type { ChildProcess } from 'node:child_process';

const skipReason = inject('natsSkipReason');
let nats: NatsServer;
let ui: UiProcess;
let engine: ChildProcess;
let dir: string;

const api = (path: string, init: RequestInit = {}) => fetch(`${ui.base}${path}`, { redirect: 'manual', ...init });
const json = async (r: Response) => (await r.json()) as Record<string, any>;

async function signIn(user: string, password: string): Promise<{ status: number; headers: Record<string, string> }> {
  const r = await api('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  if (r.status !== 200) return { status: r.status, headers: {} };
  const { csrf } = await json(r);
  return { status: 200, headers: { cookie: r.headers.get('set-cookie')!.split(';')[0]!, 'x-lf-csrf': csrf, 'content-type': 'application/json' } };
}

async function waitingRun(headers: Record<string, string>): Promise<string> {
  const started = await cli(['--nats', nats.url, 'start', 'approval', '--json'], { cwd: dir });
  expect(started.code, started.stderr).toBe(0);
  const { runId } = JSON.parse(started.stdout) as { runId: string };
  await until(async () => ((await json(await api(`/api/runs/${runId}`, { headers }))).run?.status === 'WAITING' ? true : undefined), `run ${runId} WAITING`, 20_000);
  return runId;
}

describe.skipIf(!!skipReason)('ledgerflow ui --nats', () => {
  beforeAll(async () => {
    dir = tempDir('lf-ui-nats-');
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, readFileSync(NATS_CONF, 'utf8').replace('"lf.signals.alice.*", "lf.control.alice.*"', '"lf.signals.alice.*"'));
    nats = await startNatsServer({ config: conf });
    copyFileSync(join(ROOT, 'test', 'fixtures', 'approval.yaml'), join(dir, 'approval.yaml'));
    copyFileSync(join(ROOT, 'test', 'fixtures', 'handlers.mjs'), join(dir, 'handlers.mjs'));
    const deployed = await cli(['--nats', nats.url, 'deploy', 'approval.yaml'], { cwd: dir });
    expect(deployed.code, deployed.stderr).toBe(0);
    engine = spawnCli(['--nats', nats.url, 'engine', '--handlers', 'handlers.mjs'], { cwd: dir });
    ui = await startUiProcess(['--nats', nats.url], [], { cwd: dir });
  }, 60_000);
  afterAll(async () => {
    await ui?.stop();
    if (engine && engine.exitCode === null) { const gone = new Promise((r) => engine.once('exit', r)); engine.kill('SIGTERM'); await gone; }
    await nats?.dispose();
  });

  it('needs a signed-in user: 401 without one, 401 for a wrong password; the page itself loads (it is the sign-in page)', async () => {
    expect((await api('/api/runs')).status).toBe(401);
    expect((await signIn('alice', 'wrong')).status).toBe(401);
    expect((await api('/')).status).toBe(200);
  });

  it('alice approves as herself and the run completes; her cancel is refused by NATS (403 naming the subject)', async () => {
    const alice = await signIn('alice', 'alice-dev-password');
    expect(alice.status).toBe(200);
    const session = await json(await api('/api/session', { headers: alice.headers }));
    expect(session).toMatchObject({ user: 'alice', mode: 'nats' });

    const runId = await waitingRun(alice.headers);
    const approved = await api(`/api/runs/${runId}/approve`, { method: 'POST', headers: alice.headers, body: JSON.stringify({ task: 'sign_off', comment: 'fine' }) });
    expect(approved.status, JSON.stringify(await approved.clone().json())).toBe(200);
    await until(async () => ((await json(await api(`/api/runs/${runId}`, { headers: alice.headers }))).run.status === 'COMPLETED' ? true : undefined), 'COMPLETED', 20_000);
    const events = (await json(await api(`/api/runs/${runId}/events`, { headers: alice.headers }))).events as { type: string; data: any }[];
    expect(events.find((e) => e.type === 'approval.recorded')?.data).toMatchObject({ task: 'sign_off', by: 'alice', comment: 'fine' });

    const other = await waitingRun(alice.headers);
    const cancel = await api(`/api/runs/${other}/cancel`, { method: 'POST', headers: alice.headers, body: '{}' });
    expect(cancel.status).toBe(403);
    const body = await json(cancel);
    expect(body.error.subject, JSON.stringify(body)).toBe(`lf.control.alice.${other}`);
    expect((await json(await api(`/api/runs/${other}`, { headers: alice.headers }))).run.status).toBe('WAITING');

    expect((await api('/api/session', { method: 'DELETE', headers: alice.headers })).status).toBe(200);
    expect((await api('/api/runs', { headers: alice.headers })).status).toBe(401);
  });
});
