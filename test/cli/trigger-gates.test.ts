/**
 * Debounce and throttle as docs/triggers.md#debounce-and-throttle tells a
 * user to try them on the embedded store: `ledgerflow serve` running,
 * `ledgerflow emit` bursts from other processes, `ledgerflow triggers` to see
 * what was merged, queued, dropped. The same YAML as the docs.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { FileEventStore } from '../../src/store/index.js';
import { runIdForEvent } from '../../src/triggers/index.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const T = 90_000;

/** The docs' debounce example (test/cli/trigger-gates.lead_followup.yaml; outside test/fixtures, whose corpus wants longer runs), shared by the file-store and NATS tests. */
const LEADS = readFileSync(new URL('./trigger-gates.lead_followup.yaml', import.meta.url), 'utf8');

const ORDERS = (limit: number, per: string, onLimit: string) => `
workflow:
  id: order_sync
  input:
    required: [order_id]
  triggers:
    - event: order_placed
      input: { order_id: "\${event.data.order_id}" }
      throttle: { limit: ${limit}, per: ${per}, key: "\${event.data.customer}", on_limit: ${onLimit} }
  tasks:
    - { id: note, type: SET, values: { order: "\${workflow.input.order_id}" } }
`;

function place(files: Record<string, string>): { cwd: string; store: string } {
  const cwd = tempDir('lf-gates-');
  mkdirSync(join(cwd, 'definitions'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(cwd, 'definitions', name), text);
  return { cwd, store: join(cwd, '.ledgerflow') };
}

/** `ledgerflow serve` in the project, killed when the test that started it ends (the tests run side by side). */
function serve(
  p: { cwd: string },
  ctx: TestContext,
): { child: ChildProcess; stderr: () => string; serving: Promise<unknown> } {
  const child = spawnCli(['serve', '--json'], { cwd: p.cwd });
  ctx.onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const serving = waitFor('serve to serve', () => out.includes('"kind":"serving"'), { timeout: T, detail: () => err });
  return { child, stderr: () => err, serving };
}

async function runs(store: string): Promise<{ runId: string; workflowId: string; status: string }[]> {
  return (await new FileEventStore(store).listRuns()).map((r) => ({
    runId: r.runId,
    workflowId: r.workflowId,
    status: r.status,
  }));
}

async function emit(
  p: { cwd: string },
  type: string,
  id: string,
  data: object,
): Promise<{ gated: { decision: string; runId?: string; reason?: string }[]; runs: { runId: string }[] }> {
  const r = await cli(['emit', type, '--id', id, '--data', JSON.stringify(data), '--json'], { cwd: p.cwd });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function triggers(
  p: { cwd: string },
  ...args: string[]
): Promise<{
  waiting: { kind: string; key: string; events: number }[];
  decisions: {
    decision: string;
    eventId: string;
    runId?: string;
    count?: number;
    absorbed?: string[];
    reason?: string;
  }[];
}> {
  const r = await cli(['triggers', '--json', ...args], { cwd: p.cwd });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** How often a test reads the store while it waits for a gate to fire (a gate is ticked once a second). */
const POLL = 200;

// The tests run side by side (each in a project of its own): most of their time is a debounce period or a
// throttle window passing.
describe.concurrent('debounce and throttle on the embedded store (ledgerflow serve + emit)', () => {
  it("debounce: a burst of three lead_created starts one run with the last event's data, also when serve is killed -9 while the burst waits", async (ctx) => {
    const p = place({ 'lead_followup.yaml': LEADS });
    const first = serve(p, ctx);
    await first.serving;
    for (const [id, score] of [
      ['e1', 10],
      ['e2', 40],
      ['e3', 90],
    ] as const) {
      const out = await emit(p, 'lead_created', id, { lead_id: 'L-7', score });
      expect(out.gated).toEqual([
        expect.objectContaining({ decision: 'debounced', runId: runIdForEvent(id, 'lead_followup') }),
      ]);
      expect(out.runs).toEqual([]);
    }
    // Another lead is a burst of its own.
    await emit(p, 'lead_created', 'f1', { lead_id: 'L-8', score: 5 });
    const waiting = await triggers(p);
    expect(waiting.waiting.map((w) => [w.kind, w.key, w.events])).toEqual([
      ['debounce', 'L-7', 3],
      ['debounce', 'L-8', 1],
    ]);
    expect(await runs(p.store)).toEqual([]);

    // The pending bursts live in <store>/triggers/, not in serve: kill it and start another.
    first.child.kill('SIGKILL');
    const second = serve(p, ctx);
    const lead7 = runIdForEvent('e3', 'lead_followup');
    await waitFor(
      "the L-7 burst's run to complete",
      async () => (await runs(p.store)).some((r) => r.runId === lead7 && r.status === 'COMPLETED'),
      { timeout: T, interval: POLL, detail: second.stderr },
    );
    await waitFor("the L-8 burst's run", async () => (await runs(p.store)).length === 2, {
      timeout: T,
      interval: POLL,
      detail: second.stderr,
    });
    expect((await runs(p.store)).map((r) => r.runId).sort()).toEqual(
      [lead7, runIdForEvent('f1', 'lead_followup')].sort(),
    );

    const log = await cli(['history', lead7], { cwd: p.cwd });
    expect(log.stdout).toContain(
      'input {"lead_id":"L-7","score":90}  (event e3)  (debounce triggers[0] key L-7: last of 3 events, merged e1, e2)',
    );
    const status = JSON.parse((await cli(['status', lead7, '--json'], { cwd: p.cwd })).stdout);
    expect(status.status).toBe('COMPLETED');
    // status says which trigger started it and the events it stands for (the same shape on NATS: nats-trigger-gates.test.ts).
    expect(status.gate).toEqual({
      kind: 'debounce',
      trigger: 0,
      key: 'L-7',
      count: 3,
      absorbed: ['e1', 'e2'],
      event: 'e3',
      firstAt: expect.any(String),
    });
    const said = await cli(['status', lead7], { cwd: p.cwd });
    expect(said.stdout).toContain(
      'started by event e3 through debounce triggers[0] key L-7: stands for 3 events, the first of them came ',
    );
    expect(said.stdout).toContain('; merged e1, e2');
    const { decisions } = await triggers(p, '--workflow', 'lead_followup');
    expect(
      decisions
        .filter((d) => d.decision !== 'started' || d.eventId !== 'f1')
        .map((d) => [d.decision, d.eventId, d.runId]),
    ).toEqual([
      ['merged', 'e1', lead7],
      ['merged', 'e2', lead7],
      ['started', 'e3', lead7],
    ]);
    expect(decisions.find((d) => d.eventId === 'e3')).toMatchObject({ count: 3, absorbed: ['e1', 'e2'] });
    // A redelivered event of the burst starts nothing.
    const again = await emit(p, 'lead_created', 'e2', { lead_id: 'L-7', score: 40 });
    expect(again.gated[0]!.decision).toBe('duplicate');
  }, 240_000);

  it('throttle, on_limit: queue: two start at once, the rest wait and start in arrival order as the window allows', async (ctx) => {
    const p = place({ 'order_sync.yaml': ORDERS(2, '8s', 'queue') });
    const s = serve(p, ctx);
    await s.serving;
    // Four emits at once (a burst): which arrives first is the lock's to say, so the test reads the order from the decision log.
    const outs = await Promise.all(
      ['o1', 'o2', 'o3', 'o4'].map((id) => emit(p, 'order_placed', id, { order_id: id, customer: 'acme' })),
    );
    expect(outs.map((o) => o.gated[0]!.decision).sort()).toEqual(['queued', 'queued', 'started', 'started']);
    const queued = outs.filter((o) => o.gated[0]!.decision === 'queued');
    expect(queued.every((o) => o.runs.length === 0)).toBe(true);
    const all = ['o1', 'o2', 'o3', 'o4'].map((id) => runIdForEvent(id, 'order_sync'));
    await waitFor(
      'four runs completed',
      async () => (await runs(p.store)).filter((r) => r.status === 'COMPLETED').length === 4,
      { timeout: T, interval: POLL, detail: s.stderr },
    );
    expect((await runs(p.store)).map((r) => r.runId).sort()).toEqual([...all].sort());
    const { decisions, waiting } = await triggers(p);
    expect(waiting).toEqual([]);
    const queuedOrder = decisions.filter((d) => d.decision === 'queued').map((d) => d.eventId);
    const started = decisions.filter((d) => d.decision === 'started').map((d) => d.eventId);
    expect(queuedOrder).toHaveLength(2);
    expect(started.slice(2)).toEqual(queuedOrder); // the waiting ones start in arrival order, after the first two
    const history = await cli(['history', runIdForEvent(queuedOrder[0]!, 'order_sync')], { cwd: p.cwd });
    expect(history.stdout).toMatch(/\(throttle triggers\[0\] key acme, queued since \d{4}-/);
  }, 240_000);

  it('throttle, on_limit: drop: over the limit an event starts nothing and is listed as dropped', async () => {
    const p = place({ 'order_sync.yaml': ORDERS(1, '1h', 'drop') });
    const a = await emit(p, 'order_placed', 'd1', { order_id: 'd1', customer: 'acme' });
    expect(a.gated[0]!.decision).toBe('started');
    expect(a.runs.map((r) => r.runId)).toEqual([runIdForEvent('d1', 'order_sync')]);
    const b = await emit(p, 'order_placed', 'd2', { order_id: 'd2', customer: 'acme' });
    expect(b.gated[0]).toMatchObject({ decision: 'dropped', reason: 'limit 1 per 3600000 ms reached' });
    expect(b.runs).toEqual([]);
    // Another customer has its own window.
    expect((await emit(p, 'order_placed', 'd3', { order_id: 'd3', customer: 'globex' })).gated[0]!.decision).toBe(
      'started',
    );
    const text = await cli(['emit', 'order_placed', '--id', 'd4', '--data', '{"order_id":"d4","customer":"acme"}'], {
      cwd: p.cwd,
    });
    expect(text.stdout).toContain(
      'event d4 dropped by the throttle of order_sync triggers[0] key "acme": limit 1 per 3600000 ms reached',
    );
    expect((await runs(p.store)).map((r) => r.runId).sort()).toEqual(
      [runIdForEvent('d1', 'order_sync'), runIdForEvent('d3', 'order_sync')].sort(),
    );
    const { decisions } = await triggers(p);
    expect(decisions.filter((d) => d.decision === 'dropped').map((d) => [d.eventId, d.reason])).toEqual([
      ['d2', 'limit 1 per 3600000 ms reached'],
      ['d4', 'limit 1 per 3600000 ms reached'],
    ]);
    const listed = await cli(['triggers'], { cwd: p.cwd });
    expect(listed.stdout).toContain('event d2 dropped: limit 1 per 3600000 ms reached');
  }, 240_000);

  it('validate names each bad debounce or throttle at file:line:col with the fix', async () => {
    const p = place({
      'bad.yaml': LEADS.replace(
        'debounce: { period: 20s, key: "${event.data.lead_id}" }',
        'debounce: { period: 0, key: "${workflow.input.lead_id}" }',
      ),
    });
    const r = await cli(['validate', join(p.cwd, 'definitions', 'bad.yaml')], { cwd: p.cwd });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(
      /bad\.yaml:9:27: error: workflow\.triggers\[0\]\.debounce\.period: must be longer than 0, e\.g\. "30s"/,
    );
    expect(r.stdout + r.stderr).toMatch(
      /bad\.yaml:9:36: error: debounce\.key of triggers\[0\] reads \$\{workflow\.input\.lead_id\}/,
    );
  });
});
