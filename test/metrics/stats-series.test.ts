/**
 * The Prometheus series that answer each figure of seed 003's monitoring
 * block (docs/metrics.md#per-workflow-figures), scraped from `ledgerflow serve
 * --metrics-port` as it drives the stats test's three runs (two retried then
 * completed, one failed), and checked against `ledgerflow stats --json` of
 * the same store: execution_time is ledgerflow_run_duration_seconds,
 * retry_count ledgerflow_task_retries_total, task_success_rate
 * ledgerflow_task_success_ratio (from ledgerflow_tasks_settled_total).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../src/files/index.js';
import { Engine } from '../../src/local/index.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { parsePromText, sampleValue, type PromSample } from '../helpers/prom-text.js';
import { STATS_WF as WF } from '../helpers/stats.js';
import { waitFor } from '../helpers/wait.js';
import { fileStore } from '../helpers/engine.js';

const DEF = join(ROOT, 'test', 'fixtures', 'stats', 'inventory-stats.yaml');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers.mjs');
const T = 30_000;
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

describe('the figures of monitoring.metrics in Prometheus (serve --metrics-port)', () => {
  it('execution_time, retry_count and task_success_rate per workflow and task, agreeing with ledgerflow stats', async () => {
    const store = tempDir();
    const child = spawnCli([
      '--store',
      store,
      'serve',
      '--handlers',
      HANDLERS,
      '--metrics-port',
      '0',
      '--no-schedules',
    ]);
    procs.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const url = await waitFor('the metrics URL', () => /metrics at (http:\/\/\S+)/.exec(out)?.[1], {
      timeout: T,
      detail: () => out,
    });
    const { definition } = loadDefinitionFile(DEF);
    const engine = new Engine({ store: fileStore(store) });
    for (const input of [{}, {}, { succeed_on: 5 }]) await engine.start(definition, input);
    const wf = { workflow: WF };
    const samples = await waitFor(
      'the three runs counted settled',
      async () => {
        const s = parsePromText(await (await fetch(url)).text());
        return sampleValue(s, 'ledgerflow_runs_completed_total', wf) === 2 &&
          sampleValue(s, 'ledgerflow_runs_failed_total', wf) === 1
          ? s
          : null;
      },
      { timeout: T, detail: () => out },
    );
    const v = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, { ...wf, ...labels });

    // task_success_rate: scan_files completed in 2 of the 3 runs; the skipped generate_receipt never settled in the failed one.
    expect(v('ledgerflow_task_success_ratio', { task: 'scan_files' })).toBeCloseTo(2 / 3, 10);
    expect(v('ledgerflow_task_success_ratio', { task: 'load_policy' })).toBe(1);
    expect(v('ledgerflow_task_success_ratio', { task: 'generate_receipt' })).toBe(1);
    expect(v('ledgerflow_tasks_settled_total', { task: 'scan_files', status: 'COMPLETED' })).toBe(2);
    expect(v('ledgerflow_tasks_settled_total', { task: 'scan_files', status: 'FAILED' })).toBe(1);
    expect(v('ledgerflow_tasks_settled_total', { task: 'generate_receipt', status: 'COMPLETED' })).toBe(2);
    // retry_count: 1 + 1 + 2 attempts beyond the first.
    expect(v('ledgerflow_task_retries_total', { task: 'scan_files' })).toBe(4);
    // execution_time: one observation per settled run.
    expect(v('ledgerflow_run_duration_seconds_count', { status: 'COMPLETED' })).toBe(2);
    expect(v('ledgerflow_run_duration_seconds_count', { status: 'FAILED' })).toBe(1);

    const stats = await cli(['--store', store, 'stats', WF, '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    const s = JSON.parse(stats.stdout) as {
      execution_time: { settled: number; meanMs: number };
      retry_count: { total: number };
      task_success_rate: { tasks: Record<string, { rate: number }> };
    };
    expect(sum(samples, 'ledgerflow_task_retries_total')).toBe(s.retry_count.total);
    expect(sum(samples, 'ledgerflow_run_duration_seconds_count')).toBe(s.execution_time.settled);
    // The histogram's sum is the runs' durations from the log, as stats reads them (ms rounded).
    expect(
      Math.abs((sum(samples, 'ledgerflow_run_duration_seconds_sum') * 1000) / 3 - s.execution_time.meanMs),
    ).toBeLessThanOrEqual(1);
    for (const [task, t] of Object.entries(s.task_success_rate.tasks))
      expect(v('ledgerflow_task_success_ratio', { task })).toBeCloseTo(t.rate, 10);
  }, 60_000);
});

function sum(samples: readonly PromSample[], name: string): number {
  return samples.filter((x) => x.name === name && x.labels.workflow === WF).reduce((n, x) => n + x.value, 0);
}
