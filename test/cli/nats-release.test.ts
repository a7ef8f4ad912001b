/**
 * A clean stop is not a crash, on NATS too. docs/nats.md ("Stopping an engine or a worker") tells a user that SIGTERM
 * or SIGINT stops `ledgerflow worker` and `ledgerflow engine` in order, and that an attempt still running when the
 * grace (`--grace`) runs out is given back (task.released) and run again at once, not counted as lost: so a worker (or
 * an engine running the handlers itself) restarted for a deploy more times than an attempt has restarts for losses
 * does not fail a healthy run with LF_ATTEMPT_LOST. The guard stays: a worker killed with the attempt (kill -9) is
 * still a loss, and the fourth one fails it, a clean stop before them or not. Real CLI processes on a real nats-server,
 * started as docs/nats.md says; each handler holds its slot until the test writes the release file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RESTARTS } from '../../src/runtime/index.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { asUser } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

/**
 * Tasks `held` (a, or k: a handler of its own, so a queue consumer of its own) then b, each handler marking its start
 * and end; the first holds until the release file exists, or its abort.
 */
function project(
  id: string,
  held = 'a',
): { dir: string; file: string; env: Record<string, string>; release: () => void } {
  const dir = tempDir();
  const released = join(dir, 'release');
  writeFileSync(
    join(dir, 'slow.mjs'),
    `import { appendFileSync, existsSync } from 'node:fs';
const mark = (ctx, what) =>
  appendFileSync(process.env.LF_MARKERS, \`\${ctx.taskId} \${ctx.attempt} \${ctx.idempotencyKey} \${what} \${process.pid}\\n\`);
const held = async (_input, ctx) => {
  mark(ctx, 'start');
  await new Promise((resolve) => {
    const poll = setInterval(() => existsSync(process.env.LF_RELEASE) && (clearInterval(poll), resolve()), 20);
    ctx.signal.addEventListener('abort', () => (clearInterval(poll), resolve()));
  });
  if (ctx.signal.aborted) return mark(ctx, 'aborted');
  mark(ctx, 'end');
  return { done: ctx.taskId };
};
export default { a: held, k: held, b: async (_input, ctx) => (mark(ctx, 'end'), { done: 'b' }) };
`,
  );
  const file = join(dir, `${id}.yaml`);
  writeFileSync(
    file,
    `workflow:
  id: ${id}
  handlers: ./slow.mjs
  tasks:
    - { id: ${held}, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [${held}] }
`,
  );
  return {
    dir,
    file,
    env: { LF_MARKERS: join(dir, 'markers'), LF_RELEASE: released },
    release: () => writeFileSync(released, ''),
  };
}

/** The handlers' marks: `[task, attempt, idempotency key, start|end|aborted, pid]`. */
function marks(env: Record<string, string>): string[][] {
  const file = env.LF_MARKERS!;
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
    : [];
}

function spawned(args: string[], env: Record<string, string>): { child: ChildProcess; out: () => string } {
  const child = spawnCli(args, { env });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out };
}

/** Starts `args` until task a's handler runs in it, then stops it with `signal`: its exit code (null when killed) and output. */
async function stopWhileRunning(
  args: string[],
  env: Record<string, string>,
  signal: 'SIGTERM' | 'SIGINT' | 'SIGKILL',
  detail: () => string = () => '',
  task = 'a',
): Promise<{ code: number | null; output: string }> {
  const p = spawned(args, env);
  const closed = new Promise<number | null>((r) => p.child.on('close', (code) => r(code)));
  await waitFor(
    `task ${task}'s handler to run in ${args.slice(2).join(' ')}`,
    () => {
      if (p.child.exitCode !== null) throw new Error(`${args.join(' ')} exited ${p.child.exitCode} first:\n${p.out()}`);
      return marks(env).some((m) => m[0] === task && m[3] === 'start' && m[4] === String(p.child.pid));
    },
    { timeout: 60_000, detail: () => p.out() + detail() },
  );
  p.child.kill(signal);
  return { code: await closed, output: p.out() };
}

type Event = { type: string; data: Record<string, unknown> };

async function start(url: string, file: string, workflow: string): Promise<string> {
  const deployed = await cli(['--nats', url, 'deploy', file]);
  expect(deployed.code, deployed.stderr).toBe(0);
  const started = await cli(['--nats', url, 'start', workflow, '--json']);
  expect(started.code, started.stderr).toBe(0);
  return (JSON.parse(started.stdout) as { runId: string }).runId;
}

async function history(url: string, runId: string): Promise<Event[]> {
  const h = await cli(['--nats', url, 'history', runId, '--json']);
  expect(h.code, h.stderr).toBe(0);
  return JSON.parse(h.stdout) as Event[];
}

/** `wait` on the run: it completes, task a in one attempt with its output, then b. */
async function completes(url: string, runId: string, detail: () => string): Promise<void> {
  const waited = await cli(['--nats', url, 'wait', runId, '--timeout', '60s', '--json']);
  expect(waited.code, waited.stderr + detail()).toBe(0);
  expect(JSON.parse(waited.stdout)).toMatchObject({
    status: 'COMPLETED',
    tasks: { a: { status: 'COMPLETED', attempts: 1, output: { done: 'a' } }, b: { status: 'COMPLETED' } },
  });
}

/** Task a ran once per process, always as attempt 1 under the run's one idempotency key, and finished once. */
function expectOneAttempt(env: Record<string, string>, runId: string, processes: number): void {
  const m = marks(env);
  const starts = m.filter((x) => x[0] === 'a' && x[3] === 'start');
  expect(starts).toHaveLength(processes);
  expect(new Set(starts.map((x) => `${x[1]} ${x[2]}`))).toEqual(new Set([`1 ${runId}/a/1`]));
  expect(new Set(starts.map((x) => x[4])).size).toBe(processes);
  expect(m.filter((x) => x[0] === 'a' && x[3] === 'end')).toHaveLength(1);
  expect(m.filter((x) => x[0] === 'b' && x[3] === 'end')).toHaveLength(1);
}

