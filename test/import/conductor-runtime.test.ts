/**
 * Conductor tasks whose work is chosen or delivered at run time, imported and run with handlers on the embedded store
 * and on NATS: a DYNAMIC task (the handler its input names), a LAMBDA body with a top-level return, `${…}` pasted into
 * INLINE and jq text, a SUB_WORKFLOW named by `${workflow.input.subwf}`, a START_WORKFLOW that does not wait, a
 * reference to a task the workflow does not have (null), and YIELD / PULL_WORKFLOW_MESSAGES taken with
 * `ledgerflow signal`.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { type CliResult, cli, expectEveryRunReplays, ROOT, spawnCli, statusWhen, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'conductor-runtime');
const INPUT = ['--task', 'greet', '--who', 'ann', '--n', '3', '--subwf', 'child_a'];
const MESSAGE = { messages: [{ id: 'm1', payload: { hi: 1 } }] };

interface View {
  status: string;
  output: Record<string, unknown> | null;
  tasks: Record<string, { status: string; output: unknown }>;
}

/** The fixtures imported into definitions/ (exit 0, each validates), with the handlers beside them. */
async function imported(): Promise<string> {
  const dir = tempDir('lf-conductor-runtime-');
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(dir, f));
  const r = await cli(['import', 'conductor', '.', '--out', 'definitions'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  for (const id of ['dispatch', 'child_a', 'child_b']) {
    const v = await cli(['validate', `definitions/${id}.yaml`], { cwd: dir });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).not.toMatch(/LF_SUBWORKFLOW_NOT_FOUND/);
  }
  return dir;
}

/** What dispatch gives for INPUT and MESSAGE, whatever the store. */
function expectDispatched(output: Record<string, unknown> | null, startedRun: string): void {
  expect(output).toEqual({
    greeting: 'hello ann',
    doubled: 6,
    sum: 7,
    jq: { total: 17, label: 'n=3', keys: ['base'] },
    child: 30,
    started: startedRun,
    ghost: true,
    yielded: true,
    echoed: { hi: 1 },
  });
}

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

describe('Conductor tasks chosen at run time, imported and run', () => {
  it('imports each as the language construct it became', async () => {
    const dir = await imported();
    const yaml = readFileSync(join(dir, 'definitions', 'dispatch.yaml'), 'utf8');
    expect(yaml).toContain('handler: ${workflow.input.task}');
    expect(yaml).toContain('workflow: ${workflow.input.subwf}');
    expect(yaml).toMatch(/workflow: child_b\n\s+version: 1\n\s+wait: false/);
    expect(yaml).toContain('js: "function scriptFun(){if ($.v > 1)');
    expect(yaml).toContain('js: (function () { return ($._lf_ref1) + 1; })();');
    expect(yaml).toContain('._lf_ref1 as $_lf_ref1 | ._lf_ref2 as $_lf_ref2 | del(._lf_ref1, ._lf_ref2) |');
    expect(yaml).toContain('previous: null');
    expect(yaml).toMatch(/# note: \$\{x_test_worker_1\.output\} names x_test_worker_1, which is no task/);
    expect(yaml).toContain('ledgerflow signal <runId> pull_ref --data \'{"messages"');
  }, 120_000);

  it('runs on the embedded store: the named handler, the scripts, the chosen child, a start that does not wait, then the signals', async () => {
    const dir = await imported();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const run = await cli(['run', 'definitions/dispatch.yaml', '--handlers', './handlers.mjs', ...INPUT, '--json'], {
      cwd: dir,
      env,
    });
    expect(run.code, run.stderr).toBe(3);
    const first = JSON.parse(run.stdout) as View & { runId: string };
    expect(first.tasks.yield_ref!.status).toBe('WAITING');
    const started = (first.tasks.start_ref!.output as { runId: string; workflow: string }).runId;
    expect(first.tasks.start_ref!.output).toEqual({ runId: started, workflow: 'child_b' });
    for (const [task, data] of [
      ['yield_ref', { ok: true }],
      ['pull_ref', MESSAGE],
    ] as const) {
      const sent = await cli(['signal', first.runId, task, '--data', JSON.stringify(data)], { cwd: dir, env });
      expect(sent.code, sent.stderr).toBe(0);
    }
    const done = JSON.parse((await cli(['status', first.runId, '--json'], { cwd: dir, env })).stdout) as View;
    expect(done.status).toBe('COMPLETED');
    expectDispatched(done.output, started);
    // The run it started went on by itself, with the input it was given; its history says who started it.
    const child = JSON.parse((await cli(['status', started, '--json'], { cwd: dir, env })).stdout) as View;
    expect(child).toMatchObject({ status: 'COMPLETED', output: { marked: '3' } });
    const history = await cli(['history', started], { cwd: dir, env });
    expect(history.stdout).toContain(`started by run ${first.runId}, which does not wait for it`);
  }, 120_000);
});

describe.skipIf(noNats)('Conductor tasks chosen at run time, on NATS', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('deploys the three workflows and runs dispatch with an engine holding the handlers', async () => {
    const dir = await imported();
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    for (const id of ['child_a', 'child_b', 'dispatch']) {
      const deployed = await lf('deploy', `definitions/${id}.yaml`);
      expect(deployed.code, deployed.stderr).toBe(0);
    }
    procs.push(spawnCli(['--nats', c.url, 'engine', '--handlers', join(dir, 'handlers.mjs')], { cwd: dir }));
    const begun = await lf('start', 'dispatch', ...INPUT, '--json');
    expect(begun.code, begun.stderr).toBe(0);
    const { runId } = JSON.parse(begun.stdout) as { runId: string };
    for (const [task, data] of [
      ['yield_ref', { ok: true }],
      ['pull_ref', MESSAGE],
    ] as const) {
      await waitingOn(lf, runId, task);
      const sent = await lf('signal', runId, task, '--data', JSON.stringify(data));
      expect(sent.code, sent.stderr).toBe(0);
    }
    const done = await statusWhen<View>(lf, runId, 'COMPLETED', 60_000);
    const started = (done.tasks.start_ref!.output as { runId: string }).runId;
    expectDispatched(done.output, started);
    const child = await statusWhen<View>(lf, started, 'COMPLETED', 60_000);
    expect(child.output).toEqual({ marked: '3' });
  }, 120_000);
});

/** Waits until `task` of the run waits for its signal. */
async function waitingOn(lf: (...args: string[]) => Promise<CliResult>, runId: string, task: string): Promise<void> {
  let last = '';
  await waitFor(
    `${task} of ${runId} to wait for its signal`,
    async () => {
      const r = await lf('status', runId, '--json');
      last = r.stdout;
      return r.code === 0 && (JSON.parse(r.stdout) as View).tasks[task]?.status === 'WAITING';
    },
    { timeout: 60_000, detail: () => last },
  );
}
