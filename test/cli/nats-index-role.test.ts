/**
 * The run index kept by one engine at a time (docs/queries.md, "NATS"), as users run engines: two `ledgerflow engine
 * --handlers charge.mjs` processes share the runs, a `ledgerflow worker --handlers ship.mjs` (the worker user) runs
 * each run's second task; the role in KV LF_ADMISSION names the engine that keeps the index; it is killed (SIGKILL, no
 * goodbye); the other takes the role over and `ledgerflow list` shows every run, those started before the kill and
 * after it, as COMPLETED.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { cli, ROOT, spawnCli } from '../helpers/cli.js';
import { noNats } from '../helpers/cluster.js';
import { asUser, startNatsServer } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { Kvm, jetstream } from '../../src/store/index.js';

const FIX = join(ROOT, 'test', 'fixtures', 'presence');
const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

describe.skipIf(noNats)('the run index kept by one of two engines', () => {
  it('is taken over by the other when its engine is killed: `list` shows every run completed', async () => {
    const server = await startNatsServer();
    onTestFinished(() => server.dispose());
    const spawned = (args: string[]) => {
      const child = spawnCli(args);
      procs.push(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      return { child, out: () => out };
    };
    const engine = () =>
      spawned(['--nats', server.url, 'engine', '--handlers', join(FIX, 'charge.mjs'), '--no-state-file']);
    const first = engine();
    await waitFor('the first engine to start', () => /taking work from/.test(first.out()), { timeout: 30_000 });
    const second = engine();
    await waitFor('the second engine to start', () => /taking work from/.test(second.out()), { timeout: 30_000 });
    const worker = spawned(['--nats', asUser(server.url, 'worker'), 'worker', '--handlers', join(FIX, 'ship.mjs')]);
    await waitFor('the worker to start', () => /running ship/.test(worker.out()), { timeout: 30_000 });
    const lf = (...args: string[]) => cli(['--nats', server.url, ...args]);
    expect((await lf('deploy', join(FIX, 'checkout.yaml'))).code).toBe(0);

    const startSome = async (n: number) =>
      Promise.all(
        Array.from({ length: n }, async () => {
          const r = await lf('start', 'checkout', '--json');
          expect(r.code, r.stderr).toBe(0);
          return (JSON.parse(r.stdout) as { runId: string }).runId;
        }),
      );
    const listed = async () => {
      const r = await lf('list', '--workflow', 'checkout', '--limit', '500', '--json');
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { runId: string; status: string }[];
    };
    const before = await startSome(20);
    await waitFor(
      'list to show the first runs completed',
      async () => (await listed()).filter((x) => x.status === 'COMPLETED').length === before.length,
      { timeout: 60_000 },
    );

    // Whose the role is: its entry names the holder's process.
    const nc = await connect({ servers: server.url });
    try {
      const kv = await new Kvm(jetstream(nc)).open('LF_ADMISSION');
      const holderPid = async () => JSON.parse((await kv.get('runs-index-projection'))!.string()).pid as number;
      const holder = await holderPid();
      expect([first.child.pid, second.child.pid]).toContain(holder);
      const killed = holder === first.child.pid ? first.child : second.child;
      const survivor = holder === first.child.pid ? second.child : first.child;
      killed.kill('SIGKILL');
      await waitFor('the killed engine to be gone', () => killed.exitCode !== null || killed.signalCode !== null);

      const after = await startSome(20);
      await waitFor('the other engine to hold the role', async () => (await holderPid()) === survivor.pid, {
        timeout: 20_000,
      });
      const all = await waitFor(
        'list to show every run, before the kill and after it, completed',
        async () => {
          const runs = await listed();
          const done = new Set(runs.filter((x) => x.status === 'COMPLETED').map((x) => x.runId));
          return [...before, ...after].every((id) => done.has(id)) ? runs : null;
        },
        { timeout: 90_000, interval: 500 },
      );
      expect(all).toHaveLength(40);
    } finally {
      await nc.close();
    }
  }, 240_000);
});
