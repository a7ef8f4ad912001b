/**
 * `ledgerflow ui --nats` against a real nats-server: people sign in with their
 * NATS user and password, and each action is published as that user, so the
 * server's permissions decide. The server runs nats.conf with alice made an
 * approver only (her lf.control and lf.starts lines dropped, as nats.conf
 * itself suggests for people who may not control runs or ask for starts):
 * she may approve, not cancel nor start; bob keeps the shipped lines. The
 * worker user, whom nats.conf does not let read the log, reads nothing: 403
 * on every read. The UI's own connection gives the engine's credentials.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { NATS_CONF } from '../helpers/nats.js';
import { noNats, useCluster, type Cluster } from '../helpers/cluster.js';
import { startUiProcess, type UiProcess } from './ui-helpers.js';
import { waitFor } from '../helpers/wait.js';
import type { ChildProcess } from 'node:child_process';

let ui: UiProcess;
let engine: ChildProcess;
let engineUrl: string;
const dir = tempDir('lf-ui-nats-');
const conf = join(dir, 'nats.conf');
// The engine, deploy and start below connect without credentials: nats-dev.conf's no_auth_user, added here.
writeFileSync(
  conf,
  `${readFileSync(NATS_CONF, 'utf8')
    .replace('"lf.signals.alice.*", "lf.control.alice.*"', '"lf.signals.alice.*"')
    .replace('"lf.starts.alice", ', '')}\nno_auth_user: engine\n`,
);
/** The describe's nats-server (useCluster below). */
let nats: Cluster;

const api = (path: string, init: RequestInit = {}) => fetch(`${ui.base}${path}`, { redirect: 'manual', ...init });
const json = async (r: Response) => (await r.json()) as Record<string, any>;

const METRICS_TOKEN = 'prometheus-scrapes-with-this-token-0123456789';

