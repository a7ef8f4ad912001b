/**
 * Run timeouts as docs/runs.md#run-timeouts tells a user to try them, with the
 * real CLI on the embedded file store: `run` of the doc's workflow (its
 * timeout cut to 2s) ends FAILED with LF_RUN_TIMEOUT and the handler gets its
 * AbortSignal; the timer is durable: a run whose process was SIGKILLed times
 * out under `resume` and under `serve`, never before its deadline and once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, expectEveryRunReplays, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const FIX = join(ROOT, 'test', 'fixtures', 'run-timeout');
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});
afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThanOrEqual(4);
});

function markers(file: string): string[][] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
    : [];
}

const events = (store: string, runId: string): Promise<EventEnvelope[]> => new FileEventStore(store).read(runId);

/** The one run timeout firing of a log, checked never to come before the deadline (run.started + timeout). */
function expectTimedOutOnce(evs: EventEnvelope[], timeoutMs: number): void {
  const fired = evs.filter((e) => e.type === 'timer.fired' && e.data.timer === 'run_timeout');
  expect(fired).toHaveLength(1);
  expect(Date.parse(fired[0]!.time)).toBeGreaterThanOrEqual(Date.parse(evs[0]!.time) + timeoutMs);
  expect(evs.at(-1)!.seq).toBe(fired[0]!.seq);
}

/** `ledgerflow run` SIGKILLed once the build handler is running: the attempt is in flight, the timer in the log only. */
async function runAndKill(store: string, env: Record<string, string>): Promise<string> {
  const child = spawnCli(['--store', store, 'run', join(FIX, 'report.yaml')], { env });
  procs.push(child);
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  child.stdout!.on('data', (d) => (out += d));
  const start = await waitFor(
    'the build handler to start',
    () => markers(env.LF_MARKERS!).find((m) => m[0] === 'build' && m[3] === 'start'),
    { timeout: 20_000, detail: () => out },
  );
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  return start[2]!.split('/')[0]!;
}

describe('run timeouts on the embedded store', () => {
  it("run: the doc's workflow ends FAILED with LF_RUN_TIMEOUT, its handler aborted; status, history, list show it", async () => {
    const store = tempDir();
    const env = { LF_MARKERS: join(store, 'markers') };
    const r = await cli(['--store', store, 'run', join(FIX, 'report.yaml'), '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    const view = JSON.parse(r.stdout);
    expect(view).toMatchObject({
      status: 'FAILED',
      error: { code: 'LF_RUN_TIMEOUT', retryable: false },
      timeout: { after: '2s', policy: 'fail' },
      tasks: { build: { status: 'CANCELLED' }, sign_off: { status: 'CANCELLED' } },
    });
    expect(view.error.message).toContain('timeout: 2s');
    expect(view.timeout.deadline).toBe(new Date(Date.parse(view.startedAt) + 2000).toISOString());
    expect(
      markers(env.LF_MARKERS)
        .filter((m) => m[0] === 'build')
        .map((m) => m[3]),
    ).toEqual(['start', 'aborted']);
    expectTimedOutOnce(await events(store, view.runId), 2000);

    const status = await cli(['--store', store, 'status', view.runId]);
    expect(status.stdout).toContain(`timeout 2s: was due ${view.timeout.deadline} (timeout_policy: fail)`);
    expect(status.stdout).toContain('error: run timed out');
    const history = await cli(['--store', store, 'history', view.runId]);
    expect(history.stdout).toMatch(/timer\.fired\s+run timeout reached\s+→ FAILED/);
    const list = JSON.parse((await cli(['--store', store, 'list', '--status', 'FAILED', '--json'])).stdout) as {
      runId: string;
      result: string;
    }[];
    expect(list.find((x) => x.runId === view.runId)?.result).toContain('run timed out');
  }, 60_000);

  it('kill -9 mid-attempt, then resume: the run times out at its deadline, the re-run attempt aborted', async () => {
    const store = tempDir();
    const env = { LF_MARKERS: join(store, 'markers') };
    const runId = await runAndKill(store, env);
    expect((await events(store, runId)).some((e) => e.type === 'timer.fired')).toBe(false);
    const r = await cli(['--store', store, 'resume', runId, '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'FAILED', error: { code: 'LF_RUN_TIMEOUT' } });
    const evs = await events(store, runId);
    expectTimedOutOnce(evs, 2000);
    expect(evs.filter((e) => e.type === 'task.restarted')).toHaveLength(1);
    // The attempt lost with the killed process ran again under resume, and was aborted by the timeout.
    expect(
      markers(env.LF_MARKERS)
        .filter((m) => m[0] === 'build')
        .map((m) => m[3]),
    ).toEqual(['start', 'start', 'aborted']);
  }, 60_000);

  it('kill -9 mid-attempt, then serve: serve takes the run over and times it out', async () => {
    const store = tempDir();
    const env = { LF_MARKERS: join(store, 'markers') };
    const runId = await runAndKill(store, env);
    const s = spawnCli(['--store', store, 'serve', '--json'], { env });
    procs.push(s);
    let err = '';
    s.stderr!.on('data', (d) => (err += d));
    await waitFor(
      'serve to time the run out',
      async () => (await events(store, runId)).at(-1)?.state.status === 'FAILED',
      { timeout: 30_000, detail: () => err },
    );
    expect(err).toContain('run timeout fired');
    expectTimedOutOnce(await events(store, runId), 2000);
    s.kill('SIGTERM');
    await new Promise((r) => s.on('close', r));
  }, 60_000);

  it('a run WAITING for an approval times out under serve, CANCELLED under timeout_policy: cancel', async () => {
    const store = tempDir();
    const r = await cli(['--store', store, 'run', join(FIX, 'sign-off.yaml'), '--max-wait', '0']);
    expect(r.code, r.stderr).toBe(3);
    const runId = /run (\S+) started/.exec(r.stdout + r.stderr)![1]!;
    const waiting = JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout);
    expect(waiting).toMatchObject({ status: 'WAITING', timeout: { after: '3s', policy: 'cancel' } });
    expect(waiting.timers.map((t: { kind: string }) => t.kind)).toEqual(['run_timeout']);
    expect(r.stdout + r.stderr).toContain(`the run times out at ${waiting.timeout.deadline} (timeout: 3s)`);
    const s = spawnCli(['--store', store, 'serve', '--json']);
    procs.push(s);
    await waitFor(
      'serve to time the run out',
      async () => (await events(store, waiting.runId)).at(-1)?.state.status === 'CANCELLED',
      { timeout: 30_000 },
    );
    const status = JSON.parse((await cli(['--store', store, 'status', waiting.runId, '--json'])).stdout);
    expect(status).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'LF_RUN_TIMEOUT' },
      tasks: { sign_off: { status: 'CANCELLED' } },
    });
    expectTimedOutOnce(await events(store, waiting.runId), 3000);
    s.kill('SIGTERM');
    await new Promise((res) => s.on('close', res));
  }, 60_000);
});
