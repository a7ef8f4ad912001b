/**
 * `ledgerflow engine` on SIGTERM (issue 21): it stops in order — no message
 * taken any more, the ones in hand finished (or handed back), then the store
 * closed — so it exits 0 promptly without logging the closed store as
 * failures "trying again", and every run it had in hand is finished by the
 * next engine.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadDefinitionFile } from '../../src/api/index.js';
import { ClusterClient, ClusterEngine, createWorker, type Worker } from '../../src/cluster/index.js';
import { ROOT, spawnCli } from '../helpers/cli.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

const skipReason = inject('natsSkipReason');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers.mjs');
const SLOW = join(ROOT, 'test', 'fixtures', 'slow.yaml');
const RUNS = 60;

describe.skipIf(!!skipReason)('ledgerflow engine stops gracefully on SIGTERM', () => {
  let server: NatsServer | undefined;
  let client: ClusterClient | undefined;
  let next: ClusterEngine | undefined;
  let worker: Worker | undefined;
  const procs: ChildProcess[] = [];
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await worker?.stop();
    await next?.stop();
    await client?.close();
    await server?.dispose();
  });

  it('with runs in flight: exits 0 within a few seconds, no "trying again" line, and the next engine finishes every run', async () => {
    server = await startNatsServer();
    const child = spawnCli(['--nats', server.url, 'engine', '--handlers', HANDLERS, '--no-schedules']);
    procs.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the engine to take work', () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
      return out.includes('taking work');
    }, { timeout: 30_000, detail: () => out });
    client = new ClusterClient(server.url);
    await client.deploy(loadDefinitionFile(SLOW).definition);
    const runIds = await Promise.all(Array.from({ length: RUNS }, async () => (await client!.start('slow-middle', { ms: 50 })).runId));
    // SIGTERM while the engine is in the middle of them: one run done, the last one not yet.
    await waitFor('a first run to complete', async () => (await client!.status(runIds[0]!))?.status === 'COMPLETED', { timeout: 30_000, detail: () => out });
    expect((await client.status(runIds.at(-1)!))?.status).not.toBe('COMPLETED');
    const signalled = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c))));
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(12_000);
    expect(out).toContain('stopping engine');
    expect(out).not.toMatch(/trying again/);
    expect(out).not.toMatch(/store is closed|CONNECTION_DRAINING|CONNECTION_CLOSED/);

    // Nothing it had in hand is lost: the next engine (and worker) finish every run.
    next = new ClusterEngine({ nats: server.url, schedules: false });
    await next.start();
    worker = createWorker({ nats: server.url, handlers: (await import(HANDLERS)).default });
    await worker.start();
    for (const runId of runIds) expect((await client.wait(runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
  }, 90_000);
});
