/**
 * Ctrl-C is not a crash. docs/runs.md (exit codes, "A run waits for its attempts") and the README tell a user that
 * after Ctrl-C (exit 130) "the run stays in the log as it was" and `ledgerflow resume <runId>` continues it, running
 * the attempt again under the same idempotency key; and to stop waiting for a slow attempt, Ctrl-C and `resume` later.
 * So however often a person does that, `resume` continues the run: the interrupted process records the attempt as
 * given back (task.released), and its restart is not counted against the restarts an attempt that kills its process
 * gets. That protection stays: a process killed with the attempt (kill -9) is still a loss, and the fourth one fails
 * the attempt (LF_ATTEMPT_LOST), a Ctrl-C before them or not. Real CLI processes on the embedded store.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileEventStore } from '../../src/store/index.js';
import { MAX_RESTARTS } from '../../src/runtime/index.js';
import { cli, expectEveryRunReplays, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

afterAll(async () => {
  // Replay equals the live state for every run these tests made, the given-back attempts' too.
  expect(await expectEveryRunReplays()).toBeGreaterThanOrEqual(2);
});

/**
 * Three SIMPLE tasks in a row, each handler marking its start and end in a file; each runs until the test writes the
 * release file (a slot held by a file the test writes, not by a duration), or its attempt is aborted.
 */
function project(): { dir: string; file: string; env: Record<string, string>; release: () => void } {
  const dir = tempDir();
  const markers = join(dir, 'markers');
  const released = join(dir, 'release');
  writeFileSync(
    join(dir, 'slow.mjs'),
    `import { appendFileSync, existsSync } from 'node:fs';
const mark = (ctx, what) =>
  appendFileSync(process.env.LF_MARKERS, \`\${ctx.taskId} \${ctx.attempt} \${ctx.idempotencyKey} \${what} \${process.pid}\\n\`);
const held = (name) => async (_input, ctx) => {
  mark(ctx, 'start');
  await new Promise((resolve) => {
    const poll = setInterval(() => existsSync(process.env.LF_RELEASE) && (clearInterval(poll), resolve()), 20);
    ctx.signal.addEventListener('abort', () => (clearInterval(poll), resolve()));
  });
  if (ctx.signal.aborted) return {};
  mark(ctx, 'end');
  return { done: name };
};
export default { a: held('a'), b: held('b'), c: held('c') };
`,
  );
  const file = join(dir, 'slow.yaml');
  writeFileSync(
    file,
    `workflow:
  id: slow3
  name: Three slow tasks
  version: 1
  handlers: ./slow.mjs
  tasks:
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [a] }
    - { id: c, type: SIMPLE, depends_on: [b] }
`,
  );
  return {
    dir,
    file,
    env: { LF_MARKERS: markers, LF_RELEASE: released },
    release: () => writeFileSync(released, ''),
  };
}

/** The handlers' marks: `[task, attempt, idempotency key, start|end, pid]`. */
function marks(env: Record<string, string>): string[][] {
  const file = env.LF_MARKERS!;
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
    : [];
}

/**
 * Runs a `ledgerflow` command in `dir` until task a's handler runs in it, then stops it with `signal` (SIGINT: what
 * Ctrl-C sends; SIGKILL: kill -9). Its exit code (null when killed) and output.
 */
async function stopWhileRunning(
  p: ReturnType<typeof project>,
  store: string,
  args: string[],
  signal: 'SIGINT' | 'SIGKILL',
): Promise<{ code: number | null; output: string }> {
  const child = spawnCli(['--store', store, ...args], { cwd: p.dir, env: p.env });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await waitFor(
    `task a's handler to run in ${args.join(' ')}`,
    () => {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited ${child.exitCode} first:\n${output}`);
      return marks(p.env).some((m) => m[0] === 'a' && m[3] === 'start' && m[4] === String(child.pid));
    },
    { timeout: 20_000, detail: () => output },
  );
  child.kill(signal);
  return { code: await closed, output };
}

describe.concurrent('Ctrl-C, then resume', () => {
  it('interrupted five times while a task runs, `resume` still continues the run: every handler runs as the docs say, the run completes (exit 0)', async () => {
    const p = project();
    const store = join(p.dir, 'store');
    const runId = 'c2';
    const first = await stopWhileRunning(p, store, ['run', p.file, '--id', runId], 'SIGINT');
    expect(first.code, first.output).toBe(130);
    expect(first.output).toContain('interrupted: stopping');
    // More Ctrl-Cs than an attempt has restarts for losses: none of them is one.
    const interrupts = MAX_RESTARTS + 1;
    for (let i = 1; i < interrupts; i++) {
      const again = await stopWhileRunning(p, store, ['resume', runId], 'SIGINT');
      expect(again.code, again.output).toBe(130);
    }

    p.release();
    const done = await cli(['--store', store, 'resume', runId, '--json'], { cwd: p.dir, env: p.env });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const view = JSON.parse(done.stdout);
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.a).toMatchObject({ status: 'COMPLETED', attempts: 1, output: { done: 'a' } });
    expect(view.tasks.c).toMatchObject({ status: 'COMPLETED', attempts: 1, output: { done: 'c' } });

    // a ran once per process, always as attempt 1 under the same idempotency key, and finished in the last; b and c ran once.
    const m = marks(p.env);
    const starts = (task: string) => m.filter((x) => x[0] === task && x[3] === 'start');
    expect(starts('a')).toHaveLength(interrupts + 1);
    expect(new Set(starts('a').map((x) => `${x[1]} ${x[2]}`))).toEqual(new Set([`1 ${runId}/a/1`]));
    expect(new Set(starts('a').map((x) => x[4])).size).toBe(interrupts + 1);
    for (const task of ['a', 'b', 'c']) expect(m.filter((x) => x[0] === task && x[3] === 'end')).toHaveLength(1);
    expect(starts('b')).toHaveLength(1);
    expect(starts('c')).toHaveLength(1);

    // Each Ctrl-C gave the attempt back before its process ended; each resume took it up again.
    const events = await new FileEventStore(store).read(runId);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'task.released')).toHaveLength(interrupts);
    expect(types.filter((t) => t === 'task.restarted')).toHaveLength(interrupts);
    expect(types).not.toContain('task.failed');
  }, 120_000);

  it(`kill -9 is still a loss: after a Ctrl-C, ${MAX_RESTARTS + 1} processes killed with the attempt fail it (LF_ATTEMPT_LOST), exit 1`, async () => {
    const p = project();
    const store = join(p.dir, 'store');
    const runId = 'k9';
    expect((await stopWhileRunning(p, store, ['run', p.file, '--id', runId], 'SIGINT')).code).toBe(130);
    for (let kill = 0; kill <= MAX_RESTARTS; kill++)
      expect((await stopWhileRunning(p, store, ['resume', runId], 'SIGKILL')).code).toBe(null);

    const r = await cli(['--store', store, 'resume', runId], { cwd: p.dir, env: p.env });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toContain(`attempt 1 was lost ${MAX_RESTARTS + 1} times (its process stopped)`);
    const events = await new FileEventStore(store).read(runId);
    expect(events.at(-1)?.state.status).toBe('FAILED');
    expect(events.find((e) => e.type === 'task.failed')).toMatchObject({
      data: { task: 'a', attempt: 1, error: { code: 'LF_ATTEMPT_LOST', retryable: true } },
    });
    // The given-back run was not counted: only the kills were.
    expect(events.filter((e) => e.type === 'task.released')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'task.restarted')).toHaveLength(MAX_RESTARTS + 1);
    expect(marks(p.env).filter((x) => x[0] === 'b')).toEqual([]);
  }, 120_000);
});
