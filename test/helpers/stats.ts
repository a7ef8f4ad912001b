/**
 * What `ledgerflow stats inventory-stats --json` says after the runs the stats
 * tests make (test/fixtures/stats/inventory-stats.yaml, seed 003's monitoring
 * block): two runs whose scan_files failed once then completed, one whose
 * scan_files failed its three attempts. One expectation for both stores.
 */
import { expect } from 'vitest';

export const STATS_WF = 'inventory-stats';

/** `durations`: the three runs' durationMs as `list --json` gives them. */
export function expectSeedFigures(s: unknown, durations: number[]): void {
  const [a, b, c] = [...durations].sort((x, y) => x - y) as [number, number, number];
  expect(s).toMatchObject({
    workflowId: STATS_WF,
    version: null,
    since: null,
    metrics: ['execution_time', 'task_success_rate', 'retry_count'],
    metricsFrom: 'definition',
    runs: { total: 3, completed: 2, failed: 1, cancelled: 0, active: 0 },
    execution_time: { settled: 3, p50Ms: b, p95Ms: c, maxMs: c, meanMs: Math.round((a + b + c) / 3) },
    // generate_receipt never ran in the failed run (skipped): not settled, not counted.
    task_success_rate: {
      completed: 7,
      settled: 8,
      rate: 7 / 8,
      tasks: {
        scan_files: { completed: 2, settled: 3, rate: 2 / 3 },
        load_policy: { completed: 3, settled: 3, rate: 1 },
        generate_receipt: { completed: 2, settled: 2, rate: 1 },
      },
    },
    // 1 + 1 + 2 attempts beyond the first.
    retry_count: { total: 4, runsWithRetries: 3, tasks: { scan_files: 4, load_policy: 0, generate_receipt: 0 } },
    failure_rate: { failed: 1, settled: 3, rate: 1 / 3 },
  });
  const versions = (s as { versions: unknown[] }).versions;
  expect(versions).toHaveLength(1);
  expect(versions[0]).toMatchObject({ version: 1, runs: { total: 3 }, retry_count: { total: 4 } });
}

/** The one shape `stats --json` has on both stores: every key, down to the per-task maps (docs/metrics.md). */
export const STATS_SHAPE = [
  '$.execution_time.maxMs',
  '$.execution_time.meanMs',
  '$.execution_time.p50Ms',
  '$.execution_time.p95Ms',
  '$.execution_time.settled',
  '$.failure_rate.failed',
  '$.failure_rate.rate',
  '$.failure_rate.settled',
  '$.metrics',
  '$.metricsFrom',
  '$.retry_count.runsWithRetries',
  '$.retry_count.tasks',
  '$.retry_count.total',
  '$.runs.active',
  '$.runs.cancelled',
  '$.runs.completed',
  '$.runs.failed',
  '$.runs.total',
  '$.since',
  '$.task_success_rate.completed',
  '$.task_success_rate.rate',
  '$.task_success_rate.settled',
  '$.task_success_rate.tasks',
  '$.version',
  '$.versions',
  '$.workflowId',
];

/** The keys of the JSON, all the way down except per-task maps. */
export function statsShape(s: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, at: string) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || at.endsWith('.tasks')) {
      out.push(at);
      return;
    }
    for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
  };
  walk(s, '$');
  return out.sort();
}
