/**
 * `ledgerflow ui` on the embedded store, over HTTP against the real process:
 * auth (token, cookie, CSRF), the refusals of bad input, and actions that the
 * UI's own Service acts on. One server for the whole file.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { startUiProcess, type UiProcess } from './ui-helpers.js';
import { waitFor } from '../helpers/wait.js';

let ui: UiProcess;
let store: string;
let auth: Record<string, string>;

const api = (path: string, init: RequestInit = {}) => fetch(`${ui.base}${path}`, { redirect: 'manual', ...init });
const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
  api(path, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const json = async (r: Response) => (await r.json()) as Record<string, any>;
const runOf = async (id: string) =>
  (await json(await api(`/api/runs/${id}`, { headers: auth }))).run as {
    status: string;
    tasks: Record<string, { status: string }>;
  };

/** Starts a run of approval.yaml through the API and waits until the Service has it waiting for sign_off. */
async function waitingRun(): Promise<string> {
  const r = await post('/api/workflows/approval/start', { input: {} });
  expect(r.status).toBe(200);
  const { runId } = await json(r);
  await waitFor(`run ${runId} WAITING`, async () => (await runOf(runId)).status === 'WAITING', { timeout: 15_000 });
  return runId;
}

beforeAll(async () => {
  const dir = tempDir('lf-ui-');
  mkdirSync(join(dir, 'defs'));
  copyFileSync(join(ROOT, 'test', 'fixtures', 'approval.yaml'), join(dir, 'defs', 'approval.yaml'));
  copyFileSync(join(ROOT, 'test', 'fixtures', 'handlers.mjs'), join(dir, 'defs', 'handlers.mjs'));
  copyFileSync(join(ROOT, 'test', 'fixtures', 'run-timeout', 'sign-off.yaml'), join(dir, 'defs', 'sign-off.yaml'));
  // docs/limits.md#concurrency-limits-and-priority: one run at a time, a person holding the slot.
  writeFileSync(
    join(dir, 'defs', 'one-at-a-time.yaml'),
    'workflow:\n  id: one-at-a-time\n  version: 1\n  concurrency: { limit: 1 }\n  tasks:\n    - { id: sign_off, type: HUMAN, approvers: [alice] }\n',
  );
  store = join(dir, 'store');
  ui = await startUiProcess(['--store', store], ['--definitions', join(dir, 'defs')], { cwd: dir });
  auth = { authorization: `Bearer ${ui.token}` };
}, 30_000);
afterAll(async () => {
  await ui?.stop();
});

