/**
 * `ledgerflow watch` as a user runs it, on runs that `ledgerflow serve`
 * drives in another process: plain lines when stdout is a pipe, a redrawn
 * frame under a pseudo-terminal (util-linux `script`), the end when the runs
 * settle (not when they wait), and the bad input a user can give.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const APPROVAL = join(ROOT, 'test', 'fixtures', 'serve', 'approval.yaml');
const T = 30_000;

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function track(child: ChildProcess): Proc {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, out: () => out, err: () => err, exited: new Promise((r) => child.on('close', (code) => r(code))) };
}

let store: string;
let env: Record<string, string>;
let serve: Proc;
const procs: ChildProcess[] = [];

beforeAll(async () => {
  store = tempDir('lf-watch-');
  env = { LF_MARKERS: join(store, 'markers') };
  serve = track(spawnCli(['--store', store, 'serve', '--json', '--no-schedules'], { env }));
  // Serving before the first run, as a user starts it: until then nothing drives a run, and watch would say so.
  procs.push(serve.child);
  await waitFor('serve to hold the store', () => serve.out().includes('"kind":"serving"'), {
    timeout: 30_000,
    detail: serve.err,
  });
});
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  await serve.exited;
});

/** A run of approval.yaml, waiting for alice's sign-off (serve holds it there). */
async function waitingRun(): Promise<string> {
  const r = await cli(['--store', store, 'run', APPROVAL, '--max-wait', '0', '--json'], { env });
  expect(r.code, r.stderr).toBe(3);
  return (JSON.parse(r.stdout) as { runId: string }).runId;
}

async function approve(runId: string): Promise<void> {
  const r = await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice'], { env });
  expect(r.code, r.stderr).toBe(0);
}

// The last two cases leave runs waiting: they come after the --workflow case, which watches every run of the workflow.
describe('ledgerflow watch', () => {
  it('prints one plain line per event when stdout is not a terminal, stays while the run waits, and exits 0 when serve completes it', async () => {
    const runId = await waitingRun();
    const w = track(spawnCli(['--store', store, 'watch', runId], { env }));
    procs.push(w.child);
    await waitFor('the recorded events', () => w.out().includes('task.completed  first'), {
      timeout: T,
      detail: w.err,
    });
    // WAITING does not end a watch: it is still there after its first lines.
    expect(w.child.exitCode).toBeNull();
    await approve(runId);
    expect(await w.exited).toBe(0);
    const lines = w.out().trim().split('\n');
    expect(w.out()).not.toContain('\u001b');
    expect(lines.map((l) => l.split('  ').slice(2, 4).join(' '))).toEqual([
      'run.started → RUNNING',
      'task.started first',
      'task.completed first',
      'approval.recorded sign_off',
      'task.started last',
      'task.completed last',
    ]);
    for (const l of lines) expect(l).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  ${runId}  `));
    expect(lines.at(-1)).toMatch(/task\.completed {2}last {2}attempt 1 {2}→ COMPLETED$/);
  }, 60_000);

  it('redraws a frame under a pseudo-terminal and exits when the run settles, the last frame on screen', async () => {
    const runId = await waitingRun();
    const cmd = `${process.execPath} ${BIN} --store ${store} watch ${runId}`;
    const w = track(
      spawn('script', ['-qfec', cmd, '/dev/null'], {
        cwd: ROOT,
        env: { ...process.env, ...env, TERM: 'xterm-256color', FORCE_COLOR: '1', NO_COLOR: '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    procs.push(w.child);
    const screen = () => w.out().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    await waitFor('the first frame', () => /sign_off +awaiting approval +[\d.]+m?s +waits for alice/.test(screen()), {
      timeout: T,
      detail: () => w.out() + w.err(),
    });
    expect(w.child.exitCode).toBeNull();
    await approve(runId);
    expect(await w.exited).toBe(0);
    const raw = w.out();
    // log-update's redraw: erase a line, move up (and the cursor hidden while drawing, shown at the end).
    expect(raw).toContain('\u001b[2K\u001b[1A');
    expect(raw).toContain('\u001b[?25l');
    expect(raw.lastIndexOf('\u001b[?25h')).toBeGreaterThan(raw.lastIndexOf('\u001b[?25l'));
    const plain = screen();
    const last = plain.slice(plain.lastIndexOf(runId) - 2);
    expect(last).toMatch(new RegExp(`^✓ ${runId} {2}serve-approval@1 {2}COMPLETED`));
    for (const task of ['first', 'sign_off', 'last']) expect(last).toMatch(new RegExp(`✓ ${task} +completed`));
    expect(last).toContain('approval.recorded  sign_off  approved by alice');
  }, 60_000);

  it('with --workflow, follows the active runs and picks up one that starts while it watches', async () => {
    const first = await waitingRun();
    const w = track(
      spawnCli(['--store', store, 'watch', '--workflow', 'serve-approval', '--json', '--tail', '1'], { env }),
    );
    procs.push(w.child);
    const seen = () =>
      w
        .out()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { runId: string; type: string; status: string });
    await waitFor('the first run', () => seen().some((e) => e.runId === first), { timeout: T, detail: w.err });
    const second = await waitingRun();
    await waitFor('the new run', () => seen().some((e) => e.runId === second), { timeout: T, detail: w.err });
    await approve(first);
    await approve(second);
    expect(await w.exited).toBe(0);
    for (const id of [first, second])
      expect(
        seen()
          .filter((e) => e.runId === id)
          .at(-1),
      ).toMatchObject({ type: 'task.completed', status: 'COMPLETED' });
    // The new run is shown from its start; the one already there from its last recorded event (--tail 1).
    expect(seen().find((e) => e.runId === second)).toMatchObject({ type: 'run.started' });
    expect(seen().find((e) => e.runId === first)).toMatchObject({ type: 'task.completed' });
  }, 60_000);

  it('ends at once with exit 3 for a waiting run with --or-waiting; an unknown run or no target is exit 2', async () => {
    const runId = await waitingRun();
    const r = await cli(['--store', store, 'watch', runId, '--or-waiting'], { env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/task\.completed {2}first .*→ WAITING$/);
    const unknown = await cli(['--store', store, 'watch', 'no-such-run']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('run no-such-run does not exist');
    const none = await cli(['--store', store, 'watch']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'watch takes one of: a run id, --workflow <id>, --all (on a terminal, none opens the monitor)',
    );
  }, 60_000);

  it('Ctrl-C under a terminal ends the watch of a waiting run: exit 130, the cursor shown again', async () => {
    const runId = await waitingRun();
    const cmd = `${process.execPath} ${BIN} --store ${store} watch ${runId}`;
    const w = track(
      spawn('script', ['-qfec', cmd, '/dev/null'], {
        cwd: ROOT,
        env: { ...process.env, ...env, TERM: 'xterm-256color' },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    procs.push(w.child);
    await waitFor('the first frame', () => w.out().includes('awaiting approval'), {
      timeout: T,
      detail: () => w.out() + w.err(),
    });
    w.child.stdin!.write('\x03'); // the terminal turns it into SIGINT for the watch
    expect(await w.exited).toBe(130);
    expect(w.out().slice(w.out().lastIndexOf('\u001b[?25l'))).toContain('\u001b[?25h');
  }, 60_000);
});
