/**
 * `ledgerflow engine` on SIGTERM: it stops in order — no message
 * taken any more, the ones in hand finished (or handed back), then the store
 * closed — so it exits 0 promptly without logging the closed store as
 * failures "trying again", and every run it had in hand is finished by the
 * next engine.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../src/files/index.js';
import { ROOT, spawnCli } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers.mjs');
const SLOW = join(ROOT, 'test', 'fixtures', 'slow.yaml');
const RUNS = 60;

describe.skipIf(noNats)('ledgerflow engine stops gracefully on SIGTERM', () => {
  const c = useCluster();

  it('with runs in flight: exits 0 within a few seconds, no "trying again" line, and the next engine finishes every run', async () => {
    const child = spawnCli(['--nats', c.url, 'engine', '--handlers', HANDLERS, '--no-schedules']);
    c.defer(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      'the engine to take work',
      () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
        return out.includes('taking work');
      },
      { timeout: 30_000, detail: () => out },
    );
    await c.client.deploy(loadDefinitionFile(SLOW).definition);
    const runIds = await Promise.all(
      // The last one's middle step is slow: still in flight at the SIGTERM however fast the engine runs the others.
      Array.from(
        { length: RUNS },
        async (_, i) => (await c.client.start('slow-middle', { ms: i === RUNS - 1 ? 3_000 : 50 })).runId,
      ),
    );
    // SIGTERM while the engine is in the middle of them: one run done, the last one not yet.
    await waitFor('a first run to complete', async () => (await c.runs.status(runIds[0]!))?.status === 'COMPLETED', {
      timeout: 30_000,
      detail: () => out,
    });
    expect((await c.runs.status(runIds.at(-1)!))?.status).not.toBe('COMPLETED');
    const signalled = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) =>
      child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c)),
    );
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(12_000);
    expect(out).toContain('stopping engine');
    expect(out).not.toMatch(/trying again/);
    expect(out).not.toMatch(/store is closed|CONNECTION_DRAINING|CONNECTION_CLOSED/);

    // Nothing it had in hand is lost: the next engine (and worker) finish every run.
    await c.addEngine({ schedules: false });
    await c.addWorker({ nats: c.url, handlers: (await import(HANDLERS)).default });
    for (const runId of runIds) expect((await c.runs.wait(runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
  }, 90_000);
});
