/**
 * docs/language.md#a-workflow-or-handler-chosen-at-run-time, as a user follows it: the same files, the same command, on
 * the embedded store; and the same definitions deployed and run on NATS. A handler and a child workflow named by
 * templates, resolved when the attempt starts, and a SUB_WORKFLOW that does not wait for its child.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, expectEveryRunReplays, ROOT, spawnCli, statusWhen, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { markedBlock } from '../docs/markdown.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const FILES = ['route-order.yaml', 'check-label.yaml', 'audit-order.yaml', 'carriers.mjs'];

/** The fenced blocks after the marker, in order (as many as asked). */
function blocksAfter(marker: string, count: number): string[] {
  const lines = page.split('\n');
  let i = lines.findIndex((l) => l.trim().startsWith(`<!-- ${marker}`));
  expect(i).toBeGreaterThanOrEqual(0);
  const out: string[] = [];
  while (out.length < count) {
    const open = lines.findIndex((l, j) => j > i && /^```/.test(l));
    const close = lines.findIndex((l, j) => j > open && /^```\s*$/.test(l));
    out.push(`${lines.slice(open + 1, close).join('\n')}\n`);
    i = close;
  }
  return out;
}

/** A folder holding the page's four files. */
function project(): string {
  const dir = tempDir('lf-run-time-names-');
  blocksAfter('run-time-names-example', FILES.length).forEach((text, i) => writeFileSync(join(dir, FILES[i]!), text));
  return dir;
}

interface View {
  status: string;
  output: Record<string, unknown> | null;
  tasks: Record<string, { output: unknown }>;
}

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

describe('a handler and a workflow chosen at run time (docs/language.md)', () => {
  it('runs the example as the page says: ship_ups, the check-label child, and an audit run it does not wait for', async () => {
    const dir = project();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    for (const f of FILES.slice(0, 3)) {
      const v = await cli(['validate', f], { cwd: dir });
      expect(v.code, v.stderr).toBe(0);
    }
    // Every path through it runs on the real runtime (`ledgerflow test`), the template handler answered as any other.
    const paths = await cli(['test', 'route-order.yaml'], { cwd: dir });
    expect(paths.code, paths.stdout + paths.stderr).toBe(0);
    expect(paths.stdout + paths.stderr).toMatch(/4 paths, 0 expectations — all passed/);
    const [line] = markedBlock(page, 'run-time-names-commands')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter(Boolean);
    const args = line!.replace(/^npx ledgerflow /, '').split(/\s+/);
    const run = await cli([...args, '--json'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout) as View & { runId: string };
    const audit = view.output!.audit as string;
    expect(view.output).toEqual({ label: 'UPS-1Z999', checked: true, audit: `${view.runId}-audit-1` });
    expect(view.tasks.audit!.output).toEqual({ runId: audit, workflow: 'audit-order' });
    const child = JSON.parse((await cli(['status', audit, '--json'], { cwd: dir, env })).stdout) as View & {
      parent: unknown;
    };
    expect(child.status).toBe('COMPLETED');
    expect(child.parent).toMatchObject({ runId: view.runId, relation: 'start' });
    // The check child records the workflow the template chose.
    const check = JSON.parse((await cli(['status', `${view.runId}-check-1`, '--json'], { cwd: dir, env })).stdout);
    expect(check).toMatchObject({ workflowId: 'check-label', version: 1, status: 'COMPLETED' });
  }, 120_000);

  it('fails the attempt, naming the handler, when the template names one the module does not export', async () => {
    const dir = project();
    const run = await cli(
      ['run', 'route-order.yaml', '--handlers', './carriers.mjs', '--carrier', 'fedex', '--flow', 'check-label'],
      { cwd: dir, env: { LEDGERFLOW_STORE: join(dir, 'store') } },
    );
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/ship_fedex/);
  });
});

describe.skipIf(noNats)('a handler and a workflow chosen at run time, on NATS', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('deploys the three definitions and runs route-order with an engine holding the handlers', async () => {
    const dir = project();
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    for (const f of ['check-label.yaml', 'audit-order.yaml', 'route-order.yaml']) {
      const deployed = await lf('deploy', f);
      expect(deployed.code, deployed.stderr).toBe(0);
    }
    procs.push(spawnCli(['--nats', c.url, 'engine', '--handlers', join(dir, 'carriers.mjs')], { cwd: dir }));
    const started = await lf('start', 'route-order', '--carrier', 'dhl', '--flow', 'check-label', '--json');
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const done = await statusWhen<View>(lf, runId, 'COMPLETED', 60_000);
    expect(done.output).toEqual({ label: 'DHL-0042', checked: false, audit: `${runId}-audit-1` });
    const audit = await statusWhen<View>(lf, `${runId}-audit-1`, 'COMPLETED', 60_000);
    expect(audit.tasks.record!.output).toEqual({ recorded: 'DHL-0042' });
  }, 120_000);
});