/** More clean stops than an attempt has restarts for losses: none of them is one. */
const STOPS = MAX_RESTARTS + 1;

describe.skipIf(noNats)('a clean stop gives the attempt back on NATS (engine and worker processes)', () => {
  const c = useCluster();

  it(`a worker stopped with SIGTERM ${STOPS} times while a task runs: the run still completes, each stop recorded as task.released`, async () => {
    const p = project('release-worker');
    const engine = spawned(['--nats', c.url, 'engine'], p.env);
    const runId = await start(c.url, p.file, 'release-worker');
    const worker = [
      '--nats',
      asUser(c.url, 'worker'),
      'worker',
      '--handlers',
      join(p.dir, 'slow.mjs'),
      '--grace',
      '0s',
    ];
    for (let i = 0; i < STOPS; i++) {
      const stopped = await stopWhileRunning(worker, p.env, i % 2 === 0 ? 'SIGTERM' : 'SIGINT', engine.out);
      expect(stopped.code, stopped.output).toBe(0);
      expect(stopped.output).toContain('given back (task.released)');
    }

    p.release();
    spawned(worker, p.env);
    await completes(c.url, runId, engine.out);
    expectOneAttempt(p.env, runId, STOPS + 1);

    // Each stop gave the attempt back before the worker exited; the engine ran it again at once, as a restart that is no loss.
    const events = await history(c.url, runId);
    const released = events.filter((e) => e.type === 'task.released');
    expect(released.map((e) => e.data.restart)).toEqual([...Array(STOPS).keys()]);
    const restarted = events.filter((e) => e.type === 'task.restarted');
    expect(restarted.map((e) => e.data)).toEqual(
      [...Array(STOPS).keys()].map((i) =>
        expect.objectContaining({ task: 'a', attempt: 1, restart: i + 1, reason: 'worker_lost', by: 'worker' }),
      ),
    );
    expect(events.map((e) => e.type)).not.toContain('task.failed');
    expect(engine.out()).toContain('as it stopped; running it again (not a loss)');
  }, 240_000);

  it(`an engine running the handlers itself (engine --handlers) stopped ${STOPS} times while a task runs: the run still completes`, async () => {
    const p = project('release-engine');
    const runId = await start(c.url, p.file, 'release-engine');
    // A grace the engine's own messages finish in (the release's commit and its effects): with none, they are handed back.
    const engine = ['--nats', c.url, 'engine', '--handlers', join(p.dir, 'slow.mjs'), '--grace', '1s'];
    for (let i = 0; i < STOPS; i++) {
      const stopped = await stopWhileRunning(engine, p.env, i % 2 === 0 ? 'SIGTERM' : 'SIGINT');
      expect(stopped.code, stopped.output).toBe(0);
      expect(stopped.output).toContain('given back (task.released)');
    }

    p.release();
    const last = spawned(engine, p.env);
    await completes(c.url, runId, last.out);
    expectOneAttempt(p.env, runId, STOPS + 1);
    const events = await history(c.url, runId);
    expect(events.filter((e) => e.type === 'task.released').map((e) => e.data.restart)).toEqual([
      ...Array(STOPS).keys(),
    ]);
    expect(events.filter((e) => e.type === 'task.restarted')).toHaveLength(STOPS);
    expect(events.map((e) => e.type)).not.toContain('task.failed');
  }, 240_000);

  it(`kill -9 is still a loss: after a clean stop, ${MAX_RESTARTS + 1} workers killed with the attempt fail it (LF_ATTEMPT_LOST)`, async () => {
    const p = project('release-kill9', 'k');
    // A short ack wait, so that a killed worker's attempt comes back in seconds (docs/nats.md: LEDGERFLOW_NATS_TASK_ACK_WAIT).
    const env = { ...p.env, LEDGERFLOW_NATS_TASK_ACK_WAIT: '2s' };
    const engine = spawned(['--nats', c.url, 'engine'], env);
    const runId = await start(c.url, p.file, 'release-kill9');
    const worker = [
      '--nats',
      asUser(c.url, 'worker'),
      'worker',
      '--handlers',
      join(p.dir, 'slow.mjs'),
      '--grace',
      '0s',
    ];
    expect((await stopWhileRunning(worker, env, 'SIGTERM', engine.out, 'k')).code).toBe(0);
    for (let kill = 0; kill <= MAX_RESTARTS; kill++)
      expect((await stopWhileRunning(worker, env, 'SIGKILL', engine.out, 'k')).code).toBe(null);

    // The next worker finds the last killed one's claim gone quiet and reports it lost: the fourth loss fails it.
    spawned(worker, env);
    const waited = await cli(['--nats', c.url, 'wait', runId, '--timeout', '60s', '--json']);
    expect(waited.code, waited.stderr + engine.out()).toBe(1);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'FAILED', tasks: { k: { status: 'FAILED' } } });
    const events = await history(c.url, runId);
    expect(events.find((e) => e.type === 'task.failed')).toMatchObject({
      data: { task: 'k', attempt: 1, error: { code: 'LF_ATTEMPT_LOST', retryable: true } },
    });
    // The given-back run was not counted: only the kills were.
    expect(events.filter((e) => e.type === 'task.released')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'task.restarted')).toHaveLength(MAX_RESTARTS + 1);
    expect(marks(p.env).filter((x) => x[0] === 'b')).toEqual([]);
  }, 240_000);
});
