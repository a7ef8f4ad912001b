/**
 * The next attempt handed back in the answer to a report (docs/nats.md, "The
 * next attempt comes back with the answer"), with the commands the docs give:
 * an engine beside a remote `ledgerflow worker --nats … --handlers`: a
 * three-step chain is offered once per run (its first step); the later steps
 * come back with the answers, and the runs complete with one attempt per step.
 * `ledgerflow engine --nats …` with its handlers in the engine (`--handlers`)
 * offers none: it runs every step itself (docs/nats.md, "Engines that run the
 * handlers").
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { spawnLedgerflow, type LedgerflowProcess } from '../helpers/cluster-run.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const CHAIN = `workflow:
  id: carried-cli
  name: Three steps
  version: 1
  tasks:
    - { id: fetch, type: SIMPLE }
    - { id: check, type: SIMPLE, depends_on: [fetch] }
    - { id: store, type: SIMPLE, depends_on: [check] }
`;
const HANDLERS = `export default {
  fetch: async () => ({ rows: 3 }),
  check: async () => ({ ok: true }),
  store: async () => ({ stored: 3 }),
};
`;

describe.skipIf(noNats)('the next attempt in the answer, from the CLI', () => {
  const c = useCluster({ server: 'own' });

  const setUp = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-carried-'));
    writeFileSync(join(dir, 'chain.yaml'), CHAIN);
    writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
    const deployed = await cli(['--nats', c.url, 'deploy', 'chain.yaml'], { cwd: dir });
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    return dir;
  };

  /** Runs `n` chains with `procs` up; the offers seen on lf.offer.> meanwhile. */
  const offersFor = async (n: number, procs: LedgerflowProcess[]): Promise<number> => {
    const admin: NatsConnection = await c.connect();
    let offers = 0;
    const sub = admin.subscribe('lf.offer.>', {
      callback: () => {
        offers++;
      },
    });
    await admin.flush();
    try {
      const starts = await Promise.all(Array.from({ length: n }, () => c.client.start('carried-cli', {})));
      const logs = () => procs.map((p) => `--- ${p.name}\n${p.output()}`).join('\n');
      for (const { runId } of starts) {
        const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
        expect(view.status, logs()).toBe('COMPLETED');
        const events = await c.client.store.read(runId);
        expect(events.filter((e) => e.type === 'task.started').map((e) => e.data.task)).toEqual([
          'fetch',
          'check',
          'store',
        ]);
      }
      await admin.flush();
    } finally {
      sub.unsubscribe();
    }
    return offers;
  };

  it('`ledgerflow engine --handlers`: no attempt is offered, the engine runs every step itself', async () => {
    const dir = await setUp();
    const engine = spawnLedgerflow('engine', ['--nats', c.url, 'engine', '--handlers', 'handlers.mjs'], {
      cwd: dir,
      markers: join(dir, 'markers'),
    });
    c.defer(() => engine.kill());
    await engine.started();
    expect(await offersFor(3, [engine])).toBe(0);
    // Gone before the next test, whose engine must be the only one taking its runs.
    await engine.kill();
  }, 60_000);

  it('`ledgerflow engine` and a remote `ledgerflow worker --handlers`: each run is offered once, at its first step', async () => {
    const dir = await setUp();
    const engine = spawnLedgerflow('engine', ['--nats', c.url, 'engine'], { cwd: dir, markers: join(dir, 'markers') });
    const worker = spawnLedgerflow('worker', ['--nats', c.as('worker'), 'worker', '--handlers', 'handlers.mjs'], {
      cwd: dir,
      markers: join(dir, 'markers'),
    });
    c.defer(() => Promise.all([engine.kill(), worker.kill()]));
    await Promise.all([engine.started(), worker.started()]);
    expect(await offersFor(3, [engine, worker])).toBe(3);
  }, 60_000);
});
