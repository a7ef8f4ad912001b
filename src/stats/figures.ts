/**
 * A workflow's figures (a definition's `monitoring.metrics`: execution_time, task_success_rate, retry_count, and
 * failure_rate) from its runs' records. Pure: no clock, no I/O. A run record (src/query) already carries what they need
 * — status, start and settling times, and per task its final status and attempts — so no run's log is folded for them.
 *
 * What each counts (docs/metrics.md#per-workflow-figures):
 * - execution_time: settled runs' durations (run.started to the settling event), ms.
 * - task_success_rate: tasks that completed ÷ tasks that settled, a task of a run counted once by its final status;
 *   settled = COMPLETED, FAILED or TIMED_OUT. A task cancelled with its run, or skipped, never got to an end of its
 *   own.
 * - retry_count: attempts beyond the first (attempts − 1 per task of a run).
 * - failure_rate: FAILED runs ÷ runs that completed or failed (1 − the dashboard's success rate).
 */
import { MONITORING_METRICS, type MonitoringMetric } from '../definition/index.js';
import { emptyTally, mergeTally, percentiles, tallyRun, type RunRecord, type RunTally } from '../query/index.js';

/** Nearest-rank percentile of ascending `sorted` (null when empty): a value some run really took. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface RunCounts {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  active: number;
}
export interface ExecutionTime {
  settled: number;
  p50Ms: number | null;
  p95Ms: number | null;
  meanMs: number | null;
  maxMs: number | null;
}
export interface SuccessCount {
  completed: number;
  settled: number;
  rate: number | null;
}
export interface TaskSuccessRate extends SuccessCount {
  tasks: Record<string, SuccessCount>;
}
export interface RetryCount {
  total: number;
  runsWithRetries: number;
  tasks: Record<string, number>;
}
export interface FailureRate {
  failed: number;
  settled: number;
  rate: number | null;
}

/** The figures of one set of runs. */
export interface Figures {
  runs: RunCounts;
  execution_time: ExecutionTime;
  task_success_rate: TaskSuccessRate;
  retry_count: RetryCount;
  failure_rate: FailureRate;
}

export interface WorkflowStats extends Figures {
  workflowId: string;
  /** The version asked for (null: every version). */
  version: number | null;
  /** Runs started at or after this time were counted (null: every run). */
  since: string | null;
  /** The figures to show first, in this order: the definition's monitoring.metrics, else all. */
  metrics: MonitoringMetric[];
  /** Where `metrics` came from: the definition's monitoring.metrics, or all when it lists none. */
  metricsFrom: 'definition' | 'all';
  /** The same figures per version, newest first. */
  versions: ({ version: number } & Figures)[];
}

export interface StatsOptions {
  workflowId: string;
  version?: number | null;
  since?: string | null;
  /** The definition's monitoring.metrics (null or absent: it lists none). */
  listed?: readonly MonitoringMetric[] | null;
  /** Task ids in the definition's order: per-task figures are listed so, others after them by id. */
  taskOrder?: readonly string[];
}

/** The figures of `records`, those of `opts.workflowId` (and version, and started since) only. */
export function workflowStats(records: readonly RunRecord[], opts: StatsOptions): WorkflowStats {
  const version = opts.version ?? null;
  const since = opts.since ?? null;
  const byVersion = new Map<number, RunTally>();
  for (const r of records) {
    if (r.workflowId !== opts.workflowId || (version !== null && r.version !== version)) continue;
    if (since !== null && r.startedAt < since) continue;
    let t = byVersion.get(r.version);
    if (!t) byVersion.set(r.version, (t = emptyTally()));
    tallyRun(t, r);
  }
  return workflowStatsOf(byVersion, opts);
}

/** The figures of runs already tallied per version (those of `opts.workflowId`, version and since only). */
export function workflowStatsOf(byVersion: ReadonlyMap<number, RunTally>, opts: StatsOptions): WorkflowStats {
  const order = opts.taskOrder ?? [];
  const listed = opts.listed && opts.listed.length > 0 ? [...new Set(opts.listed)] : null;
  const all = emptyTally();
  for (const t of byVersion.values()) mergeTally(all, t);
  return {
    workflowId: opts.workflowId,
    version: opts.version ?? null,
    since: opts.since ?? null,
    metrics: listed ?? [...MONITORING_METRICS],
    metricsFrom: listed ? 'definition' : 'all',
    ...figuresOf(all, order),
    versions: [...byVersion].sort(([a], [b]) => b - a).map(([v, t]) => ({ version: v, ...figuresOf(t, order) })),
  };
}

/** The figures of a set of runs (already chosen). */
export function figures(runs: readonly RunRecord[], taskOrder: readonly string[] = []): Figures {
  const t = emptyTally();
  for (const r of runs) tallyRun(t, r);
  return figuresOf(t, taskOrder);
}

/** The figures of a tally. */
export function figuresOf(t: RunTally, taskOrder: readonly string[] = []): Figures {
  const d = t.durations;
  const [p50Ms, p95Ms] = percentiles(d, [50, 95]);
  const tasks = new Map<string, SuccessCount>(
    Object.entries(t.tasks).map(([id, [completed, settled]]) => [id, { completed, settled, rate: null }]),
  );
  const retries = new Map(Object.entries(t.retries));
  const perTask = [...tasks.values()];
  const completed = perTask.reduce((n, s) => n + s.completed, 0);
  const settled = perTask.reduce((n, s) => n + s.settled, 0);
  const runsSettled = t.completed + t.failed;
  return {
    runs: { total: t.total, completed: t.completed, failed: t.failed, cancelled: t.cancelled, active: t.active },
    execution_time: {
      settled: d.count,
      p50Ms: p50Ms ?? null,
      p95Ms: p95Ms ?? null,
      meanMs: d.count === 0 ? null : Math.round(d.sum / d.count),
      maxMs: d.max,
    },
    task_success_rate: {
      completed,
      settled,
      rate: ratio(completed, settled),
      tasks: Object.fromEntries(
        ordered(tasks, taskOrder).map(([id, s]) => [id, { ...s, rate: ratio(s.completed, s.settled) }]),
      ),
    },
    retry_count: {
      total: [...retries.values()].reduce((n, x) => n + x, 0),
      runsWithRetries: t.runsWithRetries,
      tasks: Object.fromEntries(ordered(retries, taskOrder)),
    },
    failure_rate: { failed: t.failed, settled: runsSettled, rate: ratio(t.failed, runsSettled) },
  };
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

/** Entries in the definition's task order, the rest after them by id: the same order on every store. */
function ordered<V>(m: Map<string, V>, order: readonly string[]): [string, V][] {
  const rank = new Map(order.map((id, i) => [id, i]));
  return [...m].sort(
    ([a], [b]) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity) || (a < b ? -1 : a > b ? 1 : 0),
  );
}
