/**
 * The metrics page's numbers, derived from run records (never kept): runs per hour over the last 24 h, success rate,
 * p50/p95 run durations, retries and the slowest tasks per workflow. `summarize` is pure; metricsSummary gathers the
 * records from the run index (their `tasks` carry the task figures: no log is folded per request).
 */
import { SETTLED_STATUSES } from '../events/index.js';
import type { Backend } from './backend.js';
import type { RunRecord } from '../query/index.js';
// One nearest-rank percentile for this page and `ledgerflow stats`, so both give the same p95 for the same runs.
import { percentile } from '../stats/index.js';

const HOUR = 3600_000;

export interface WorkflowMetrics {
  workflowId: string;
  runs: number;
  completed: number;
  failed: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  retries: number;
  slowestTasks: { task: string; p95Ms: number; maxMs: number; samples: number }[];
}

/** Every workflow's figures together, and each workflow's. */
export interface MetricsSummary extends Pick<WorkflowMetrics, 'runs' | 'successRate' | 'p50Ms' | 'p95Ms' | 'retries'> {
  since: string;
  perHour: { hour: string; started: number; completed: number; failed: number }[];
  workflows: WorkflowMetrics[];
}

const rate = (ok: number, bad: number) => (ok + bad === 0 ? null : ok / (ok + bad));

/** Pure: the summary of `records` (with their `tasks`) as of `now`. */
export function summarize(records: RunRecord[], now: number): MetricsSummary {
  const start = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
  const perHour = Array.from({ length: 24 }, (_, i) => ({
    hour: new Date(start + i * HOUR).toISOString(),
    started: 0,
    completed: 0,
    failed: 0,
  }));
  for (const r of records) {
    const h = Math.floor((Date.parse(r.startedAt) - start) / HOUR);
    if (h >= 0 && h < 24) perHour[h]!.started++;
    const done = r.completedAt ? Math.floor((Date.parse(r.completedAt) - start) / HOUR) : -1;
    if (done >= 0 && done < 24) {
      if (r.status === 'COMPLETED') perHour[done]!.completed++;
      else if (r.status === 'FAILED') perHour[done]!.failed++;
    }
  }
  const group = (rs: RunRecord[]) => {
    const durations = rs
      .filter((r) => r.durationMs !== null && SETTLED_STATUSES.includes(r.status))
      .map((r) => r.durationMs!)
      .sort((a, b) => a - b);
    const completed = rs.filter((r) => r.status === 'COMPLETED').length;
    const failed = rs.filter((r) => r.status === 'FAILED').length;
    const retries = rs.reduce(
      (n, r) => n + Object.values(r.tasks).reduce((m, t) => m + Math.max(0, t.attempts - 1), 0),
      0,
    );
    return {
      runs: rs.length,
      completed,
      failed,
      successRate: rate(completed, failed),
      p50Ms: percentile(durations, 50),
      p95Ms: percentile(durations, 95),
      retries,
    };
  };
  const byWorkflow = new Map<string, RunRecord[]>();
  for (const r of records)
    (byWorkflow.get(r.workflowId) ?? byWorkflow.set(r.workflowId, []).get(r.workflowId)!).push(r);
  const workflows = [...byWorkflow]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([workflowId, rs]) => {
      const tasks = new Map<string, number[]>();
      for (const r of rs)
        for (const [task, t] of Object.entries(r.tasks))
          if (t.durationMs !== null) (tasks.get(task) ?? tasks.set(task, []).get(task)!).push(t.durationMs);
      const slowestTasks = [...tasks]
        .map(([task, ds]) => {
          const sorted = ds.sort((a, b) => a - b);
          return { task, p95Ms: percentile(sorted, 95)!, maxMs: sorted.at(-1)!, samples: sorted.length };
        })
        .sort((a, b) => b.p95Ms - a.p95Ms)
        .slice(0, 5);
      return { workflowId, ...group(rs), slowestTasks };
    });
  const { completed: _, failed: __, ...all } = group(records);
  return { since: new Date(start).toISOString(), perHour, ...all, workflows };
}

/** Every record from the run index (in memory on the UI: no log is read), summarized. */
export async function metricsSummary(backend: Backend, now: number): Promise<MetricsSummary> {
  return summarize((await backend.runs.query({})).runs, now);
}
