/**
 * `ledgerflow watch --nats` as a user runs it against a real nats-server (from
 * nats.conf) with an engine process continuing the runs: plain lines when
 * stdout is a pipe, the end (exit 0) when the watched run completes, and
 * `--all` picking up a run that starts while it watches. The runs wait for
 * alice's sign-off (`run` drives them there), and her approval, published as
 * her NATS user, is recorded and continued by the engine.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const APPROVAL = join(ROOT, 'test', 'fixtures', 'approval.yaml');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers.mjs');
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

describe.skipIf(noNats)('ledgerflow watch --nats', () => {
  const c = useCluster();
  let engine: Proc;
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    engine = track(spawnCli(['--nats', c.url, 'engine', '--handlers', HANDLERS]));
    procs.push(engine.child);
    c.defer(async () => {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
      await engine.exited;
    });
  });

  /** A run of approval.yaml on the server, waiting for a sign-off. */
  async function waitingRun(): Promise<string> {
    const r = await cli(['--nats', c.url, 'run', APPROVAL, '--json']);
    expect(r.code, r.stderr).toBe(3);
    return (JSON.parse(r.stdout) as { runId: string }).runId;
  }
  /** Alice's approval, as her NATS user; recorded by the engine (exit 0 once it is). */
  async function approve(runId: string): Promise<void> {
    const alice = c.as('alice');
    const r = await cli(['--nats', alice, 'approve', runId, 'sign_off', '--wait', '20s']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }

  it("<runId>: prints the run's events one plain line each and exits 0 when the engine completes it", async () => {
    const runId = await waitingRun();
    const w = track(spawnCli(['--nats', c.url, 'watch', runId]));
    procs.push(w.child);
    await waitFor('the recorded events', () => w.out().includes('task.completed  first'), {
      timeout: T,
      detail: w.err,
    });
    expect(w.child.exitCode).toBeNull(); // WAITING does not end a watch
    await approve(runId);
    expect(await w.exited, w.err()).toBe(0);
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
    expect(lines.at(-1)).toMatch(/task\.completed {2}last {2}attempt 1 .*→ COMPLETED$/); // completed by the engine's worker
  }, 60_000);

  it('--all: follows the active run, picks up one that starts while it watches, and exits 0 when both complete', async () => {
    const first = await waitingRun();
    const w = track(spawnCli(['--nats', c.url, 'watch', '--all', '--json', '--tail', '1']));
    procs.push(w.child);
    const seen = () =>
      w
        .out()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { runId: string; type: string; status: string });
    await waitFor('the active run', () => seen().some((e) => e.runId === first), { timeout: T, detail: w.err });
    const second = await waitingRun();
    await waitFor('the new run', () => seen().some((e) => e.runId === second && e.type === 'task.completed'), {
      timeout: T,
      detail: w.err,
    });
    await approve(first);
    await approve(second);
    expect(await w.exited, w.err()).toBe(0);
    for (const id of [first, second])
      expect(
        seen()
          .filter((e) => e.runId === id)
          .at(-1),
      ).toMatchObject({ type: 'task.completed', status: 'COMPLETED' });
    // The new run from its start; the one already there from its last recorded event (--tail 1).
    expect(seen().find((e) => e.runId === second)).toMatchObject({ type: 'run.started' });
    expect(seen().find((e) => e.runId === first)).toMatchObject({ type: 'task.completed' });
  }, 60_000);
});
