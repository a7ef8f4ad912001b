/**
 * Every route of `ledgerflow ui` on the embedded store as a script uses it,
 * against the real process: definitions (versions, YAML, problems, graph,
 * diff, replay verdict), schedules, triggers, workers, the metrics summary,
 * start from declared inputs, emit against an event type's schema, signal,
 * pause / resume, both SSE streams, and hostile input (none of it may crash
 * the server). One server for the file (restarted once, at the end, to show
 * that a new start means a new token).
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { startUiProcess, type UiProcess } from './ui-helpers.js';
import { waitFor } from '../helpers/wait.js';

let ui: UiProcess;
let dir: string;
let auth: Record<string, string>;

const api = (path: string, init: RequestInit = {}) => fetch(`${ui.base}${path}`, { redirect: 'manual', ...init });
const get = async (path: string) => {
  const r = await api(path, { headers: auth });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
};
const post = async (path: string, body: unknown) => {
  const r = await api(path, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
};
const statusOf = async (id: string) => (await get(`/api/runs/${id}`)).body.run?.status as string | undefined;
const settled = (id: string, want: string) =>
  waitFor(`run ${id} ${want}`, async () => (await statusOf(id)) === want, { timeout: 15_000 });

/** Reads an SSE response until `done` says so (or 15 s pass); returns the events read. */
async function readSse(
  path: string,
  done: (e: { event: string; data: any }) => boolean,
  onReady?: () => Promise<void>,
): Promise<{ event: string; data: any }[]> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 15_000);
  const r = await api(path, { headers: auth, signal: ctl.signal });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
  const seen: { event: string; data: any }[] = [];
  let buf = '';
  try {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += value;
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? 'message';
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.replace(/^data: ?/, ''))
          .join('\n');
        const e = { event, data: data ? JSON.parse(data) : null };
        seen.push(e);
        if (event === 'ready' && onReady) await onReady();
        if (done(e)) return seen;
      }
    }
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
  throw new Error(`stream ${path} ended before the awaited event; saw ${seen.map((e) => e.event).join(', ')}`);
}

const SHAPE = (version: number, lastId: string) => `workflow:
  id: shape
  name: Declared inputs and a flaky task
  version: ${version}
  handlers: ./handlers.mjs
  input:
    required:
      - name: { type: string }
    optional:
      - count: { type: number, default: 1 }
  triggers:
    - event: order_placed
      input: { name: "\${event.data.customer}" }
  tasks:
    - id: first
      type: SIMPLE
    - id: flaky
      type: SIMPLE
      depends_on: [first]
      input: { succeed_on: 2 }
      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 100ms }
    - id: ${lastId}
      type: SIMPLE
      handler: last
      depends_on: [flaky]
`;

/** first (assigned to ops_team), then flaky: fails with succeed_on 2 (one attempt), completes with 1; the output names the tag. */
const BREAKS = `workflow:
  id: breaks
  version: 1
  handlers: ./handlers.mjs
  input:
    optional:
      - succeed_on: { type: number, default: 2 }
      - tag: { type: string, default: none }
  output:
    tag: "\${workflow.input.tag}"
  tasks:
    - id: first
      type: SIMPLE
      handler: first
      assigned_to: ops_team
    - id: flaky
      type: SIMPLE
      depends_on: [first]
      input: { succeed_on: "\${workflow.input.succeed_on}" }
      retry_policy: { max_attempts: 1 }
`;
const METRICS_TOKEN = 'prometheus-scrapes-with-this-token-0123456789';

