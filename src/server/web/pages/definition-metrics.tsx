/**
 * The definition page's Metrics section: the workflow's figures (GET /api/definitions/:id/stats, the JSON of
 * `ledgerflow stats --json`), those its monitoring.metrics lists in its order, else all; per task below.
 */
import { api, queryString } from '../api.js';
import { Button, Card, Empty, Loaded, Table, useData } from '../components/common.js';
import { duration } from '../format.js';
import type { MonitoringMetric, WorkflowStats } from '../types.js';

const pct = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(1)} %`);

export function DefinitionMetrics(props: { base: string; version: string }) {
  const stats = useData(
    () => api.get<WorkflowStats>(`${props.base}/stats${queryString({ version: props.version })}`),
    [props.base, props.version],
  );
  return (
    <Card title="Metrics" class="definition-metrics" actions={<Button label="Refresh" onClick={stats.reload} />}>
      <Loaded data={stats}>
        {(s) => (
          <>
            <p class="muted small" data-runs={s.runs.total}>
              {s.runs.total} runs{s.version === null ? '' : ` of version ${s.version}`}: {s.runs.completed} completed,{' '}
              {s.runs.failed} failed, {s.runs.cancelled} cancelled, {s.runs.active} not settled.{' '}
              {s.metricsFrom === 'definition'
                ? 'The figures its monitoring.metrics lists.'
                : 'Every figure (its definition lists no monitoring.metrics).'}
            </p>
            <div class="stats">
              {s.metrics.map((m) => (
                <Figure key={m} metric={m} s={s} />
              ))}
            </div>
            {Object.keys(s.task_success_rate.tasks).length + Object.keys(s.retry_count.tasks).length === 0 ? (
              <Empty>No task has run yet.</Empty>
            ) : (
              <PerTask s={s} />
            )}
          </>
        )}
      </Loaded>
    </Card>
  );
}

function Figure(props: { metric: MonitoringMetric; s: WorkflowStats }) {
  const { metric, s } = props;
  const [value, note] = (() => {
    switch (metric) {
      case 'execution_time': {
        const e = s.execution_time;
        return [
          `p50 ${duration(e.p50Ms)} · p95 ${duration(e.p95Ms)}`,
          `mean ${duration(e.meanMs)}, max ${duration(e.maxMs)}, ${e.settled} settled runs`,
        ];
      }
      case 'task_success_rate':
        return [
          pct(s.task_success_rate.rate),
          `${s.task_success_rate.completed} of ${s.task_success_rate.settled} settled tasks completed`,
        ];
      case 'retry_count':
        return [String(s.retry_count.total), `attempts beyond the first, in ${s.retry_count.runsWithRetries} runs`];
      case 'failure_rate':
        return [
          pct(s.failure_rate.rate),
          `${s.failure_rate.failed} of ${s.failure_rate.settled} completed or failed runs failed`,
        ];
    }
  })();
  return (
    <div class="stat card" data-metric={metric}>
      <div class="stat-value">{value}</div>
      <div class="stat-label">
        <span class="mono">{metric}</span>
      </div>
      <div class="muted small">{note}</div>
    </div>
  );
}

function PerTask(props: { s: WorkflowStats }) {
  const { s } = props;
  const rate = s.metrics.includes('task_success_rate');
  const retries = s.metrics.includes('retry_count');
  if (!rate && !retries) return null;
  const ids = [...new Set([...Object.keys(s.task_success_rate.tasks), ...Object.keys(s.retry_count.tasks)])];
  return (
    <Table
      heads={['Task', ...(rate ? ['task_success_rate'] : []), ...(retries ? ['retry_count'] : [])]}
      rows={ids}
      class="compact"
      row={(id) => {
        const t = s.task_success_rate.tasks[id];
        return (
          <tr key={id} data-task={id}>
            <td class="mono">{id}</td>
            {rate ? (
              <td data-figure="task_success_rate">{t ? `${pct(t.rate)} (${t.completed}/${t.settled})` : '—'}</td>
            ) : null}
            {retries ? <td data-figure="retry_count">{s.retry_count.tasks[id] ?? 0}</td> : null}
          </tr>
        );
      }}
    />
  );
}
