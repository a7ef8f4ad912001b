/** Runs per hour, success rate, p50/p95 durations, retries and the slowest tasks per workflow (uPlot). */
import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import { api } from '../api.js';
import { Card, Empty, Loaded, PageHead, Table, useData } from '../components/common.js';
import { Plot } from '../components/plot.js';
import { duration } from '../format.js';
import { COLOURS } from '../status.js';
import type { MetricsSummary } from '../types.js';

export function MetricsPage() {
  const m = useData(() => api.get<MetricsSummary>('/api/metrics/summary'), []);
  const d = m.data;
  const plots = useMemo(() => {
    const rows = d?.perHour ?? [];
    const ws = d?.workflows ?? [];
    const idx = ws.map((_, i) => i);
    return {
      hourly: [
        rows.map((r) => Date.parse(r.hour) / 1000),
        rows.map((r) => r.started),
        rows.map((r) => r.completed),
        rows.map((r) => r.failed),
      ] as uPlot.AlignedData,
      success: [
        idx,
        ws.map((w) => (w.successRate === null ? null : Math.round(w.successRate * 1000) / 10)),
      ] as uPlot.AlignedData,
      durations: [
        idx,
        ws.map((w) => (w.p95Ms === null ? null : w.p95Ms / 1000)),
        ws.map((w) => (w.p50Ms === null ? null : w.p50Ms / 1000)),
      ] as uPlot.AlignedData,
      retries: [idx, ws.map((w) => w.retries)] as uPlot.AlignedData,
      // Made with the data (uPlot keeps its state in the series objects it is given; the chart is made afresh then).
      series: SERIES(),
    };
  }, [d]);
  const names = (d?.workflows ?? []).map((w) => w.workflowId);
  return (
    <div>
      <PageHead title="Metrics" reload={m.reload}>
        <a class="button" href="/metrics">
          Prometheus /metrics
        </a>
      </PageHead>
      <Loaded data={m}>
        {(d) => (
          <>
            <div class="stats">
              <Stat label="Runs" value={String(d.runs)} />
              <Stat
                label="Success rate"
                value={d.successRate === null ? '—' : `${(d.successRate * 100).toFixed(1)} %`}
              />
              <Stat label="Duration p50" value={duration(d.p50Ms)} />
              <Stat label="Duration p95" value={duration(d.p95Ms)} />
              <Stat label="Retries" value={String(d.retries)} />
            </div>
            <div class="plots">
              <Card title="Runs per hour">
                {d.perHour.length ? (
                  <Plot data={plots.hourly} series={plots.series.runs} yLabel="runs" />
                ) : (
                  <Empty>No runs yet.</Empty>
                )}
              </Card>
              {names.length ? (
                <>
                  <Card title="Success rate per workflow (%)">
                    <Plot data={plots.success} series={plots.series.success} categories={names} yLabel="%" yMax={100} />
                  </Card>
                  <Card title="Run duration per workflow (p50 / p95, s)">
                    <Plot data={plots.durations} series={plots.series.durations} categories={names} yLabel="seconds" />
                  </Card>
                  <Card title="Retries per workflow">
                    <Plot data={plots.retries} series={plots.series.retries} categories={names} yLabel="retries" />
                  </Card>
                </>
              ) : null}
            </div>
            <Card title="Per workflow">
              <Table
                heads={[
                  'Workflow',
                  'Runs',
                  'Completed',
                  'Failed',
                  'Success',
                  'p50',
                  'p95',
                  'Retries',
                  'Slowest tasks (p95)',
                ]}
                rows={d.workflows}
                empty="No runs yet."
                row={(w) => (
                  <tr key={w.workflowId} data-workflow={w.workflowId}>
                    <td>{w.workflowId}</td>
                    <td>{w.runs}</td>
                    <td>{w.completed}</td>
                    <td>{w.failed}</td>
                    <td>{w.successRate === null ? '—' : `${(w.successRate * 100).toFixed(1)} %`}</td>
                    <td>{duration(w.p50Ms)}</td>
                    <td>{duration(w.p95Ms)}</td>
                    <td>{w.retries}</td>
                    <td class="small">
                      {w.slowestTasks
                        .slice(0, 3)
                        .map((t) => `${t.task} ${duration(t.p95Ms)}`)
                        .join(', ') || '—'}
                    </td>
                  </tr>
                )}
              />
            </Card>
          </>
        )}
      </Loaded>
    </div>
  );
}

const SERIES = (): Record<'runs' | 'success' | 'durations' | 'retries', uPlot.Series[]> => ({
  runs: [
    { label: 'started', stroke: COLOURS.run.stroke, fill: 'rgba(47,111,223,0.08)' },
    { label: 'completed', stroke: COLOURS.ok.stroke },
    { label: 'failed', stroke: COLOURS.bad.stroke },
  ],
  success: [{ label: 'success %', stroke: COLOURS.ok.stroke, fill: 'rgba(31,157,85,0.35)' }],
  durations: [
    { label: 'p95 s', stroke: COLOURS.wait.stroke, fill: 'rgba(217,142,4,0.3)' },
    { label: 'p50 s', stroke: COLOURS.run.stroke, fill: 'rgba(47,111,223,0.45)' },
  ],
  retries: [{ label: 'retries', stroke: COLOURS.bad.stroke, fill: 'rgba(214,69,69,0.3)' }],
});

function Stat(props: { label: string; value: string }) {
  return (
    <div class="stat card">
      <div class="stat-value">{props.value}</div>
      <div class="stat-label muted">{props.label}</div>
    </div>
  );
}
