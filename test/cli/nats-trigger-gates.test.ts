/**
 * Debounce and throttle over NATS as docs/triggers.md and docs/nats.md tell a
 * user to run them: `ledgerflow deploy`, `ledgerflow engine` processes,
 * `ledgerflow emit --nats` (published on lf.triggers.<type>), `ledgerflow
 * triggers --nats`. A debounced burst waits in KV LF_TRIGGER_GATES, so the
 * engine that took its events can be killed -9 and another starts its run,
 * once.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runIdForEvent } from '../../src/triggers/index.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const T = 90_000;

/** The docs' debounce example (test/cli/trigger-gates.lead_followup.yaml; outside test/fixtures, whose corpus wants longer runs), shared by the file-store and NATS tests. */
const LEADS = readFileSync(new URL('./trigger-gates.lead_followup.yaml', import.meta.url), 'utf8');

const ORDERS = `
workflow:
  id: order_sync
  input:
    required: [order_id]
  triggers:
    - event: order_placed
      input: { order_id: "\${event.data.order_id}" }
      throttle: { limit: 1, per: 1h, key: "\${event.data.customer}", on_limit: drop }
  tasks:
    - { id: note, type: SET, values: { order: "\${workflow.input.order_id}" } }
`;

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

describe.skipIf(noNats)('debounce and throttle over NATS (engine processes, emit --nats)', () => {
  const c = useCluster();

  function engine(): { child: ChildProcess; stderr: () => string } {
    const child = spawnCli(['--nats', c.url, 'engine']);
    procs.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return { child, stderr: () => err };
  }

  async function emit(
    type: string,
    id: string,
    data: object,
  ): Promise<{ gated: { decision: string; runId?: string; reason?: string }[]; runs: { runId: string }[] }> {
    const r = await cli([
      '--nats',
      c.url,
      'emit',
      type,
      '--id',
      id,
      '--data',
      JSON.stringify(data),
      '--wait',
      '60s',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  it('a burst starts one run with the last event, after the engine that took the burst is killed -9; a throttle drops over its limit and lists it', async () => {
    const dir = tempDir('lf-nats-gates-');
    writeFileSync(join(dir, 'lead_followup.yaml'), LEADS);
    writeFileSync(join(dir, 'order_sync.yaml'), ORDERS);
    const deployed = await cli([
      '--nats',
      c.url,
      'deploy',
      join(dir, 'lead_followup.yaml'),
      join(dir, 'order_sync.yaml'),
    ]);
    expect(deployed.code, deployed.stderr).toBe(0);

    const first = engine();
    for (const [id, score] of [
      ['e1', 10],
      ['e2', 40],
      ['e3', 90],
    ] as const) {
      const out = await emit('lead_created', id, { lead_id: 'L-7', score });
      expect(out.gated).toEqual([
        expect.objectContaining({ decision: 'debounced', runId: runIdForEvent(id, 'lead_followup') }),
      ]);
    }
    const waiting = JSON.parse((await cli(['--nats', c.url, 'triggers', '--json'])).stdout);
    expect(waiting.waiting).toEqual([
      expect.objectContaining({
        workflowId: 'lead_followup',
        kind: 'debounce',
        key: 'L-7',
        events: 3,
        lastEvent: 'e3',
      }),
    ]);

    // The engine that took every event dies; another, started after, fires the burst from the KV.
    first.child.kill('SIGKILL');
    const second = engine();
    const lead7 = runIdForEvent('e3', 'lead_followup');
    // The run does not exist until the burst fires: wait for it to, then for it to settle (read here, not with a
    // `status` process a second), then ask `status` as a user does.
    await waitFor("the burst's run to complete", async () => (await c.runs.status(lead7))?.status === 'COMPLETED', {
      timeout: T,
      interval: 250,
      detail: second.stderr,
    });
    const shown = await cli(['--nats', c.url, 'status', lead7, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const done = JSON.parse(shown.stdout);
    expect(done).toMatchObject({ status: 'COMPLETED', input: { lead_id: 'L-7', score: 90 } });
    // status says which trigger started it and the events it stands for, as on the embedded store (trigger-gates.test.ts).
    expect(done.gate).toEqual({
      kind: 'debounce',
      trigger: 0,
      key: 'L-7',
      count: 3,
      absorbed: ['e1', 'e2'],
      event: 'e3',
      firstAt: expect.any(String),
    });
    const said = await cli(['--nats', c.url, 'status', lead7]);
    expect(said.stdout).toContain(
      'started by event e3 through debounce triggers[0] key L-7: stands for 3 events, the first of them came ',
    );
    expect(said.stdout).toContain('; merged e1, e2');
    const runs = JSON.parse((await cli(['--nats', c.url, 'list', '--workflow', 'lead_followup', '--json'])).stdout) as {
      runId: string;
    }[];
    expect(runs.map((r) => r.runId)).toEqual([lead7]);
    const history = await cli(['--nats', c.url, 'history', lead7]);
    expect(history.stdout).toContain('(debounce triggers[0] key L-7: last of 3 events, merged e1, e2)');

    // Throttle, on_limit: drop: one per hour per customer.
    expect((await emit('order_placed', 'd1', { order_id: 'd1', customer: 'acme' })).gated[0]).toMatchObject({
      decision: 'started',
      runId: runIdForEvent('d1', 'order_sync'),
    });
    const dropped = await emit('order_placed', 'd2', { order_id: 'd2', customer: 'acme' });
    expect(dropped.gated[0]).toMatchObject({ decision: 'dropped', reason: 'limit 1 per 3600000 ms reached' });
    expect(dropped.runs).toEqual([]);

    const log = await waitFor(
      'the decision log',
      async () => {
        const r = JSON.parse((await cli(['--nats', c.url, 'triggers', '--json'])).stdout) as {
          waiting: unknown[];
          decisions: { decision: string; eventId: string; runId?: string }[];
        };
        return r.decisions.length >= 5 ? r : null;
      },
      { timeout: T, interval: 500 },
    );
    expect(log.waiting).toEqual([]);
    expect(log.decisions.map((d) => [d.decision, d.eventId, d.runId ?? null])).toEqual([
      ['merged', 'e1', lead7],
      ['merged', 'e2', lead7],
      ['started', 'e3', lead7],
      ['started', 'd1', runIdForEvent('d1', 'order_sync')],
      ['dropped', 'd2', null],
    ]);
    // Same JSON shape as on the embedded store: { waiting, decisions }.
    expect(Object.keys(log).sort()).toEqual(['decisions', 'waiting']);
  }, 300_000);
});
