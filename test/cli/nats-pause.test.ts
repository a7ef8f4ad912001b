/** `ledgerflow pause` / `resume` / `cancel` with --nats: run control (lf.control) an engine process records, whichever owns the run, as the NATS user who sent it. Real nats-server, real CLI processes. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli } from '../helpers/cli.js';

const APPROVAL = join(ROOT, 'test', 'fixtures', 'approval.yaml');

describe.skipIf(noNats)('pause, resume and cancel over NATS from the CLI', () => {
  const c = useCluster();

  it("an engine records commander's pause (PAUSED, a second pause refused by the engine), wait --or-waiting returns on it, approvals still land, resume lets the engine finish the run", async () => {
    const url = c.url;
    const commander = url.replace('nats://', 'nats://commander:commander-dev-password@');
    const run = await cli(['--nats', url, 'run', APPROVAL, '--json']);
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout);

    const engine = spawnCli(['--nats', url, 'engine', '--handlers', join(ROOT, 'test', 'fixtures', 'handlers.mjs')]);
    try {
      const paused = await cli([
        '--nats',
        commander,
        'pause',
        runId,
        '--reason',
        'maintenance',
        '--wait',
        '20s',
        '--json',
      ]);
      expect(paused.stderr).toBe('');
      expect(paused.code).toBe(0);
      expect(JSON.parse(paused.stdout)).toMatchObject({
        runId,
        action: 'pause',
        by: 'commander',
        unauthenticated: false,
        recorded: true,
        queued: false,
        status: 'PAUSED',
      });
      const again = await cli(['--nats', commander, 'pause', runId, '--wait', '20s']);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/cannot pause run \S+: the run is already paused; nothing was recorded/);
      // A paused run is a person's turn, as a waiting one: --or-waiting returns at once (exit 3), not at its timeout.
      const waitedPaused = await cli(['--nats', url, 'wait', runId, '--or-waiting', '--timeout', '10m', '--json']);
      expect(waitedPaused.code).toBe(3);
      expect(JSON.parse(waitedPaused.stdout).status).toBe('PAUSED');

      const alice = url.replace('nats://', 'nats://alice:alice-dev-password@');
      expect((await cli(['--nats', alice, 'approve', runId, 'sign_off', '--wait', '20s'])).code).toBe(0);
      const status = JSON.parse((await cli(['--nats', url, 'status', runId, '--json'])).stdout);
      expect(status.status).toBe('PAUSED');
      expect(status.tasks.last.status).toBe('SCHEDULED');

      const resumed = await cli(['--nats', commander, 'resume', runId, '--wait', '20s']);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/resumed; the engines continue it/);
      const waited = await cli(['--nats', url, 'wait', runId, '--timeout', '20s', '--json']);
      expect(waited.code).toBe(0);
      expect(JSON.parse(waited.stdout).status).toBe('COMPLETED');
    } finally {
      engine.kill('SIGTERM');
      await new Promise((r) => engine.on('close', r));
    }
    const history = JSON.parse((await cli(['--nats', url, 'history', runId, '--json'])).stdout) as {
      type: string;
      data: Record<string, unknown>;
    }[];
    const types = history.map((e) => e.type);
    expect(types.indexOf('run.paused')).toBeLessThan(types.indexOf('approval.recorded'));
    expect(types.slice(types.indexOf('run.resumed'), types.indexOf('run.resumed') + 2)).toEqual([
      'run.resumed',
      'task.started',
    ]);
    expect(history.find((e) => e.type === 'run.paused')!.data).toEqual({ by: 'commander', reason: 'maintenance' });
    expect(history.find((e) => e.type === 'run.resumed')!.data).toEqual({ by: 'commander' });
  }, 90_000);

  it("cancel --nats: an engine records commander's cancel of a waiting run (by commander), a second cancel is refused (exit 2), none answers in time without an engine (exit 3)", async () => {
    const url = c.url;
    const commander = url.replace('nats://', 'nats://commander:commander-dev-password@');
    const run = await cli(['--nats', url, 'run', APPROVAL, '--json']);
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout);

    // No engine runs yet: the cancel waits in LF_CONTROL (exit 3), and the engine started next records it.
    const queued = await cli(['--nats', commander, 'cancel', runId, '--reason', 'no longer needed', '--wait', '300ms']);
    expect(queued.code).toBe(3);
    expect(queued.stdout).toMatch(
      /published cancel for run \S+ as commander, but no engine answered within 300 ms: it waits in LF_CONTROL/,
    );
    const engine = spawnCli(['--nats', url, 'engine', '--handlers', join(ROOT, 'test', 'fixtures', 'handlers.mjs')]);
    try {
      const waited = await cli(['--nats', url, 'wait', runId, '--timeout', '20s', '--json']);
      expect(waited.code).toBe(1);
      expect(JSON.parse(waited.stdout).status).toBe('CANCELLED');
      const again = await cli(['--nats', commander, 'cancel', runId, '--wait', '20s']);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/cannot cancel run \S+: the run is already CANCELLED; nothing was recorded/);
    } finally {
      engine.kill('SIGTERM');
      await new Promise((r) => engine.on('close', r));
    }
    const history = JSON.parse((await cli(['--nats', url, 'history', runId, '--json'])).stdout) as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(history.filter((e) => e.type === 'run.cancelled').map((e) => e.data)).toEqual([
      { by: 'commander', reason: 'no longer needed' },
    ]);
  }, 90_000);

  it('cancel --nats with an engine running: recorded at once (exit 0, --json says CANCELLED)', async () => {
    const url = c.url;
    const commander = url.replace('nats://', 'nats://commander:commander-dev-password@');
    const { runId } = JSON.parse((await cli(['--nats', url, 'run', APPROVAL, '--json'])).stdout);
    const engine = spawnCli(['--nats', url, 'engine', '--handlers', join(ROOT, 'test', 'fixtures', 'handlers.mjs')]);
    try {
      const cancelled = await cli(['--nats', commander, 'cancel', runId, '--wait', '20s', '--json']);
      expect(cancelled.stderr).toBe('');
      expect(cancelled.code).toBe(0);
      expect(JSON.parse(cancelled.stdout)).toMatchObject({
        runId,
        action: 'cancel',
        recorded: true,
        queued: false,
        status: 'CANCELLED',
      });
    } finally {
      engine.kill('SIGTERM');
      await new Promise((r) => engine.on('close', r));
    }
  }, 90_000);
});
