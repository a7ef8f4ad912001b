/**
 * On NATS, a task whose handler no worker serves says so
 * (docs/nats.md#which-handler-no-worker-serves): an engine and a worker
 * serving `charge` only, processes of the real CLI on the shipped nats.conf
 * (the worker user announces under its own name); a run whose second task
 * needs `ship`. `status`, `status --json` and the engine's log name the
 * handler; a worker serving `ship`, started after, takes the attempt and
 * `status` no longer says it.
 */
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli } from '../helpers/cli.js';
import { asUser } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const FIX = join(ROOT, 'test', 'fixtures', 'presence');
const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

function spawned(args: string[]): { out: () => string } {
  const child = spawnCli(args);
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { out: () => out };
}

describe.skipIf(noNats)('a handler no worker serves on NATS', () => {
  const c = useCluster();

  it('status, status --json and the engine log name it; a worker serving it, started after, takes the attempt', async () => {
    expect((await cli(['--nats', c.url, 'deploy', join(FIX, 'checkout.yaml')])).code).toBe(0);
    const engine = spawned(['--nats', c.url, 'engine']);
    const charger = spawned(['--nats', asUser(c.url, 'worker'), 'worker', '--handlers', join(FIX, 'charge.mjs')]);
    const started = await cli(['--nats', c.url, 'start', 'checkout', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };

    const unserved = 'handler ship on queue default: no worker has announced it';
    const text = await waitFor(
      'status to say ship has no worker',
      async () => {
        const s = await cli(['--nats', c.url, 'status', runId]);
        return s.stdout.includes(unserved) ? s.stdout : null;
      },
      { timeout: 30_000, detail: () => engine.out() + charger.out() },
    );
    expect(text).toMatch(/charge\s+COMPLETED/);
    expect(text).toMatch(new RegExp(`ship\\s+(SCHEDULED|IN_PROGRESS)\\s+attempts \\d+\\s+waits for ${unserved}`));
    const asJson = JSON.parse((await cli(['--nats', c.url, 'status', runId, '--json'])).stdout) as {
      tasks: Record<string, { waitingFor?: string }>;
    };
    expect(asJson.tasks.ship!.waitingFor).toBe(unserved);
    expect(asJson.tasks.charge!.waitingFor).toBeUndefined();
    await waitFor(
      'the engine log to name the handler',
      () => engine.out().includes('no worker has announced handler ship on queue default'),
      { timeout: 20_000, detail: engine.out },
    );
    expect(engine.out()).toContain('start one: ledgerflow worker --handlers <module exporting ship>');
    expect(engine.out()).not.toContain('handler charge on queue default');

    const shipper = spawned(['--nats', asUser(c.url, 'worker'), 'worker', '--handlers', join(FIX, 'ship.mjs')]);
    const waited = await cli(['--nats', c.url, 'wait', runId, '--timeout', '40s', '--json']);
    expect(waited.code, waited.stderr + engine.out() + shipper.out()).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'COMPLETED', tasks: { ship: { status: 'COMPLETED' } } });
    expect((await cli(['--nats', c.url, 'status', runId])).stdout).not.toContain('no worker has announced');
  }, 90_000);

  it('an engine running the handlers itself announces them, and history says its outcomes were reported by engine, not anonymous', async () => {
    expect((await cli(['--nats', c.url, 'deploy', join(FIX, 'checkout.yaml')])).code).toBe(0);
    const engine = spawned(['--nats', c.url, 'engine', '--handlers', join(FIX, 'both.mjs')]);
    const started = await cli(['--nats', c.url, 'start', 'checkout', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const waited = await cli(['--nats', c.url, 'wait', runId, '--timeout', '30s', '--json']);
    expect(waited.code, waited.stderr + engine.out()).toBe(0);
    const history = (await cli(['--nats', c.url, 'history', runId])).stdout;
    expect(history).toMatch(/task\.completed.*charge.*\(reported by engine\)/);
    expect(history).toMatch(/task\.completed.*ship.*\(reported by engine\)/);
    expect(history).not.toContain('anonymous');
  }, 60_000);

  it("a MAP's items whose handler no worker serves each say so (status --json), and a worker serving it ends the run", async () => {
    expect((await cli(['--nats', c.url, 'deploy', join(FIX, 'fan-out.yaml')])).code).toBe(0);
    const engine = spawned(['--nats', c.url, 'engine']);
    const charger = spawned(['--nats', asUser(c.url, 'worker'), 'worker', '--handlers', join(FIX, 'charge.mjs')]);
    const started = await cli(['--nats', c.url, 'start', 'fan-out', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const unserved = 'handler ship on queue default: no worker has announced it';
    type Items = { tasks: Record<string, { items?: { instance: string; waitingFor?: string }[] }> };
    const view = await waitFor(
      'status --json to say the items wait for a worker serving ship',
      async () => {
        const v = JSON.parse((await cli(['--nats', c.url, 'status', runId, '--json'])).stdout) as Items;
        return v.tasks.ship_each?.items?.length && v.tasks.ship_each.items.every((it) => it.waitingFor) ? v : null;
      },
      { timeout: 30_000, detail: () => engine.out() + charger.out() },
    );
    expect(view.tasks.ship_each!.items!.map((it) => [it.instance, it.waitingFor])).toEqual(
      ['ship_each[0]', 'ship_each[1]', 'ship_each[2]'].map((i) => [i, unserved]),
    );
    const shipper = spawned(['--nats', asUser(c.url, 'worker'), 'worker', '--handlers', join(FIX, 'ship.mjs')]);
    const waited = await cli(['--nats', c.url, 'wait', runId, '--timeout', '40s', '--json']);
    expect(waited.code, waited.stderr + engine.out() + shipper.out()).toBe(0);
    expect((await cli(['--nats', c.url, 'status', runId])).stdout).not.toContain('no worker has announced');
  }, 90_000);
});
