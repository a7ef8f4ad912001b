/**
 * An engine and a worker started before their NATS server wait for it (docs/nats.md#engines-and-workers-stopping-failover-stream-settings,
 * "Starting before the server"), as a compose file or a systemd unit starts them beside it: each says once that the
 * server is not reachable yet, stays up, and takes work when the server comes; a run started then completes, its first
 * task run by the engine, its second by the worker. A server that answers and refuses the credentials, or has no
 * JetStream, is not waited for: exit 1 at once, as before.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, statusWhen } from '../helpers/cli.js';
import { noNats } from '../helpers/cluster.js';
import { asUser, startNatsServer, type NatsServer } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const FIX = join(ROOT, 'test', 'fixtures', 'presence');
const procs: ChildProcess[] = [];
const servers: NatsServer[] = [];
afterEach(async () => {
  await killLeftovers(procs);
  await Promise.all(servers.splice(0).map((s) => s.dispose()));
});

function spawned(args: string[]): { out: () => string; exited: () => number | null } {
  const child = spawnCli(args);
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { out: () => out, exited: () => child.exitCode };
}

describe.skipIf(noNats)('an engine and a worker started before their NATS server', () => {
  it('wait for it, saying so, and take work once it answers: a run started then completes', async () => {
    const server = await startNatsServer();
    servers.push(server);
    await server.stop(); // its port known, nothing listening on it
    const engine = spawned(['--nats', server.url, 'engine', '--handlers', join(FIX, 'charge.mjs'), '--no-state-file']);
    const worker = spawned(['--nats', asUser(server.url, 'worker'), 'worker', '--handlers', join(FIX, 'ship.mjs')]);
    const both = () => `engine:\n${engine.out()}\nworker:\n${worker.out()}`;
    const waiting = /NATS at nats:\/\/127\.0\.0\.1:\d+ is not reachable yet \(connection refused\); waiting for it/;
    await waitFor(
      'both to say they wait for the server',
      () => waiting.test(engine.out()) && waiting.test(worker.out()),
      {
        timeout: 30_000,
        detail: both,
      },
    );
    // Still there, not exited, and not ready before the server is.
    expect(engine.exited()).toBeNull();
    expect(worker.exited()).toBeNull();
    expect(engine.out()).not.toMatch(/taking work from/);

    await server.restart();
    await waitFor(
      'both to start once the server answers',
      () => /^engine \d+ taking work from/m.test(engine.out()) && /^worker \d+ running ship/m.test(worker.out()),
      { timeout: 30_000, detail: both },
    );
    expect(engine.out()).toMatch(/NATS at nats:\/\/127\.0\.0\.1:\d+ answers after \d+ s; starting/);
    // Said once, not once a try.
    expect(engine.out().match(/is not reachable yet/g)).toHaveLength(1);

    const lf = (...args: string[]) => cli(['--nats', server.url, ...args]);
    expect((await lf('deploy', join(FIX, 'checkout.yaml'))).code).toBe(0);
    const started = await lf('start', 'checkout', '--json');
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const view = await statusWhen<{ status: string; tasks: Record<string, { status: string }> }>(
      lf,
      runId,
      'COMPLETED',
    );
    expect(view.tasks.charge!.status).toBe('COMPLETED');
    expect(view.tasks.ship!.status).toBe('COMPLETED');
  });

  it('are not kept waiting by a server that refuses their credentials, or has no JetStream: exit 1 at once, saying why', async () => {
    const server = await startNatsServer({ production: true });
    servers.push(server);
    const wrong = server.url.replace('nats://', 'nats://alice:not-her-password@');
    for (const args of [
      ['--nats', wrong, 'engine', '--no-state-file'],
      ['--nats', wrong, 'worker', '--handlers', join(FIX, 'ship.mjs')],
    ]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/authoriz|password/i);
      expect(r.stderr).not.toMatch(/waiting for it/);
    }
    // A server started without JetStream (no jetstream block, no -js).
    const dir = mkdtempSync(join(tmpdir(), 'lf-no-js-'));
    writeFileSync(join(dir, 'plain.conf'), '# no jetstream block\n');
    const plain = await startNatsServer({ config: join(dir, 'plain.conf') });
    servers.push(plain);
    const r = await cli(['--nats', plain.url, 'engine', '--no-state-file']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/has no JetStream: start nats-server with -js/);
  });
});
