/**
 * docs/serve.md with docs/limits.md#concurrency-limits-and-priority, as a
 * user does it: `ledgerflow serve` on the embedded store, and three starts of
 * a workflow with `concurrency: { limit: 1 }` made at once from the shell
 * (`ledgerflow run … --priority N`); the process holding the slot is then
 * killed, so serve takes its run over and does every admission after. Every
 * run completes, settled by serve; they go one at a time (from the histories:
 * no two runs going at once), the first to take the slot first, then the
 * queued ones in priority order, then arrival order.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { byAdmissionOrder } from '../../src/limits/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** From a run's history: when it got its slot (run.started, or run.admitted after run.queued) and when it settled. */
function going(events: EventEnvelope[]): { from: number; to: number } {
  const queued = events[1]?.type === 'run.queued';
  const from = events.find((e) => e.type === (queued ? 'run.admitted' : 'run.started'))!;
  return { from: Date.parse(from.time), to: Date.parse(events.at(-1)!.time) };
}

describe("serve drives a concurrency-limited workflow's QUEUED runs (embedded store)", () => {
  it('three starts at once with limit 1: all COMPLETED, one at a time, queued ones by priority then arrival', async () => {
    const dir = tempDir('lf-serve-queued-');
    const store = join(dir, 'store');
    // `hold` runs until the release file exists: the first run keeps its slot until the other two are QUEUED.
    copyFileSync(join(ROOT, 'test', 'fixtures', 'serve', 'handlers.mjs'), join(dir, 'handlers.mjs'));
    const release = join(dir, 'release');
    const file = join(dir, 'one-at-a-time.yaml');
    writeFileSync(
      file,
      [
        'workflow:',
        '  id: one-at-a-time',
        '  version: 1',
        '  handlers: ./handlers.mjs',
        '  concurrency: { limit: 1 }',
        '  input:',
        '    required: [release]',
        '  tasks:',
        '    - { id: hold, type: SIMPLE, input: { release: "${workflow.input.release}" } }',
        '',
      ].join('\n'),
    );

    const serve = spawnCli(['--store', store, 'serve', '--json'], { cwd: dir });
    procs.push(serve);
    let out = '';
    serve.stdout!.on('data', (d) => (out += d));
    serve.stderr!.on('data', (d) => (out += d));
    await waitFor('serve to serve', () => out.includes('"serving"'), { timeout: 30_000, detail: () => out });

    const fs = new FileEventStore(store);
    // Three starts at once from the shell, the way docs/serve.md starts runs beside a serve.
    const runs = [[], ['--priority', '10'], ['--priority', '90']].map((p) => {
      const child = spawnCli(['--store', store, 'run', file, '--release', release, '--max-wait', '0', '--json', ...p], {
        cwd: dir,
      });
      procs.push(child);
      let stdout = '';
      child.stdout!.on('data', (d) => (stdout += d));
      return {
        child,
        stdout: () => stdout,
        exited: new Promise<number | null>((r) => child.on('close', (code) => r(code))),
      };
    });
    await waitFor(
      'one run going and two QUEUED',
      async () => {
        const all = await fs.listRuns({ workflowId: 'one-at-a-time' });
        return all.length === 3 && all.filter((r) => r.status === 'QUEUED').length === 2;
      },
      { timeout: 60_000, detail: () => out },
    );
    // A queued start returns at once (exit 3, left to whoever frees a slot); the one holding the slot
    // is killed, so that serve takes its run over, and every admission after is serve's.
    const holder = await waitFor(
      'the queued starts to return',
      () => {
        const alive = runs.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
        return alive.length === 1 ? alive[0] : undefined;
      },
      { timeout: 30_000 },
    );
    holder!.child.kill('SIGKILL');
    await holder!.exited;
    writeFileSync(release, 'go');
    const ids = (await fs.listRuns({ workflowId: 'one-at-a-time' })).map((r) => r.runId);

    await waitFor(
      'every run COMPLETED',
      async () =>
        (await fs.listRuns({ workflowId: 'one-at-a-time' })).filter((r) => r.status === 'COMPLETED').length === 3,
      { timeout: 60_000, detail: () => out },
    );
    const logs = await Promise.all(ids.map((id) => fs.read(id)));
    const spans = logs.map(going).sort((a, b) => a.from - b.from);
    // Never two going at once: each run takes its slot at or after the previous one settled.
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.from).toBeGreaterThanOrEqual(spans[i - 1]!.to);
    // The run that found the slot free first, then the queued ones as run.queued ordered them.
    const queued = logs.filter((l) => l[1]?.type === 'run.queued');
    expect(queued.length).toBe(2);
    const expected = queued
      .map((l) => ({
        runId: l[0]!.runId,
        priority: (l[1]!.data as { priority: number }).priority,
        queuedAt: l[1]!.time,
      }))
      .sort(byAdmissionOrder)
      .map((q) => q.runId);
    const admitted = queued
      .map((l) => ({ runId: l[0]!.runId, at: l.find((e) => e.type === 'run.admitted')!.time }))
      .sort((a, b) => a.at.localeCompare(b.at))
      .map((q) => q.runId);
    expect(admitted).toEqual(expected);
    for (const l of logs) expect(l.at(-1)!.state.status).toBe('COMPLETED');
    // serve drove every one to its end: the killed one taken over, the queued ones as it admitted them. It says so
    // once its drive returns, a moment after the log shows the run settled: waited for, not read at once.
    const settledByServe = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { kind: string; runId?: string })
        .filter((n) => n.kind === 'run.settled')
        .map((n) => n.runId);
    await waitFor('serve to say each run settled', () => settledByServe().length >= ids.length, {
      timeout: 10_000,
      detail: () => out,
    });
    expect(settledByServe().sort()).toEqual([...ids].sort());
  }, 120_000);
});
