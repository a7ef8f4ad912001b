/**
 * docs/dashboard.md: a start over HTTP (`POST /api/workflows/:id/start`) takes a run's input of any size up to
 * `ledgerflow ui --max-input` (64 MiB by default), its large fields kept apart as any start's
 * (docs/language.md#large-payloads); every other body stays at 64 KiB. On the embedded store with the real `ledgerflow
 * ui` process, and on NATS with a person signed in to the dashboard (their start uploads the large field under their
 * own name, as the CLI's does).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isPayloadRef } from '../../src/events/index.js';
import { runReads } from '../../src/runs/index.js';
import { useUsersNats } from '../helpers/authority.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { spawnLedgerflow, type LedgerflowProcess } from '../helpers/cluster-run.js';
import { waitFor } from '../helpers/wait.js';
import { startUiProcess, type UiProcess } from './ui-helpers.js';

// The page's shape: an input of a few hundred thousand file names, a later task reading one field of what the first made.
const SCAN = `workflow:
  id: scan
  input:
    required: [files]
  tasks:
    - { id: scan, type: SET, values: { first: "\${workflow.input.files[0]}", second: "\${workflow.input.files[1]}" } }
    - { id: report, type: SET, depends_on: [scan], values: { first: "\${scan.output.first}" } }
`;
// The same files arriving as an event's data (docs/triggers.md): its trigger hands them to the run's input.
const INGEST = `workflow:
  id: ingest
  input:
    required: [files]
  triggers:
    - event: batch_ready
      input: { files: "\${event.data.files}" }
  tasks:
    - { id: pick, type: SET, values: { first: "\${workflow.input.files[0]}" } }
`;
const FILES = Array.from({ length: 30_000 }, (_, i) => `/data/file-${i}.csv`);
const BIG = JSON.stringify({ input: { files: FILES } }); // about 660 KB: over 64 KiB and over the 256 KiB inline limit

/** A POST of `body` as JSON; `chunked`: sent as a stream, with no Content-Length (its size known only as it is read). */
const post = (u: UiProcess, path: string, body: string, headers: Record<string, string> = {}, chunked = false) =>
  fetch(`${u.base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(u.token ? { authorization: `Bearer ${u.token}` } : {}),
      ...headers,
    },
    body: chunked ? new Blob([body]).stream() : body,
    ...(chunked ? { duplex: 'half' } : {}),
  } as RequestInit);

describe('a large start over HTTP on the embedded store', () => {
  let dir = '';
  let ui: UiProcess;
  let small: UiProcess;
  beforeAll(async () => {
    dir = tempDir('lf-ui-large-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'scan.yaml'), SCAN);
    writeFileSync(join(dir, 'definitions', 'ingest.yaml'), INGEST);
    ui = await startUiProcess([], [], { cwd: dir });
    small = await startUiProcess(['--store', join(dir, 'small-store')], ['--max-input', '100KiB'], { cwd: dir });
  }, 60_000);
  afterAll(async () => {
    await ui?.stop();
    await small?.stop();
  });

  it('POST /api/workflows/scan/start with a 660 KB input runs; the field is kept apart; a later task reads of it', async () => {
    expect(BIG.length).toBeGreaterThan(256 * 1024);
    const r = await post(ui, '/api/workflows/scan/start', BIG);
    const body = (await r.json()) as { runId: string };
    expect(r.status, JSON.stringify(body)).toBe(200);
    const shown = await waitFor('the run to complete', async () => {
      const s = await cli(['status', body.runId, '--json'], { cwd: dir });
      const v = s.code === 0 ? (JSON.parse(s.stdout) as { status: string }) : null;
      return v?.status === 'COMPLETED' && v;
    });
    const tasks = (shown as unknown as { tasks: Record<string, { output?: unknown }> }).tasks;
    expect(tasks.scan!.output).toEqual({ first: '/data/file-0.csv', second: '/data/file-1.csv' });
    expect(tasks.report!.output).toEqual({ first: '/data/file-0.csv' });
    // The run's log keeps a reference, not the 660 KB.
    const history = await cli(['history', body.runId, '--json'], { cwd: dir });
    const events = JSON.parse(history.stdout) as { type: string; data: { input?: Record<string, unknown> } }[];
    expect(isPayloadRef(events[0]!.data.input!.files)).toBe(true);
    expect(history.stdout.length).toBeLessThan(64 * 1024);
  }, 60_000);

  it('POST /api/events/batch_ready with the same 660 KB as its data: the triggered run keeps the field apart too', async () => {
    const r = await post(ui, '/api/events/batch_ready', JSON.stringify({ data: { files: FILES } }));
    const body = (await r.json()) as { runs: { runId: string }[] };
    expect(r.status, JSON.stringify(body).slice(0, 500)).toBe(200);
    const runId = body.runs[0]!.runId;
    await waitFor('the run to complete', async () => {
      const s = await cli(['status', runId, '--json'], { cwd: dir });
      return s.code === 0 && (JSON.parse(s.stdout) as { status: string }).status === 'COMPLETED';
    });
    const history = await cli(['history', runId, '--json'], { cwd: dir });
    const events = JSON.parse(history.stdout) as { data: { input?: Record<string, unknown> } }[];
    expect(isPayloadRef(events[0]!.data.input!.files)).toBe(true);
    expect(history.stdout.length).toBeLessThan(64 * 1024);
  }, 60_000);

  it('over --max-input: 413 naming the flag, nothing started; other routes keep 64 KiB; no token: 401 before any body is read', async () => {
    for (const chunked of [false, true]) {
      const r = await post(small, '/api/workflows/scan/start', BIG, {}, chunked);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(r.status).toBe(413);
      expect(body.error.code).toBe('LF_BODY_TOO_LARGE');
      expect(body.error.message).toMatch(/at most 100 KiB .*--max-input/);
    }
    const listed = await cli(['--store', join(dir, 'small-store'), 'list', '--json'], { cwd: dir });
    expect(JSON.parse(listed.stdout)).toEqual([]);
    // A signal's body is no run's input: 64 KiB, on the dashboard with the default --max-input too.
    const signal = await post(
      ui,
      '/api/runs/20261201-000000-aaaaaaaaaaaaa/signal',
      JSON.stringify({ name: 'go', data: { x: 'y'.repeat(70_000) } }),
    );
    expect(signal.status).toBe(413);
    expect(((await signal.json()) as { error: { message: string } }).error.message).toBe(
      'request body over 65536 bytes',
    );
    const anonymous = await fetch(`${ui.base}/api/workflows/scan/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BIG,
    });
    expect(anonymous.status).toBe(401);
    const bad = await cli(['ui', '--max-input', 'lots'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-input lots is not a size');
  }, 60_000);
});