async function signIn(user: string, password: string): Promise<{ status: number; headers: Record<string, string> }> {
  const r = await api('/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  if (r.status !== 200) return { status: r.status, headers: {} };
  const { csrf } = await json(r);
  return {
    status: 200,
    headers: {
      cookie: r.headers.get('set-cookie')!.split(';')[0]!,
      'x-lf-csrf': csrf,
      'content-type': 'application/json',
    },
  };
}

async function waitingRun(headers: Record<string, string>, workflow = 'approval'): Promise<string> {
  const started = await cli(['--nats', nats.url, 'start', workflow, '--json'], { cwd: dir });
  expect(started.code, started.stderr).toBe(0);
  const { runId } = JSON.parse(started.stdout) as { runId: string };
  await waitFor(
    `run ${runId} WAITING`,
    async () => (await json(await api(`/api/runs/${runId}`, { headers }))).run?.status === 'WAITING',
    { timeout: 20_000 },
  );
  return runId;
}

describe.skipIf(noNats)('ledgerflow ui --nats', () => {
  nats = useCluster({ config: conf });
  beforeAll(async () => {
    for (const f of ['approval.yaml', 'wait-signal.yaml', 'handlers.mjs'])
      copyFileSync(join(ROOT, 'test', 'fixtures', f), join(dir, f));
    // orders: started by order_placed events (schema in events/), with a required input; queued: its task waits on a queue no worker serves.
    writeFileSync(
      join(dir, 'orders.yaml'),
      'workflow:\n  id: orders\n  version: 1\n  input:\n    required:\n      - customer: { type: string }\n  triggers:\n    - event: order_placed\n      input: { customer: "${event.data.customer}" }\n  tasks:\n    - id: first\n      type: SIMPLE\n',
    );
    writeFileSync(
      join(dir, 'queued.yaml'),
      'workflow:\n  id: queued\n  version: 1\n  tasks:\n    - id: first\n      type: SIMPLE\n      queue: nobody\n',
    );
    mkdirSync(join(dir, 'events'));
    writeFileSync(
      join(dir, 'events', 'order_placed.yaml'),
      'type: order_placed\nschema:\n  type: object\n  required: [customer, amount]\n  properties:\n    customer: { type: string }\n    amount: { type: number, minimum: 0 }\n',
    );
    const deployed = await cli(
      ['--nats', nats.url, 'deploy', 'approval.yaml', 'wait-signal.yaml', 'orders.yaml', 'queued.yaml'],
      { cwd: dir },
    );
    expect(deployed.code, deployed.stderr).toBe(0);
    engine = spawnCli(['--nats', nats.url, 'engine', '--handlers', 'handlers.mjs'], { cwd: dir });
    engineUrl = nats.as('engine');
    // A short sign-in window (5 failures per 2 s) so the lock-out test can see it end.
    ui = await startUiProcess(['--nats', engineUrl], [], {
      cwd: dir,
      env: { LEDGERFLOW_UI_METRICS_TOKEN: METRICS_TOKEN, LEDGERFLOW_UI_SIGNIN_LIMIT: '5/2s' },
    });
  }, 60_000);
  afterAll(async () => {
    await ui?.stop();
    if (engine && engine.exitCode === null) {
      const gone = new Promise((r) => engine.once('exit', r));
      engine.kill('SIGTERM');
      await gone;
    }
  });

  it('needs a signed-in user: 401 without one, 401 for a wrong password; the page itself loads (it is the sign-in page)', async () => {
    const anonymous = await api('/api/runs');
    expect(anonymous.status).toBe(401);
    expect(await json(anonymous)).toMatchObject({ error: { code: 'LF_UNAUTHORIZED' }, mode: 'nats' });
    expect((await signIn('alice', 'wrong')).status).toBe(401);
    expect((await api('/')).status).toBe(200);
  });

  it('alice approves as herself and the run completes; her cancel is refused by NATS (403 naming the subject)', async () => {
    const alice = await signIn('alice', 'alice-dev-password');
    expect(alice.status).toBe(200);
    const session = await json(await api('/api/session', { headers: alice.headers }));
    expect(session).toMatchObject({ user: 'alice', mode: 'nats' });

    const runId = await waitingRun(alice.headers);
    const approved = await api(`/api/runs/${runId}/approve`, {
      method: 'POST',
      headers: alice.headers,
      body: JSON.stringify({ task: 'sign_off', comment: 'fine' }),
    });
    expect(approved.status, JSON.stringify(await approved.clone().json())).toBe(200);
    await waitFor(
      'COMPLETED',
      async () => (await json(await api(`/api/runs/${runId}`, { headers: alice.headers }))).run.status === 'COMPLETED',
      { timeout: 20_000 },
    );
    const events = (await json(await api(`/api/runs/${runId}/events`, { headers: alice.headers }))).events as {
      type: string;
      data: any;
    }[];
    expect(events.find((e) => e.type === 'approval.recorded')?.data).toMatchObject({
      task: 'sign_off',
      by: 'alice',
      comment: 'fine',
    });

    const other = await waitingRun(alice.headers);
    // cfo may publish approvals under her name (nats.conf) but is not an approver of sign_off: the engine refuses, 403.
    const cfo = await signIn('cfo', 'cfo-dev-password');
    const notHers = await api(`/api/runs/${other}/approve`, {
      method: 'POST',
      headers: cfo.headers,
      body: JSON.stringify({ task: 'sign_off' }),
    });
    expect(notHers.status, JSON.stringify(await notHers.clone().json())).toBe(403);
    expect((await json(notHers)).error).toMatchObject({
      code: 'LF_APPROVAL_REFUSED',
      message: expect.stringMatching(/cfo may not decide task sign_off/),
    });
    const cancel = await api(`/api/runs/${other}/cancel`, { method: 'POST', headers: alice.headers, body: '{}' });
    expect(cancel.status).toBe(403);
    const body = await json(cancel);
    expect(body.error.subject, JSON.stringify(body)).toBe(`lf.control.alice.${other}`);
    expect((await json(await api(`/api/runs/${other}`, { headers: alice.headers }))).run.status).toBe('WAITING');

    expect((await api('/api/session', { method: 'DELETE', headers: alice.headers })).status).toBe(200);
    expect((await api('/api/runs', { headers: alice.headers })).status).toBe(401);
  });

  it('bob (who may control runs) pauses, resumes and signals as himself; the 409s say why', async () => {
    const bob = await signIn('bob', 'bob-dev-password');
    const post = (path: string, body: unknown) =>
      api(path, { method: 'POST', headers: bob.headers, body: JSON.stringify(body) });
    const runId = await waitingRun(bob.headers, 'wait_signal');
    const paused = await post(`/api/runs/${runId}/pause`, { reason: 'look first' });
    expect(paused.status, JSON.stringify(await paused.clone().json())).toBe(200);
    expect(await json(paused)).toMatchObject({ runId, recorded: true, status: 'PAUSED' });
    const twice = await post(`/api/runs/${runId}/pause`, {});
    expect(twice.status).toBe(409);
    expect((await json(twice)).error.message).toMatch(/paused/i);
    const resumed = await post(`/api/runs/${runId}/resume`, {});
    expect(resumed.status).toBe(200);
    const notPaused = await post(`/api/runs/${runId}/resume`, {});
    expect(notPaused.status).toBe(409);
    expect((await json(notPaused)).error.message).toMatch(/not paused/);
    const signalled = await post(`/api/runs/${runId}/signal`, { name: 'go_ahead', data: { ok: 1 } });
    expect(signalled.status, JSON.stringify(await signalled.clone().json())).toBe(200);
    expect(await json(signalled)).toMatchObject({ by: 'bob', recorded: true });
    await waitFor(
      'COMPLETED',
      async () => (await json(await api(`/api/runs/${runId}`, { headers: bob.headers }))).run.status === 'COMPLETED',
      { timeout: 20_000 },
    );
    const events = (await json(await api(`/api/runs/${runId}/events`, { headers: bob.headers }))).events as {
      type: string;
      data: any;
    }[];
    expect(
      events
        .filter((e) => ['run.paused', 'run.resumed', 'signal.received'].includes(e.type))
        .map((e) => [e.type, e.data.by]),
    ).toEqual([
      ['run.paused', 'bob'],
      ['run.resumed', 'bob'],
      ['signal.received', 'bob'],
    ]);
    const late = await post(`/api/runs/${runId}/signal`, { name: 'go_ahead' });
    expect(late.status).toBe(409);
  });

  it('start and emit as alice without the lines: a bad form is a 400, then a 403 saying which permission to add; bob starts with the shipped lines; as engine both work', async () => {
    const alice = await signIn('alice', 'alice-dev-password');
    const post = (h: Record<string, string>, path: string, body: unknown) =>
      api(path, { method: 'POST', headers: h, body: JSON.stringify(body) });
    const form = await post(alice.headers, '/api/workflows/orders/start', { input: {} });
    expect(form.status).toBe(400);
    expect((await json(form)).error.field).toBe('input.customer');
    expect((await post(alice.headers, '/api/workflows/nope/start', { input: {} })).status).toBe(404);
    const start = await post(alice.headers, '/api/workflows/orders/start', { input: { customer: 'c1' } });
    const startBody = await json(start);
    expect(start.status, JSON.stringify(startBody)).toBe(403);
    expect(startBody.error.code).toBe('LF_FORBIDDEN');
    expect(startBody.error.message).toMatch(/alice may not start runs/);
    expect(startBody.error.message).toContain('"lf.starts.alice"');
    // bob's block as shipped (what `users nats-conf` gives an L1 person): his start is a request the engine takes.
    const bob = await signIn('bob', 'bob-dev-password');
    const byBob = await post(bob.headers, '/api/workflows/orders/start', { input: { customer: 'c0' } });
    const byBobBody = await json(byBob);
    expect(byBob.status, JSON.stringify(byBobBody)).toBe(200);
    await waitFor(
      "bob's run COMPLETED",
      async () => {
        const r = (await json(await api(`/api/runs/${byBobBody.runId}`, { headers: bob.headers }))).run;
        return r?.status === 'COMPLETED';
      },
      { timeout: 20_000 },
    );
    const emit = await post(alice.headers, '/api/events/order_placed', { data: { customer: 'c1', amount: 1 } });
    const emitBody = await json(emit);
    expect(emit.status, JSON.stringify(emitBody)).toBe(403);
    expect(emitBody.error.subject).toBe('lf.triggers.order_placed');
    expect(emitBody.error.message).toMatch(/add "lf\.triggers\.order_placed"/);

    const engine = await signIn('engine', 'engine-dev-password');
    const started = await post(engine.headers, '/api/workflows/orders/start', { input: { customer: 'c2' } });
    expect(started.status, JSON.stringify(await started.clone().json())).toBe(200);
    const { runId } = await json(started);
    await waitFor(
      'COMPLETED',
      async () =>
        (await json(await api(`/api/runs/${runId}`, { headers: engine.headers }))).run?.status === 'COMPLETED',
      { timeout: 20_000 },
    );
    const bad = await post(engine.headers, '/api/events/order_placed', { data: { customer: 'c3', amount: -1 } });
    const badBody = await json(bad);
    expect(bad.status, JSON.stringify(badBody)).toBe(400);
    expect(badBody.error.field).toBe('data.amount');
    const good = await post(engine.headers, '/api/events/order_placed', { data: { customer: 'c3', amount: 1 } });
    const goodBody = await json(good);
    expect(good.status, JSON.stringify(goodBody)).toBe(200);
    expect(goodBody.verdict).toMatchObject({ accepted: true, runs: [{ workflowId: 'orders', started: true }] });
  });

  it('workers: an attempt queued where no worker pulls shows as backlog 1 with no workers', async () => {
    const alice = await signIn('alice', 'alice-dev-password');
    const started = await cli(['--nats', nats.url, 'start', 'queued', '--json'], { cwd: dir });
    expect(started.code, started.stderr).toBe(0);
    const queue = await waitFor(
      'a backlog of 1 on queue nobody',
      async () => {
        const w = await json(await api('/api/workers', { headers: alice.headers }));
        return (w.queues as { queue: string; backlog: number }[]).find((q) => q.queue === 'nobody' && q.backlog === 1);
      },
      { timeout: 20_000 },
    );
    // The engine made the queue's own stream and its consumer as it handed the attempt out; nobody pulls from it.
    expect(queue).toMatchObject({
      queue: 'nobody',
      handler: 'first',
      backlog: 1,
      workers: 0,
      stream: 'LF_TASKS_nobody',
      consumer: 'w_nobody_first',
    });
    const w = await json(await api('/api/workers', { headers: alice.headers }));
    expect(w.engines.length).toBeGreaterThan(0);
    // Who serves what (docs/nats.md#which-handler-no-worker-serves): the engine's own worker announced handlers.mjs on default;
    // the run's task says nobody serves its handler on its queue (once the engine has listened long enough to know).
    expect(w.announced).toContainEqual(
      expect.objectContaining({
        queue: 'default',
        user: 'engine',
        handlers: expect.arrayContaining(['first', 'slow']),
      }),
    );
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const task = await waitFor(
      'the run page to say nobody serves first',
      async () => {
        const t = (await json(await api(`/api/runs/${runId}`, { headers: alice.headers }))).run.tasks.first as {
          waitingFor?: string;
        };
        return t.waitingFor ? t : null;
      },
      { timeout: 20_000 },
    );
    expect(task.waitingFor).toBe('handler first on queue nobody: no worker has announced it');
    // /metrics on NATS: the queue backlog (observeQueues), for a signed-in session or the scraper's token.
    const metrics = await api('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^ledgerflow_queue_backlog\{queue="nobody"\} 1$/m);
    expect((await api('/metrics', { headers: alice.headers })).status).toBe(200);
  });

  it('worker (no "$JS.API.STREAM.MSG.GET.LF_EVENTS" in nats.conf) reads nothing: 403 naming the permission on the runs, a run, its events, its stream and every summary; alice reads them', async () => {
    const alice = await signIn('alice', 'alice-dev-password');
    const runId = await waitingRun(alice.headers);
    const worker = await signIn('worker', 'worker-dev-password');
    expect(worker.status).toBe(200);
    const session = await json(await api('/api/session', { headers: worker.headers }));
    expect(session).toMatchObject({
      user: 'worker',
      read: { allowed: false, subject: '$JS.API.STREAM.MSG.GET.LF_EVENTS' },
    });
    expect(session.read.message).toMatch(/not allowed to read runs/);

    const reads = [
      '/api/runs',
      `/api/runs/${runId}`,
      `/api/runs/${runId}/events`,
      `/api/runs/${runId}/at/1`,
      `/api/runs/${runId}/stream`,
      '/api/stream',
      '/api/definitions',
      '/api/definitions/approval',
      '/api/schedules',
      '/api/triggers',
      '/api/workers',
      '/api/metrics/summary',
      '/metrics',
    ];
    for (const path of reads) {
      const r = await api(path, { headers: worker.headers });
      const text = await r.text();
      expect(r.status, `${path}: ${text}`).toBe(403);
      expect(JSON.parse(text).error, path).toMatchObject({
        code: 'LF_FORBIDDEN',
        subject: '$JS.API.STREAM.MSG.GET.LF_EVENTS',
      });
      expect(text, path).not.toContain(runId);
      expect(text, path).not.toContain('sign_off');
    }
    // Actions too: the read check comes first, so a run that exists and one that does not answer alike (no 404
    // naming which), and a start does not list the workflow's declared inputs.
    const posts: [string, unknown][] = [
      [`/api/runs/${runId}/approve`, { task: 'sign_off' }],
      ['/api/runs/nosuchrun/approve', { task: 'sign_off' }],
      [`/api/runs/${runId}/cancel`, {}],
      ['/api/runs/nosuchrun/cancel', {}],
      ['/api/runs/nosuchrun/signal', { name: 'x' }],
      ['/api/runs/nosuchrun/retry', {}],
      ['/api/workflows/approval/start', { input: { nonsense: 1 } }],
      ['/api/workflows/nosuchflow/start', { input: {} }],
    ];
    for (const [path, body] of posts) {
      const r = await api(path, { method: 'POST', headers: worker.headers, body: JSON.stringify(body) });
      const text = await r.text();
      expect(r.status, `POST ${path}: ${text}`).toBe(403);
      expect(JSON.parse(text).error, path).toMatchObject({
        code: 'LF_FORBIDDEN',
        subject: '$JS.API.STREAM.MSG.GET.LF_EVENTS',
      });
    }
    // The run's page is the app either way: its status does not say whether the run exists.
    expect((await api(`/runs/${runId}`, { headers: worker.headers })).status).toBe(200);
    expect((await api('/runs/nosuchrun', { headers: worker.headers })).status).toBe(200);

    expect((await json(await api('/api/session', { headers: alice.headers }))).read).toEqual({ allowed: true });
    // The list is the run index, which the engines' projection writes a moment after the log (docs/queries.md): waited for.
    await expect
      .poll(async () => {
        const runs = await json(await api('/api/runs', { headers: alice.headers }));
        return (runs.runs as { runId: string }[]).some((r) => r.runId === runId);
      })
      .toBe(true);
    expect((await json(await api(`/api/runs/${runId}`, { headers: alice.headers }))).run.status).toBe('WAITING');
    expect(
      (
        (await json(await api(`/api/runs/${runId}/events`, { headers: alice.headers }))).events as { type: string }[]
      )[0]!.type,
    ).toBe('run.started');
    // Her stream opens (SSE: the first message is `ready`).
    const abort = new AbortController();
    const stream = await api(`/api/runs/${runId}/stream`, { headers: alice.headers, signal: abort.signal });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let got = '';
    while (!got.includes('event: ready')) got += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
  });

  /** POST /api/session from another loopback address (the limiter counts the TCP peer). */
  const signInFrom = (localAddress: string, user: string, password: string) =>
    new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ user, password });
      const req = request(
        `${ui.base}/api/session`,
        {
          method: 'POST',
          localAddress,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it("guessing bob's password locks the guessing address, not bob: his right password from his own address gets in", async () => {
    const guesses: number[] = [];
    for (let i = 0; i < 6; i++) guesses.push(await signInFrom('127.0.0.2', 'bob', `guess-${i}`));
    expect(guesses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(await signInFrom('127.0.0.2', 'bob', 'bob-dev-password')).toBe(429);
    expect(await signInFrom('127.0.0.3', 'bob', 'bob-dev-password')).toBe(200);
  });

  it('sign-in is rate limited: the 21st rapid wrong password is a 429 with Retry-After, and the right one works once the window has passed', async () => {
    const tries: Response[] = [];
    for (let i = 0; i < 21; i++)
      tries.push(
        await api('/api/session', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user: 'cfo', password: `guess-${i}` }),
        }),
      );
    expect(tries.map((r) => r.status)).toEqual([...Array(5).fill(401), ...Array(16).fill(429)]);
    const last = tries[20]!;
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await json(last)).error).toMatchObject({
      code: 'LF_TOO_MANY_SIGN_INS',
      message: expect.stringMatching(/try again in \d+ s/),
    });
    // Locked out, even the right password is refused (else a guess would learn it was right).
    expect((await signIn('cfo', 'cfo-dev-password')).status).toBe(429);
    // Once the window (2 s here) has passed: in, and the count starts again.
    const cfo = await waitFor(
      'the sign-in window to pass',
      async () => {
        const r = await signIn('cfo', 'cfo-dev-password');
        return r.status === 429 ? undefined : r;
      },
      { timeout: 10_000 },
    );
    expect(cfo.status).toBe(200);
    expect((await json(await api('/api/session', { headers: cfo.headers }))).user).toBe('cfo');
  });
});
