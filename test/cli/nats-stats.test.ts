/**
 * `ledgerflow stats <workflow> --nats` (docs/metrics.md#per-workflow-figures):
 * the runs the embedded test makes (test/cli/stats.test.ts), here deployed,
 * started and run by engine and worker processes of the real CLI on a real
 * nats-server. The figures come from the run index the engines keep (KV
 * LF_RUNS_INDEX), in the same JSON shape as on the embedded store, and
 * `ledgerflow ui --nats` answers them at GET /api/definitions/:id/stats.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli } from '../helpers/cli.js';
import { asUser } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { expectSeedFigures, STATS_SHAPE, STATS_WF as WF, statsShape } from '../helpers/stats.js';
import { waitFor } from '../helpers/wait.js';
import { startUiProcess } from '../server/ui-helpers.js';

const DEF = join(ROOT, 'test', 'fixtures', 'stats', 'inventory-stats.yaml');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers.mjs');
const procs: ChildProcess[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  killLeftovers(procs);
});

function spawned(args: string[]): () => string {
  const child = spawnCli(args);
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return () => out;
}

describe.skipIf(noNats)('ledgerflow stats --nats', () => {
  const c = useCluster();

  it('gives the figures of runs retried then completed and of a failed one, as on the embedded store', async () => {
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args]);
    const deployed = await lf('deploy', DEF);
    expect(deployed.code, deployed.stderr).toBe(0);
    const engine = spawned(['--nats', c.url, 'engine']);
    const worker = spawned(['--nats', asUser(c.url, 'worker'), 'worker', '--handlers', HANDLERS]);
    const runIds: string[] = [];
    for (const inputs of [[], [], ['--succeed_on', '5']]) {
      const started = await lf('start', WF, ...inputs, '--json');
      expect(started.code, started.stderr).toBe(0);
      runIds.push((JSON.parse(started.stdout) as { runId: string }).runId);
    }
    for (const [i, runId] of runIds.entries()) {
      const waited = await lf('wait', runId, '--timeout', '30s');
      expect(waited.code, waited.stderr + engine() + worker()).toBe(i === 2 ? 1 : 0);
    }
    // The index is the engines' projection of the log: wait until it has the three settled.
    const stats = await waitFor(
      'the run index to hold the three settled runs',
      async () => {
        const r = await lf('stats', WF, '--json');
        if (r.code !== 0) return null;
        const s = JSON.parse(r.stdout) as { runs: { total: number; active: number } };
        return s.runs.total === 3 && s.runs.active === 0 ? s : null;
      },
      { timeout: 30_000, detail: () => engine() + worker() },
    );
    const listed = JSON.parse((await lf('list', '--workflow', WF, '--json')).stdout) as { durationMs: number }[];
    expectSeedFigures(
      stats,
      listed.map((r) => r.durationMs),
    );
    expect(statsShape(stats)).toEqual(STATS_SHAPE);

    const table = await lf('stats', WF);
    expect(table.stdout).toMatch(/^task_success_rate\s+87\.5%\s+7 of 8 settled tasks completed$/m);
    expect(table.stdout).not.toContain('failure_rate');
    // The dashboard over NATS, signed in as a user: its API answers the same JSON.
    const ui = await startUiProcess(['--nats', c.as('engine')], [], { cwd: ROOT });
    stops.push(() => ui.stop());
    const alice = new URL(c.as('alice'));
    const session = await fetch(`${ui.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice', password: decodeURIComponent(alice.password) }),
    });
    expect(session.status).toBe(200);
    const res = await fetch(`${ui.base}/api/definitions/${WF}/stats`, {
      headers: { cookie: session.headers.get('set-cookie')!.split(';')[0]! },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(stats);

    const v2 = await lf('stats', WF, '--version', '2');
    expect(v2.code).toBe(2);
    expect(v2.stderr).toContain(`workflow ${WF} has no run of version 2 (versions with runs: 1)`);
  }, 120_000);
});
