/**
 * Run timeouts over NATS (docs/runs.md#run-timeouts), with engine and worker
 * processes of the real CLI: the doc's workflow (timeout cut to 2s) deployed
 * and started, its attempt run by a worker whose handler waits on its
 * AbortSignal. The run ends FAILED with LF_RUN_TIMEOUT, the worker's handler
 * is aborted at the run's deadline, and the timer is durable: the engine that
 * held the run is SIGKILLed mid-attempt and another engine, started after,
 * fires it. Real nats-server.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { asUser } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const FIX = join(ROOT, 'test', 'fixtures', 'run-timeout');
const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

function markers(file: string): string[][] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
    : [];
}

function spawned(args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string } {
  const child = spawnCli(args, { env });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out };
}

describe.skipIf(noNats)('run timeouts over NATS (engine and worker processes)', () => {
  const c = useCluster();

  it("a worker's attempt is aborted at the run's deadline, and an engine started after the first was SIGKILLed fires the timeout", async () => {
    const dir = tempDir();
    const env = { LF_MARKERS: join(dir, 'markers') };
    const deployed = await cli(['--nats', c.url, 'deploy', join(FIX, 'report.yaml')]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const first = spawned(['--nats', c.url, 'engine']);
    const worker = spawned(['--nats', asUser(c.url, 'worker'), 'worker', '--handlers', join(FIX, 'handlers.mjs')], env);

    const started = await cli(['--nats', c.url, 'start', 'nightly-report', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    await waitFor(
      'the worker to run build',
      () => markers(env.LF_MARKERS).some((m) => m[0] === 'build' && m[3] === 'start'),
      { timeout: 30_000, detail: () => first.out() + worker.out() },
    );
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.on('close', r));

    const second = spawned(['--nats', c.url, 'engine']);
    const waited = await cli(['--nats', c.url, 'wait', runId, '--timeout', '40s', '--json']);
    expect(waited.code, waited.stderr + second.out()).toBe(1);
    expect(JSON.parse(waited.stdout)).toMatchObject({
      status: 'FAILED',
      error: { code: 'LF_RUN_TIMEOUT' },
      timeout: { after: '2s', policy: 'fail' },
      tasks: { build: { status: 'CANCELLED' } },
    });

    const history = JSON.parse((await cli(['--nats', c.url, 'history', runId, '--json'])).stdout) as {
      type: string;
      time: string;
      data: Record<string, unknown>;
    }[];
    const fired = history.filter((e) => e.type === 'timer.fired');
    expect(fired.map((e) => e.data)).toEqual([{ task: '$run', timer: 'run_timeout', attempt: 1 }]);
    expect(Date.parse(fired[0]!.time)).toBeGreaterThanOrEqual(Date.parse(history[0]!.time) + 2000);
    // The worker's handler got its AbortSignal (the run's deadline bounds the attempt's), and ran once.
    await waitFor(
      "the worker's handler to be aborted",
      () => markers(env.LF_MARKERS).some((m) => m[0] === 'build' && m[3] === 'aborted'),
      { timeout: 20_000, detail: worker.out },
    );
    expect(markers(env.LF_MARKERS).filter((m) => m[0] === 'build' && m[3] === 'start')).toHaveLength(1);

    // status --json has the same shape as on the embedded store; replay agrees with the log.
    const status = JSON.parse((await cli(['--nats', c.url, 'status', runId, '--json'])).stdout);
    expect(Object.keys(status).sort()).toEqual([
      'completedAt',
      'error',
      'input',
      'output',
      'runId',
      'seq',
      'startedAt',
      'status',
      'tasks',
      'timeout',
      'timers',
      'version',
      'workflowId',
    ]);
    expect((await cli(['--nats', c.url, 'replay', runId])).code).toBe(0);
  }, 120_000);
});