describe.skipIf(noNats)('a large start over HTTP on NATS, by a person signed in to the dashboard', () => {
  const nats = useUsersNats();
  let dir = '';
  let ui: UiProcess | undefined;
  let engineLog = '';
  beforeAll(async () => {
    dir = tempDir('lf-ui-large-nats-');
    writeFileSync(join(dir, 'scan.yaml'), SCAN);
    await nats.start(dir, [
      ['engine', 'L1'],
      ['bob', 'L1'],
    ]);
    expect((await nats.as('engine', ['deploy', 'scan.yaml'])).code).toBe(0);
    const engine = spawnCli(['--nats', nats.url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
    nats.procs.push(engine);
    engine.stderr!.on('data', (d) => (engineLog += d));
    engine.stdout!.on('data', (d) => (engineLog += d));
    await waitFor('the engine to start', () => engineLog.includes('engine'), { timeout: 30_000 });
    ui = await startUiProcess(['--nats', nats.url('engine')], [], { cwd: dir });
  }, 90_000);
  afterAll(async () => {
    await ui?.stop();
  });

  const signIn = async () => {
    const r = await fetch(`${ui!.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'bob', password: 'pw-bob' }),
    });
    expect(r.status).toBe(200);
    const { csrf } = (await r.json()) as { csrf: string };
    return { cookie: r.headers.get('set-cookie')!.split(';')[0]!, 'x-lf-csrf': csrf };
  };

  it("an event over the server's max_payload: 413 saying an event is one message on NATS, nothing published", async () => {
    const files = Array.from({ length: 80_000 }, (_, i) => `/data/file-${i}.csv`); // about 1.7 MB, over 1 MB
    const r = await post(ui!, '/api/events/batch_ready', JSON.stringify({ data: { files } }), await signIn());
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(r.status, JSON.stringify(body)).toBe(413);
    expect(body.error.code).toBe('LF_BODY_TOO_LARGE');
    expect(body.error.message).toMatch(/over this NATS server's max_payload .*one message.*nothing was published/);
  }, 60_000);

  it("bob's 660 KB start is uploaded under his name, recorded as his, kept apart in LF_BLOBS, and runs", async () => {
    const r = await post(ui!, '/api/workflows/scan/start', BIG, await signIn());
    const body = (await r.json()) as { runId: string };
    expect(r.status, `${JSON.stringify(body)}\n${engineLog}`).toBe(200);
    const admin = nats.admin();
    const done = await runReads(admin.store).wait(body.runId, { timeoutMs: 60_000 });
    expect(done.status, engineLog).toBe('COMPLETED');
    expect((done.tasks as Record<string, { output?: unknown }>).report?.output).toEqual({ first: '/data/file-0.csv' });
    const events = await admin.store.read(body.runId);
    const started = events[0]!.data as { input: Record<string, unknown>; source?: { by?: string } };
    expect(started.source?.by).toBe('bob');
    expect(isPayloadRef(started.input.files)).toBe(true);
  }, 120_000);
});

// The same input read by a handler (docs/handlers.md): the task's input names the large field, so the engine keeps it
// apart before it hands the attempt over and the handler is given the value itself.
const COUNT = `workflow:
  id: count_files
  handlers: ./count.mjs
  input:
    required: [files]
  tasks:
    - id: count
      type: SIMPLE
      handler: count
      input: { files: "\${workflow.input.files}" }
`;
const COUNT_MJS = `export default { count: async (input) => ({ n: input.files.length, last: input.files.at(-1) }) };\n`;

describe.skipIf(noNats)('a large start over HTTP on NATS, its field read by a handler', () => {
  const c = useCluster();
  const procs: (LedgerflowProcess | UiProcess)[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await ('kill' in p ? p.kill() : p.stop());
  });

  const startedThroughUi = async (processes: string[][]) => {
    const dir = tempDir('lf-ui-large-handlers-');
    writeFileSync(join(dir, 'count.yaml'), COUNT);
    writeFileSync(join(dir, 'count.mjs'), COUNT_MJS);
    for (const args of processes) {
      const p = spawnLedgerflow(args[0]!, args, { cwd: dir, markers: join(dir, 'markers') });
      procs.push(p);
      await p.started();
    }
    const engine = c.as('engine');
    expect((await cli(['deploy', 'count.yaml', '--nats', engine], { cwd: dir })).code).toBe(0);
    const ui = await startUiProcess(['--nats', engine], [], { cwd: dir });
    procs.push(ui);
    const { username, password } = new URL(engine);
    const signIn = await fetch(`${ui.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: decodeURIComponent(username), password: decodeURIComponent(password) }),
    });
    expect(signIn.status).toBe(200);
    const { csrf } = (await signIn.json()) as { csrf: string };
    const r = await post(ui, '/api/workflows/count_files/start', BIG, {
      cookie: signIn.headers.get('set-cookie')!.split(';')[0]!,
      'x-lf-csrf': csrf,
    });
    const body = (await r.json()) as { runId: string };
    expect(r.status, JSON.stringify(body)).toBe(200);
    const done = await cli(['wait', body.runId, '--timeout', '60s', '--json', '--nats', engine], { cwd: dir });
    const view = JSON.parse(done.stdout) as { status: string; tasks: { count: { output: unknown } } };
    expect(view.status, done.stdout + done.stderr).toBe('COMPLETED');
    expect(view.tasks.count.output).toEqual({ n: 30_000, last: '/data/file-29999.csv' });
    const history = await cli(['history', body.runId, '--json', '--nats', engine], { cwd: dir });
    const events = JSON.parse(history.stdout) as { data: { input?: Record<string, unknown> } }[];
    expect(isPayloadRef(events[0]!.data.input!.files)).toBe(true);
  };

  it('engines running the handlers (engine --handlers)', async () => {
    await startedThroughUi([['engine', '--nats', c.as('engine'), '--handlers', './count.mjs']]);
  }, 120_000);

  it('an engine and a remote worker running them (worker --handlers)', async () => {
    await startedThroughUi([
      ['engine', '--nats', c.as('engine')],
      ['worker', '--nats', c.as('worker'), '--handlers', './count.mjs'],
    ]);
  }, 120_000);
});
