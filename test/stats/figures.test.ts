/**
 * The figures as docs/metrics.md#per-workflow-figures defines them, from run
 * records shaped as seed 003's workflow leaves them (scan_files retried,
 * one run failed after its attempts ran out).
 */
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/query/index.js';
import { workflowStats } from '../../src/stats/index.js';

const WF = 'inventory-validation-v1';
const T0 = Date.parse('2026-11-25T10:00:00.000Z');

function run(
  n: number,
  status: RunRecord['status'],
  ms: number | null,
  tasks: Record<string, [string, number]>,
  version = 1,
): RunRecord {
  const startedAt = new Date(T0 + n * 60_000).toISOString();
  return {
    runId: `r${n}`,
    workflowId: WF,
    version,
    status,
    startedAt,
    lastSeq: 10,
    completedAt: ms === null ? null : new Date(T0 + n * 60_000 + ms).toISOString(),
    durationMs: ms,
    tasks: Object.fromEntries(
      Object.entries(tasks).map(([id, [s, attempts]]) => [id, { status: s, attempts, durationMs: null }]),
    ),
    trigger: { kind: 'manual' },
    agents: [],
    result: '',
    outputText: null,
    waiting: [],
  } as unknown as RunRecord;
}

const RUNS = [
  run(1, 'COMPLETED', 1000, { scan_files: ['COMPLETED', 1], load_policy: ['COMPLETED', 1] }),
  run(2, 'COMPLETED', 3000, { scan_files: ['COMPLETED', 2], load_policy: ['COMPLETED', 1] }),
  run(3, 'COMPLETED', 2000, { scan_files: ['COMPLETED', 3], load_policy: ['COMPLETED', 1] }, 2),
  run(
    4,
    'FAILED',
    4000,
    { scan_files: ['FAILED', 3], load_policy: ['COMPLETED', 1], validate_compliance: ['SKIPPED', 0] },
    2,
  ),
  run(5, 'WAITING', null, { scan_files: ['COMPLETED', 1], load_policy: ['IN_PROGRESS', 1] }, 2),
];
const SEED_METRICS = ['execution_time', 'task_success_rate', 'retry_count'] as const;

describe('workflowStats', () => {
  it('execution_time, task_success_rate and retry_count over every version, newest version first', () => {
    const s = workflowStats(RUNS, {
      workflowId: WF,
      listed: SEED_METRICS,
      taskOrder: ['scan_files', 'load_policy', 'validate_compliance'],
    });
    expect(s.metrics).toEqual(SEED_METRICS);
    expect(s.metricsFrom).toBe('definition');
    expect(s.runs).toEqual({ total: 5, completed: 3, failed: 1, cancelled: 0, active: 1 });
    // Settled runs only: 1000, 2000, 3000, 4000 ms.
    expect(s.execution_time).toEqual({ settled: 4, p50Ms: 2000, p95Ms: 4000, meanMs: 2500, maxMs: 4000 });
    // Skipped and still running tasks are not settled; scan_files failed once in 5 settled.
    expect(s.task_success_rate.tasks).toEqual({
      scan_files: { completed: 4, settled: 5, rate: 0.8 },
      load_policy: { completed: 4, settled: 4, rate: 1 },
    });
    expect(s.task_success_rate).toMatchObject({ completed: 8, settled: 9 });
    expect(s.retry_count).toEqual({ total: 5, runsWithRetries: 3, tasks: { scan_files: 5, load_policy: 0 } });
    expect(s.failure_rate).toEqual({ failed: 1, settled: 4, rate: 0.25 });
    expect(s.versions.map((v) => [v.version, v.runs.total, v.retry_count.total])).toEqual([
      [2, 3, 4],
      [1, 2, 1],
    ]);
  });

  it('one version, runs started since a time; all figures when the definition lists none', () => {
    const s = workflowStats(RUNS, { workflowId: WF, version: 2, since: RUNS[3]!.startedAt });
    expect(s.metricsFrom).toBe('all');
    expect(s.metrics).toEqual(['execution_time', 'task_success_rate', 'retry_count', 'failure_rate']);
    expect(s.runs).toMatchObject({ total: 2, failed: 1, active: 1 });
    expect(s.versions.map((v) => v.version)).toEqual([2]);
  });

  it('no runs: counts of zero and no rates (null, never NaN)', () => {
    const s = workflowStats([], { workflowId: WF });
    expect(s.execution_time).toEqual({ settled: 0, p50Ms: null, p95Ms: null, meanMs: null, maxMs: null });
    expect(s.task_success_rate.rate).toBeNull();
    expect(s.failure_rate.rate).toBeNull();
    expect(s.versions).toEqual([]);
  });
});