beforeAll(async () => {
  dir = tempDir('lf-ui-routes-');
  const defs = join(dir, 'defs');
  mkdirSync(defs);
  mkdirSync(join(dir, 'events'));
  for (const f of ['approval.yaml', 'wait-signal.yaml', 'handlers.mjs'])
    copyFileSync(join(ROOT, 'test', 'fixtures', f), join(defs, f));
  writeFileSync(join(defs, 'shape.yaml'), SHAPE(1, 'last'));
  writeFileSync(
    join(defs, 'nightly.yaml'),
    readFileSync(join(defs, 'approval.yaml'), 'utf8')
      .replace('id: approval', 'id: nightly')
      .replace('  tasks:', '  triggers:\n    - schedule: "0 3 * * *"\n      timezone: UTC\n  tasks:'),
  );
  writeFileSync(
    join(defs, 'parent.yaml'),
    'workflow:\n  id: parent\n  version: 1\n  tasks:\n    - { id: child, type: SUB_WORKFLOW, workflow: shape, input: { name: kid } }\n',
  );
  writeFileSync(join(defs, 'breaks.yaml'), BREAKS);
  writeFileSync(
    join(dir, 'events', 'order_placed.yaml'),
    [
      'type: order_placed',
      'schema:',
      '  type: object',
      '  required: [customer, amount]',
      '  properties:',
      '    customer: { type: string }',
      '    amount: { type: number, minimum: 0 }',
    ].join('\n'),
  );
  ui = await startUiProcess(['--store', join(dir, 'store')], ['--definitions', defs], {
    cwd: dir,
    env: { LEDGERFLOW_UI_METRICS_TOKEN: METRICS_TOKEN },
  });
  auth = { authorization: `Bearer ${ui.token}` };
}, 30_000);
afterAll(async () => {
  await ui?.stop();
});