describe('ledgerflow ui on the embedded store', () => {
  it("shows a run's timeout (docs/runs.md#run-timeouts): the deadline while it waits, then the LF_RUN_TIMEOUT error once the UI's Service fired it", async () => {
    const r = await post('/api/workflows/sign-off/start', { input: {} });
    expect(r.status).toBe(200);
    const { runId } = await json(r);
    const run = async () => (await json(await api(`/api/runs/${runId}`, { headers: auth }))).run as Record<string, any>;
    const waiting = await run();
    expect(waiting.timeout).toEqual({
      after: '3s',
      deadline: new Date(Date.parse(waiting.startedAt) + 3000).toISOString(),
      policy: 'cancel',
    });
    await waitFor(`run ${runId} CANCELLED`, async () => (await run()).status === 'CANCELLED', { timeout: 20_000 });
    expect((await run()).error).toMatchObject({ code: 'LF_RUN_TIMEOUT' });
  });

  it('prints a 127.0.0.1 URL with a 32-byte token', () => {
    expect(ui.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ui.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses requests without the token or with a wrong one (401), page and API alike', async () => {
    expect((await api('/api/runs')).status).toBe(401);
    const wrong = await api('/api/runs', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    // The body names the store, so the page knows to ask for the token URL (not a sign-in) without reading the message.
    expect(await json(wrong)).toMatchObject({ error: { code: 'LF_UNAUTHORIZED' }, mode: 'embedded' });
    expect((await api('/')).status).toBe(401);
    expect((await api('/?token=wrong')).status).toBe(401);
  });

  it('?token= sets an HttpOnly SameSite=Strict cookie and redirects without it; cookie requests need X-LF-CSRF', async () => {
    const r = await api(`/runs?token=${ui.token}`);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/runs');
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const jar = { cookie: cookie.split(';')[0]! };
    expect((await api('/api/runs', { headers: jar })).status).toBe(200);
    const { csrf } = await json(await api('/api/session', { headers: jar }));
    expect(csrf).toMatch(/^[0-9a-f]{64}$/);
    const runId = await waitingRun();
    // With the cookie but no CSRF header: refused, nothing recorded.
    const refused = await post(`/api/runs/${runId}/cancel`, {}, jar);
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.code).toBe('LF_CSRF');
    expect((await runOf(runId)).status).toBe('WAITING');
    const ok = await post(`/api/runs/${runId}/cancel`, { reason: 'test' }, { ...jar, 'x-lf-csrf': csrf });
    expect(ok.status).toBe(200);
    expect((await runOf(runId)).status).toBe('CANCELLED');
  });

  it('refuses bad bodies: 415 not JSON, 413 over 64 KiB, 400 naming the field', async () => {
    const notJson = await api('/api/runs/x/cancel', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(notJson.status).toBe(415);
    const big = await post('/api/runs/x/cancel', { reason: 'x'.repeat(70 * 1024) });
    expect(big.status).toBe(413);
    const bad = await post('/api/runs/x/approve', { task: 5 });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.field).toBe('task');
    const extra = await post('/api/runs/x/approve', { task: 'a', nope: 1 });
    expect((await json(extra)).error.field).toBe('nope');
    const query = await api('/api/runs?limit=9999', { headers: auth });
    expect(query.status).toBe(400);
    expect((await json(query)).error.field).toBe('limit');
  });

  it('an unknown run is a 404: JSON on the API, an HTML page (no stack trace) for its page', async () => {
    const r = await api('/api/runs/no-such-run', { headers: auth });
    expect(r.status).toBe(404);
    expect((await json(r)).error.code).toBe('LF_RUN_NOT_FOUND');
    const page = await api('/runs/no-such-run', { headers: auth });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it("approve through the API moves a waiting run to COMPLETED (the UI's Service drives it); then cancel is a 409 saying why", async () => {
    const runId = await waitingRun();
    const wrong = await post(`/api/runs/${runId}/approve`, { task: 'sign_off', as: 'mallory' });
    expect(wrong.status).toBe(403); // not an approver: forbidden (and the refusal recorded)
    expect((await json(wrong)).error).toMatchObject({
      code: 'LF_APPROVAL_REFUSED',
      message: expect.stringMatching(/mallory may not decide task sign_off/),
    });
    const r = await post(`/api/runs/${runId}/approve`, {
      task: 'sign_off',
      comment: 'ok <script>alert(1)</script>',
      as: 'alice',
    });
    expect(r.status).toBe(200);
    await waitFor(`run ${runId} COMPLETED`, async () => (await runOf(runId)).status === 'COMPLETED', {
      timeout: 15_000,
    });
    const cancel = await post(`/api/runs/${runId}/cancel`, {});
    expect(cancel.status).toBe(409);
    expect((await json(cancel)).error.message).toMatch(/already COMPLETED/);

    // The history records it as the CLI would: approval.recorded by alice with the comment, returned as JSON text.
    const events = (await json(await api(`/api/runs/${runId}/events`, { headers: auth }))).events as {
      seq: number;
      type: string;
      data: any;
      state: { status: string };
    }[];
    const decided = events.find((e) => e.type === 'approval.recorded' && e.data.decision === 'approved');
    expect(decided?.data).toMatchObject({ task: 'sign_off', by: 'alice', comment: 'ok <script>alert(1)</script>' });

    // Time travel: the run as it was after its first event.
    const at1 = await json(await api(`/api/runs/${runId}/at/1`, { headers: auth }));
    expect(at1.run.seq).toBe(1);
    expect(at1.run.status).toBe('RUNNING');
    expect(at1.run.tasks.last.status).not.toBe('COMPLETED');
    expect((await api(`/api/runs/${runId}/at/9999`, { headers: auth })).status).toBe(404);

    // The page's data: the graph, the record, and the runs list.
    const detail = await json(await api(`/api/runs/${runId}`, { headers: auth }));
    expect(detail.graph.edges).toContainEqual({ from: 'first', to: 'sign_off', kind: 'depends' });
    expect(detail.record.status).toBe('COMPLETED');
    // The runs list comes from the live run index, which follows the store's changes a moment later.
    await waitFor(
      `run ${runId} listed as COMPLETED`,
      async () => {
        const list = await json(await api('/api/runs?workflow=approval&status=completed', { headers: auth }));
        return list.runs.some((x: { runId: string }) => x.runId === runId);
      },
      { timeout: 15_000 },
    );
  });

  it('a start with a runId twice makes one run: the second answer is existing: true with its status; a bad runId or idReuse is a 400, nothing started', async () => {
    const first = await post('/api/workflows/approval/start', { input: {}, runId: 'http-order-1' });
    expect(first.status).toBe(200);
    expect(await json(first)).toEqual({ runId: 'http-order-1', status: 'RUNNING' });
    const again = await post('/api/workflows/approval/start', { input: {}, runId: 'http-order-1' });
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ runId: 'http-order-1', existing: true });
    // The run list is the run index, which takes a new run's first commit as it lands (not in the start's answer).
    const runs = await waitFor(
      'the run listed',
      async () => {
        const listed = (await json(await api('/api/runs', { headers: auth }))).runs as { runId: string }[];
        return listed.some((r) => r.runId === 'http-order-1') ? listed : undefined;
      },
      { timeout: 15_000 },
    );
    expect(runs.filter((r) => r.runId.startsWith('http-order-1'))).toHaveLength(1);

    for (const [body, field] of [
      [{ input: {}, runId: 'bad id' }, 'runId'],
      [{ input: {}, runId: 'x--2' }, 'runId'],
      [{ input: {}, runId: 'http-ok', idReuse: 'sometimes' }, 'idReuse'],
      [{ input: {}, idReuse: 'allow' }, 'idReuse'],
    ] as const) {
      const r = await post('/api/workflows/approval/start', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((await json(r)).error).toMatchObject({ code: 'LF_INPUT_INVALID', field });
    }
    expect((await api('/api/runs/http-ok', { headers: auth })).status).toBe(404);
  });

  it('downloads the compiled statechart as an attachment', async () => {
    const runs = await waitFor(
      'a run listed',
      async () => {
        const page = await json(await api('/api/runs?limit=1', { headers: auth }));
        return page.runs.length > 0 ? (page.runs as { runId: string }[]) : undefined;
      },
      { timeout: 15_000 },
    );
    const r = await api(`/api/runs/${runs[0]!.runId}/statechart`, { headers: auth });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toMatch(/attachment; filename="approval-v1\.statechart\.json"/);
    expect(((await r.json()) as { id: string }).id).toBe('approval');
  });
  it('a start with a priority records it (status --json shows the run\'s queue); 100, -1 and "x" are a 400 naming priority, nothing started', async () => {
    const holder = await json(await post('/api/workflows/one-at-a-time/start', { input: {} }));
    expect(holder.status).not.toBe('QUEUED');
    const r = await post('/api/workflows/one-at-a-time/start', { input: {}, priority: 7 });
    expect(r.status).toBe(200);
    const { runId, status } = await json(r);
    expect(status).toBe('QUEUED');
    const shown = await cli(['--store', store, 'status', runId, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'QUEUED', queue: { priority: 7, limit: 1, key: null } });
    expect((await cli(['--store', store, 'status', runId])).stdout).toMatch(
      /queued for a concurrency slot .* \(priority 7, limit 1\), not admitted yet/,
    );
    expect(
      ((await json(await api(`/api/runs/${runId}`, { headers: auth }))).run as { queue?: unknown }).queue,
    ).toMatchObject({ priority: 7 });

    for (const priority of [100, -1, 'x', 1.5]) {
      const bad = await post('/api/workflows/one-at-a-time/start', { input: {}, priority });
      expect(bad.status, String(priority)).toBe(400);
      expect((await json(bad)).error).toMatchObject({ code: 'LF_INPUT_INVALID', field: 'priority' });
    }
    // Nothing started by the refused ones: the workflow has the two runs above, no more.
    const listed = await cli(['--store', store, 'list', '--workflow', 'one-at-a-time', '--json']);
    expect((JSON.parse(listed.stdout) as { runId: string }[]).map((x) => x.runId).sort()).toEqual(
      [holder.runId, runId].sort(),
    );
  });

  it("an error the store raises names no place on the server's disk: a corrupt run log is reported under <store>/", async () => {
    const runId = await waitingRun();
    const file = join(store, 'runs', `${runId}.jsonl`);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[0] = '{not json';
    writeFileSync(file, lines.join('\n'));
    const r = await api(`/api/runs/${runId}/events`, { headers: auth });
    const text = await r.text();
    expect(r.status, text).toBeGreaterThanOrEqual(400);
    expect(text).toContain(`<store>/runs/${runId}.jsonl`);
    expect(text).not.toContain(store);
  });

  it('a start of a workflow no definition has is a 404 that names the workflow, not the folder served', async () => {
    const r = await post('/api/workflows/no-such-flow/start', { input: {} });
    expect(r.status).toBe(404);
    const { error } = await json(r);
    expect(error).toMatchObject({ code: 'LF_DEFINITION_NOT_FOUND' });
    expect(error.message).toBe(
      'no workflow no-such-flow with a valid definition in the definitions folder or in recorded runs',
    );
  });
});
