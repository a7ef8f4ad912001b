/** `ledgerflow pause` / `resume` with --nats: inputs an engine process records, whichever owns the run. Real nats-server, real CLI processes. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli } from '../helpers/cli.js';
import { natsServerBin, startNatsServer, type NatsServer } from '../helpers/nats.js';

const APPROVAL = join(ROOT, 'test', 'fixtures', 'approval.yaml');
const bin = natsServerBin();

describe.skipIf(!bin)('pause and resume over NATS from the CLI', () => {
  let server: NatsServer;

  beforeAll(async () => { server = await startNatsServer(); });
  afterAll(async () => { await server?.dispose(); });

  it('an engine records the pause (PAUSED, a second pause refused), approvals still land, resume lets the engine finish the run', async () => {
    const url = server.url;
    const run = await cli(['--nats', url, 'run', APPROVAL, '--json']);
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout);

    const engine = spawnCli(['--nats', url, 'engine', '--handlers', join(ROOT, 'test', 'fixtures', 'handlers.mjs')]);
    try {
      const paused = await cli(['--nats', url, 'pause', runId, '--reason', 'maintenance', '--wait', '20s', '--json']);
      expect(paused.stderr).toBe('');
      expect(paused.code).toBe(0);
      expect(JSON.parse(paused.stdout)).toEqual({ runId, published: true, recorded: true, status: 'PAUSED' });
      const again = await cli(['--nats', url, 'pause', runId]);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/cannot pause run \S+: the run is already paused; nothing was published/);

      const alice = url.replace('nats://', 'nats://alice:alice-dev-password@');
      expect((await cli(['--nats', alice, 'approve', runId, 'sign_off', '--wait', '20s'])).code).toBe(0);
      const status = JSON.parse((await cli(['--nats', url, 'status', runId, '--json'])).stdout);
      expect(status.status).toBe('PAUSED');
      expect(status.tasks.last.status).toBe('SCHEDULED');

      const resumed = await cli(['--nats', url, 'resume', runId, '--wait', '20s']);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/resumed; the engines continue it/);
      const waited = await cli(['--nats', url, 'wait', runId, '--timeout', '20s', '--json']);
      expect(waited.code).toBe(0);
      expect(JSON.parse(waited.stdout).status).toBe('COMPLETED');
    } finally {
      engine.kill('SIGTERM');
      await new Promise((r) => engine.on('close', r));
    }
    const history = JSON.parse((await cli(['--nats', url, 'history', runId, '--json'])).stdout) as { type: string; data: Record<string, unknown> }[];
    const types = history.map((e) => e.type);
    expect(types.indexOf('run.paused')).toBeLessThan(types.indexOf('approval.recorded'));
    expect(types.slice(types.indexOf('run.resumed'), types.indexOf('run.resumed') + 2)).toEqual(['run.resumed', 'task.started']);
    expect(history.find((e) => e.type === 'run.paused')!.data).toMatchObject({ by: expect.any(String), reason: 'maintenance' });
  }, 90_000);
});