describe('start, definitions, verdict and metrics', () => {
  let v1Run: string;

  it('starts from declared inputs: 400 naming a missing required input, a wrong type or an unknown one; 404 an unknown workflow', async () => {
    const missing = await post('/api/workflows/shape/start', { input: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'LF_INPUT_INVALID', field: 'input.name' });
    expect(missing.body.error.message).toMatch(/name/);
    const wrongType = await post('/api/workflows/shape/start', { input: { name: 'a', count: 'three' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toMatchObject({ field: 'input.count' });
    expect(wrongType.body.error.message).toMatch(/number/);
    const unknown = await post('/api/workflows/shape/start', { input: { name: 'a', colour: 'red' } });
    expect(unknown.body.error).toMatchObject({ field: 'input.colour' });
    expect((await post('/api/workflows/nope/start', { input: {} })).status).toBe(404);
    const ok = await post('/api/workflows/shape/start', { input: { name: 'a' } });
    expect(ok.status).toBe(200);
    v1Run = ok.body.runId;
    await settled(v1Run, 'COMPLETED');
    expect((await get(`/api/runs/${v1Run}/events`)).body.events[0].data.input).toEqual({ name: 'a', count: 1 });
  });

  it('lists definitions with their versions and inputs; one definition with its YAML, problems and graph', async () => {
    const { body } = await get('/api/definitions');
    const shape = body.workflows.find((w: { id: string }) => w.id === 'shape');
    expect(shape).toMatchObject({
      id: 'shape',
      latest: 1,
      versions: [{ version: 1, source: 'file', valid: true, problems: 0 }],
    });
    expect(shape.inputs.map((i: { name: string }) => i.name)).toEqual(['name', 'count']);
    const one = (await get('/api/definitions/shape')).body;
    expect(one).toMatchObject({ id: 'shape', version: 1, versions: [1], source: 'file', problems: [] });
    expect(one.yaml).toContain('id: shape');
    expect(one.graph.edges).toContainEqual({ from: 'first', to: 'flaky', kind: 'depends' });
    expect((await get('/api/definitions/nope')).status).toBe(404);
    expect((await get('/api/definitions/shape?version=7')).status).toBe(404);
  });

  it('a broken file is listed with its problems (file:line:col), the others still load', async () => {
    writeFileSync(
      join(dir, 'defs', 'broken.yaml'),
      'workflow:\n  id: broken\n  version: 1\n  tasks:\n    - id: a\n      type: NOPE\n',
    );
    const { body } = await get('/api/definitions/broken');
    expect(body.definition).toBeNull();
    expect(body.problems.length).toBeGreaterThan(0);
    expect(JSON.stringify(body.problems)).toMatch(/NOPE|type/);
    expect((await get('/api/definitions')).body.workflows.map((w: { id: string }) => w.id)).toContain('shape');
    // Its neighbours still start and their schedules still show; emit skips it (naming it at its line:col) and starts the valid listeners.
    expect((await get('/api/schedules')).status).toBe(200);
    const started = await post('/api/workflows/approval/start', { input: {} });
    expect(started.status).toBe(200);
    await settled(started.body.runId, 'WAITING');
    // (A listener of its own, so the folder's other workflows get no run from it.)
    writeFileSync(
      join(dir, 'defs', 'pinged.yaml'),
      'workflow:\n  id: pinged\n  triggers: [{ event: ping }]\n  tasks:\n    - { id: mark, type: SET, values: { ok: true } }\n',
    );
    const emit = await post('/api/events/ping', { data: {} });
    rmSync(join(dir, 'defs', 'pinged.yaml'));
    expect(emit.status, JSON.stringify(emit.body)).toBe(200);
    expect(emit.body.runs).toEqual([expect.objectContaining({ workflowId: 'pinged' })]);
    expect(emit.body.skipped).toEqual([expect.stringMatching(/broken\.yaml:6:13: error: /)]);
    rmSync(join(dir, 'defs', 'broken.yaml'));
  });

  it('v2 in the folder: both versions listed (v1 from its run), the diff, and the replay verdict naming the diverging event', async () => {
    writeFileSync(join(dir, 'defs', 'shape.yaml'), SHAPE(2, 'final'));
    // v1 is known from its run through the live run index, which follows the store's changes a moment later.
    const one = await waitFor(
      'both versions of shape to be listed',
      async () => {
        const body = (await get('/api/definitions/shape')).body;
        return JSON.stringify(body.versions) === '[2,1]' ? body : undefined;
      },
      { timeout: 15_000 },
    );
    expect(one.versions).toEqual([2, 1]);
    const v1 = (await get('/api/definitions/shape?version=1')).body;
    expect(v1.source).toBe('runs');
    expect(v1.yaml).toMatch(/id: last/);

    const diff = (await get('/api/definitions/shape/diff?from=1&to=2')).body;
    expect(diff).toMatchObject({ from: 1, to: 2 });
    expect(diff.patch).toMatch(/^-.*id: last/m);
    expect(diff.patch).toMatch(/^\+.*id: final/m);
    const badDiff = await get('/api/definitions/shape/diff?from=1&to=9');
    expect(badDiff.status).toBe(400);
    expect(badDiff.body.error.field).toBe('to');

    const verdict = (await get('/api/definitions/shape/verdict?version=2')).body;
    expect(verdict).toMatchObject({ workflowId: 'shape', version: 2, runs: 1, compatible: 0 });
    expect(verdict.incompatible).toHaveLength(1);
    const { runId, version, divergence } = verdict.incompatible[0];
    expect({ runId, version }).toEqual({ runId: v1Run, version: 1 });
    const events = (await get(`/api/runs/${v1Run}/events`)).body.events as { seq: number; type: string }[];
    expect(events.find((e) => e.seq === divergence.seq)?.type).toBe(divergence.type);
    expect(divergence.reason).toEqual(expect.any(String));
    // v1 replays its own runs unchanged.
    expect((await get('/api/definitions/shape/verdict?version=1')).body).toMatchObject({
      runs: 1,
      compatible: 1,
      incompatible: [],
    });
    expect((await get('/api/definitions/shape/verdict')).body.error.field).toBe('version');
  });

  it('start takes a version; the metrics summary counts runs per hour, success rate, p50/p95, retries and the slowest tasks', async () => {
    const v2 = await post('/api/workflows/shape/start', { input: { name: 'b' }, version: 2 });
    expect(v2.status).toBe(200);
    await settled(v2.body.runId, 'COMPLETED');
    expect((await get(`/api/runs/${v2.body.runId}`)).body.run.version).toBe(2);
    expect((await post('/api/workflows/shape/start', { input: { name: 'b' }, version: 5 })).body.error.field).toBe(
      'version',
    );

    // The summary reads the run index, which learns of a settled run from its watch, a moment after the run's own page
    // shows it (1 of 2 completed seen in a whole suite's run): waited for, as the filters below are.
    const summary = async () => (await get('/api/metrics/summary')).body;
    await expect
      .poll(
        async () =>
          (await summary()).workflows.find((w: { workflowId: string }) => w.workflowId === 'shape')?.completed,
        { timeout: 15_000 },
      )
      .toBe(2);
    const m = await summary();
    expect(m.perHour).toHaveLength(24);
    expect(m.perHour.reduce((n: number, h: { started: number }) => n + h.started, 0)).toBeGreaterThanOrEqual(2);
    const shape = m.workflows.find((w: { workflowId: string }) => w.workflowId === 'shape');
    expect(shape).toMatchObject({ runs: 2, completed: 2, failed: 0, successRate: 1, retries: 2 });
    expect(shape.p50Ms).toBeGreaterThanOrEqual(0);
    expect(shape.p95Ms).toBeGreaterThanOrEqual(shape.p50Ms);
    // Slowest first; flaky's time includes the 100 ms backoff it waited out (on a loaded machine another task may
    // take longer still, so the order is checked, not which task tops it).
    const slow = shape.slowestTasks as { task: string; p95Ms: number; samples: number }[];
    expect(slow.map((t) => t.p95Ms)).toEqual(slow.map((t) => t.p95Ms).sort((a, b) => b - a));
    expect(slow.find((t) => t.task === 'flaky')).toMatchObject({ samples: 2, p95Ms: expect.any(Number) });
    expect(slow.find((t) => t.task === 'flaky')!.p95Ms).toBeGreaterThanOrEqual(100);
  });
});

it('a run page lists its child runs, and the child names its parent', async () => {
  const { body } = await post('/api/workflows/parent/start', { input: {} });
  await settled(body.runId, 'COMPLETED');
  // The children come from the run index, which learns of the child's end from its watch, a moment after the parent's page shows it settled.
  await expect
    .poll(async () => (await get(`/api/runs/${body.runId}`)).body.children, { timeout: 15_000 })
    .toMatchObject([{ workflowId: 'shape', status: 'COMPLETED', task: 'child' }]);
  const parent = (await get(`/api/runs/${body.runId}`)).body;
  const child = (await get(`/api/runs/${parent.children[0].runId}`)).body;
  expect(child.parent).toMatchObject({ runId: body.runId });
  expect(child.children).toEqual([]);
});

describe('the run index behind the API, retry from failed, /metrics', () => {
  let failed = '';
  let ok = '';
  const ids = async (qs: string) =>
    (await get(`/api/runs?${qs}`)).body.runs.map((r: { runId: string }) => r.runId) as string[];

  it('filters runs by agent, output text (any case) and trigger: an emitted run by its event id', async () => {
    failed = (await post('/api/workflows/breaks/start', { input: { tag: 'Needle-42' } })).body.runId;
    await settled(failed, 'FAILED');
    ok = (await post('/api/workflows/breaks/start', { input: { succeed_on: 1, tag: 'Needle-42' } })).body.runId;
    await settled(ok, 'COMPLETED');
    // The index learns of a settled run from its watch, a moment after the run's own page shows it.
    await expect.poll(() => ids('agent=ops_team'), { timeout: 15_000 }).toEqual([ok, failed]);
    // Listed is not yet settled in the index: its record of the end (status, output) follows the same watch.
    await expect.poll(() => ids('outputContains=needle-42'), { timeout: 15_000 }).toEqual([ok]);
    await expect.poll(() => ids('agent=ops_team&status=failed'), { timeout: 15_000 }).toEqual([failed]);
    const emitted = await post('/api/events/order_placed', { data: { customer: 'c9', amount: 1 }, id: 'order-filter' });
    const runId = emitted.body.runs[0].runId as string;
    // The index follows runs/: the new run is on the page once the watch has told it (no query stats the store).
    await waitFor(
      'the emitted run in the index',
      async () => (await ids('trigger=event:order-filter')).includes(runId),
      { timeout: 15_000 },
    );
    expect((await get(`/api/runs/${runId}`)).body.record.trigger).toMatchObject({ kind: 'event', id: 'order-filter' });
  });

  it('POST /api/runs/:id/retry: a new run reusing the completed outputs, linked both ways; 409 on a COMPLETED run', async () => {
    const r = await post(`/api/runs/${failed}/retry`, {});
    expect(r.status).toBe(200);
    const retried = r.body.runId as string;
    expect(retried).not.toBe(failed);
    await settled(retried, 'FAILED'); // flaky fails again: only it ran
    const events = (await get(`/api/runs/${retried}/events`)).body.events as { type: string; data: any }[];
    expect(events.find((e) => e.type === 'task.completed' && e.data.task === 'first')?.data.reused).toEqual({
      runId: failed,
    });
    expect(events.filter((e) => e.type === 'task.started').map((e) => [e.data.task, e.data.reused ?? null])).toEqual([
      ['first', { runId: failed }],
      ['flaky', null],
    ]);
    const page = (await get(`/api/runs/${retried}`)).body;
    expect(page.retryOf).toEqual({ runId: failed });
    expect(page.record.trigger).toEqual({ kind: 'retry', runId: failed });
    await waitFor(
      'the old run to list its retry',
      async () => (await get(`/api/runs/${failed}`)).body.retries.length === 1,
      { timeout: 15_000 },
    );
    expect((await get(`/api/runs/${failed}`)).body.retries).toEqual([
      expect.objectContaining({ runId: retried, workflowId: 'breaks', status: 'FAILED' }),
    ]);
    expect(await ids(`trigger=retry:${failed}`)).toEqual([retried]);
    const refused = await post(`/api/runs/${ok}/retry`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('LF_RETRY_REFUSED');
  });

  it('/metrics: the Prometheus text of the runs this UI drove, with the UI token or the scraper token (which opens nothing else); 401 without', async () => {
    const r = await api('/metrics', { headers: auth });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toMatch(/^ledgerflow_runs_failed_total\{workflow="breaks"\} [1-9]/m);
    expect(text).toMatch(/^ledgerflow_task_attempts_total\{workflow="breaks",task="flaky"\} [1-9]/m);
    const scraper = { authorization: `Bearer ${METRICS_TOKEN}` };
    expect((await api('/metrics', { headers: scraper })).status).toBe(200);
    expect((await api('/api/runs', { headers: scraper })).status).toBe(401);
    expect((await api('/metrics')).status).toBe(401);
  });
});

describe('schedules, triggers, workers', () => {
  it('lists what fires when', async () => {
    const { body } = await get('/api/schedules');
    const nightly = body.schedules.find((s: { workflowId: string }) => s.workflowId === 'nightly');
    expect(nightly).toMatchObject({ workflowId: 'nightly', cron: '0 3 * * *', timezone: 'UTC' });
    expect(JSON.stringify(nightly)).toMatch(/T03:00:00/);
    const triggers = (await get('/api/triggers')).body.triggers;
    expect(triggers).toContainEqual(
      expect.objectContaining({ workflowId: 'shape', kind: 'event', event: 'order_placed' }),
    );
    expect(triggers).toContainEqual(
      expect.objectContaining({ workflowId: 'nightly', kind: 'schedule', cron: '0 3 * * *' }),
    );
    const workers = (await get('/api/workers')).body;
    expect(workers).toMatchObject({ mode: 'embedded', workers: [], queues: [] });
    expect(workers.service.pid).toEqual(expect.any(Number));
  });

  it('lists the circuit breakers and their states, as limits show --json does', async () => {
    expect((await get('/api/breakers')).body).toEqual({ breakers: [] });
    const opened = await cli(['--store', join(dir, 'store'), 'breaker', 'open', 'queue/payments'], { cwd: dir });
    expect(opened.code, opened.stderr).toBe(0);
    expect((await get('/api/breakers')).body).toEqual({
      breakers: [{ name: 'queue/payments', state: 'open', failures: 0, openedAt: expect.any(String), by: 'operator' }],
    });
    expect((await cli(['--store', join(dir, 'store'), 'breaker', 'close', 'queue/payments'], { cwd: dir })).code).toBe(
      0,
    );
    expect((await get('/api/breakers')).body.breakers).toMatchObject([{ name: 'queue/payments', state: 'closed' }]);
    // The page's buttons: POST /api/breakers/open|close, as the CLI's breaker open|close.
    expect((await post('/api/breakers/open', { name: 'queue/payments' })).body).toMatchObject({
      breaker: { name: 'queue/payments', state: 'open', by: 'operator' },
    });
    expect((await get('/api/breakers')).body.breakers).toMatchObject([{ name: 'queue/payments', state: 'open' }]);
    expect((await post('/api/breakers/close', { name: 'queue/payments' })).body).toMatchObject({
      breaker: { state: 'closed' },
    });
    const bad = await post('/api/breakers/open', { name: '../etc' });
    expect([bad.status, bad.body.error.field]).toEqual([400, 'name']);
  });
});

describe('emit, signal, pause, resume, SSE', () => {
  it('emit: a payload that breaks the event type schema is a 400 naming the field; a good one starts the workflow', async () => {
    const bad = await post('/api/events/order_placed', { data: { customer: 'c1', amount: -5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'LF_INPUT_INVALID', field: 'data.amount' });
    const missing = await post('/api/events/order_placed', { data: { amount: 5 } });
    expect(missing.body.error.field).toBe('data.customer');
    const unknownType = await post('/api/events/no_such_type', { data: {} });
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.error.message).toMatch(/unknown event type/);
    const ok = await post('/api/events/order_placed', { data: { customer: 'c2', amount: 5 }, id: 'order-1' });
    expect(ok.status).toBe(200);
    expect(ok.body.runs).toHaveLength(1);
    expect(ok.body.runs[0]).toMatchObject({ workflowId: 'shape' });
    await settled(ok.body.runs[0].runId, 'COMPLETED');
    expect((await get(`/api/runs/${ok.body.runs[0].runId}/events`)).body.events[0].data.input).toMatchObject({
      name: 'c2',
    });
  });

  it('the run stream delivers the events of a run as it moves (signal → COMPLETED); a signal nobody waits for is a 409', async () => {
    const { body } = await post('/api/workflows/wait_signal/start', { input: {} });
    const runId = body.runId as string;
    await settled(runId, 'WAITING');
    const seen = await readSse(
      `/api/runs/${runId}/stream`,
      // A run completes with the commit whose state says COMPLETED (there is no run.completed event type).
      (e) => e.event === 'events' && e.data.some((x: { state: { status: string } }) => x.state.status === 'COMPLETED'),
      async () => {
        expect((await post(`/api/runs/${runId}/signal`, { name: 'go_ahead', data: { ok: true } })).status).toBe(200);
      },
    );
    const types = seen.filter((e) => e.event === 'events').flatMap((e) => e.data.map((x: { type: string }) => x.type));
    expect(types[0]).toBe('signal.received');
    expect(types).toContain('task.completed');
    expect(seen.find((e) => e.event === 'record')?.data.runId).toBe(runId); // each batch is followed by the run's record
    const again = await post(`/api/runs/${runId}/signal`, { name: 'go_ahead' });
    expect(again.status).toBe(409);
    expect((await post(`/api/runs/${runId}/signal`, { name: '' })).body.error.field).toBe('name');
  });

  it('/api/stream pushes a record when a run starts', async () => {
    let runId = '';
    await readSse(
      '/api/stream',
      (e) => e.event === 'record' && e.data.runId === runId,
      async () => {
        runId = (await post('/api/workflows/approval/start', { input: {} })).body.runId;
      },
    );
    expect(runId).not.toBe('');
  });

  it('pause and resume: 200 and the status; 409 saying why on a second pause, a resume of a running run, a settled run', async () => {
    const { body } = await post('/api/workflows/approval/start', { input: {} });
    const runId = body.runId as string;
    await settled(runId, 'WAITING');
    const paused = await post(`/api/runs/${runId}/pause`, { reason: 'look first' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ runId, recorded: true, status: 'PAUSED' });
    const twice = await post(`/api/runs/${runId}/pause`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/already paused|PAUSED/i);
    // A resume records who, not why (run.resumed has no reason): a reason is refused, not dropped.
    const withReason = await post(`/api/runs/${runId}/resume`, { reason: 'done looking' });
    expect(withReason.status).toBe(400);
    expect(withReason.body.error).toMatchObject({ code: 'LF_INPUT_INVALID', field: 'reason' });
    const resumed = await post(`/api/runs/${runId}/resume`, {});
    expect(resumed.status).toBe(200);
    expect(resumed.body.status).toBe('WAITING');
    const notPaused = await post(`/api/runs/${runId}/resume`, {});
    expect(notPaused.status).toBe(409);
    expect(notPaused.body.error.message).toMatch(/not paused/);
    await post(`/api/runs/${runId}/cancel`, {});
    const settledPause = await post(`/api/runs/${runId}/pause`, {});
    expect(settledPause.status).toBe(409);
    expect(settledPause.body.error.message).toMatch(/CANCELLED/);
  });
});

describe('hostile input', () => {
  const answers = async () => expect((await get('/api/session')).status).toBe(200);

  it('an over-long run id, a path traversal in :id and odd characters are 400s naming the id, never a file read', async () => {
    for (const id of ['x'.repeat(5000), '..%2F..%2Fetc%2Fpasswd', '..%2F', 'a%00b', 'a.b']) {
      for (const path of [
        `/api/runs/${id}`,
        `/api/runs/${id}/events`,
        `/api/runs/${id}/stream`,
        `/api/runs/${id}/at/1`,
        `/api/runs/${id}/statechart`,
      ]) {
        const r = await get(path);
        expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(400);
        expect(r.body.error.field).toBe('id');
      }
      expect((await post(`/api/runs/${id}/cancel`, {})).status).toBe(400);
    }
    const page = await api('/runs/..%2F..%2Fetc%2Fpasswd', { headers: auth });
    expect(page.status).toBe(404);
    expect(await page.text()).not.toMatch(/root:/);
    await answers();
  });

  it('a huge or negative limit, an unknown filter, a bad cursor: 400 naming it', async () => {
    for (const [q, field] of [
      ['limit=1e308', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=99999999999999999999999', 'limit'],
      ['cursor=abc', 'cursor'],
      ['before=abc', 'before'],
      ['bogus=1', 'bogus'],
      ['since=yesterday', 'since'],
      ['status=DONE', 'status'],
    ]) {
      const r = await get(`/api/runs?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.field, q).toBe(field);
    }
    const page = await get('/api/runs?limit=1');
    expect(page.body.prevCursor).toBeNull();
    const at = Buffer.from(JSON.stringify(['n', '2026-01-01T00:00:00.000Z', 'some-run'])).toString('base64url');
    const both = await get(`/api/runs?cursor=${at}&before=${at}`);
    expect([both.status, both.body.error.field]).toEqual([400, 'before']);
    expect((await get('/api/runs?limit=500')).status).toBe(200);
    await answers();
  });

  it('a non-JSON body sent as JSON, a JSON body that is no object, unknown fields in every action body: 400 naming them', async () => {
    const { body } = await post('/api/workflows/approval/start', { input: {} });
    const runId = body.runId as string;
    for (const text of ['{not json', '[1,2]', '"text"', 'null', '{"task":']) {
      const r = await post(`/api/runs/${runId}/approve`, text);
      expect(r.status, text).toBe(400);
      expect(r.body.error.code).toBe('LF_INPUT_INVALID');
    }
    const unknown: [string, Record<string, unknown>][] = [
      ['approve', { task: 'sign_off', by: 'eve' }],
      ['reject', { task: 'sign_off', extra: 1 }],
      ['signal', { name: 'x', extra: 1 }],
      ['cancel', { extra: 1 }],
      ['pause', { extra: 1 }],
      ['resume', { extra: 1 }],
      ['retry', { extra: 1 }],
    ];
    for (const [action, b] of unknown) {
      const r = await post(`/api/runs/${runId}/${action}`, b);
      expect(r.status, action).toBe(400);
      expect(r.body.error.field, action).toBe(Object.keys(b).at(-1));
      expect(r.body.error.message).toMatch(/unknown field/);
    }
    expect((await post('/api/workflows/approval/start', { input: {}, inputs: {} })).body.error.field).toBe('inputs');
    expect((await post('/api/events/order_placed', { data: {}, type: 'x' })).body.error.field).toBe('type');
    expect((await post('/api/session', { user: 'a', password: 'b', admin: true })).status).toBe(400);
    await answers();
  });

  it('a restarted UI has a new token: the old token and the old cookie are 401; it still answers', async () => {
    const r = await api(`/?token=${ui.token}`);
    const cookie = r.headers.get('set-cookie')!.split(';')[0]!;
    expect((await api('/api/runs', { headers: { cookie } })).status).toBe(200);
    const oldToken = ui.token!;
    await ui.stop();
    ui = await startUiProcess(['--store', join(dir, 'store')], ['--definitions', join(dir, 'defs')], { cwd: dir });
    expect(ui.token).not.toBe(oldToken);
    const byCookie = await api('/api/runs', { headers: { cookie } });
    expect(byCookie.status).toBe(401);
    expect(((await byCookie.json()) as { error: { code: string } }).error.code).toBe('LF_UNAUTHORIZED');
    expect((await api('/api/runs', { headers: { authorization: `Bearer ${oldToken}` } })).status).toBe(401);
    expect((await api(`/?token=${oldToken}`)).status).toBe(401);
    auth = { authorization: `Bearer ${ui.token}` };
    await answers();
    expect(ui.child.exitCode).toBeNull();
  }, 30_000);
});
