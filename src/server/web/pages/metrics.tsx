/** Runs per hour, success rate, p50/p95 durations, retries and the slowest tasks per workflow (uPlot). */
import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import { api } from '../api.js';
import { Card, Empty, ErrorBox, Loading, Table, useData } from '../components/common.js';
import { Plot } from '../components/plot.js';
import { duration } from '../format.js';
import { COLOURS } from '../status.js';
import type { MetricsSummary } from '../types.js';

export function MetricsPage() {
  const m = useData(() => api.get<MetricsSummary>('/api/metrics/summary'), []);
  const d = m.data;
  const hourly = useMemo(() => {
    const rows = d?.perHour ?? [];
    return [
      rows.map((r) => Date.parse(r.hour) / 1000),
      rows.map((r) => r.started),
      rows.map((r) => r.completed),
      rows.map((r) => r.failed),
    ] as uPlot.AlignedData;
  }, [d]);
  const perWorkflow = useMemo(() => {
    const ws = d?.workflows ?? [];
    const idx = ws.map((_, i) => i);
    return {
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
    };
  }, [d]);
  const names = (d?.workflows ?? []).map((w) => w.workflowId);
  const runSeries = useMemo<uPlot.Series[]>(
    () => [
      { label: 'started', stroke: COLOURS.run.stroke, fill: 'rgba(47,111,223,0.08)' },
      { label: 'completed', stroke: COLOURS.ok.stroke },
      { label: 'failed', stroke: COLOURS.bad.stroke },
    ],
    [],
  );
  const successSeries = useMemo<uPlot.Series[]>(
    () => [{ label: 'success %', stroke: COLOURS.ok.stroke, fill: 'rgba(31,157,85,0.35)' }],
    [],
  );
  const durationSeries = useMemo<uPlot.Series[]>(
    () => [
      { label: 'p95 s', stroke: COLOURS.wait.stroke, fill: 'rgba(217,142,4,0.3)' },
      { label: 'p50 s', stroke: COLOURS.run.stroke, fill: 'rgba(47,111,223,0.45)' },
    ],
    [],
  );
  const retrySeries = useMemo<uPlot.Series[]>(
    () => [{ label: 'retries', stroke: COLOURS.bad.stroke, fill: 'rgba(214,69,69,0.3)' }],
    [],
  );

  return (
    <div>
      <div class="page-head">
        <h1>Metrics</h1>
        <div class="grow" />
        <button type="button" onClick={m.reload}>
          Refresh
        </button>
        <a class="button" href="/metrics">
          Prometheus /metrics
        </a>
      </div>
      <ErrorBox error={m.error} />
      {!d && !m.error ? <Loading /> : null}
      {d ? (
        <>
          <div class="stats">
            <Stat label="Runs" value={String(d.runs)} />
            <Stat label="Success rate" value={d.successRate === null ? '—' : `${(d.successRate * 100).toFixed(1)} %`} />
            <Stat label="Duration p50" value={duration(d.p50Ms)} />
            <Stat label="Duration p95" value={duration(d.p95Ms)} />
            <Stat label="Retries" value={String(d.retries)} />
          </div>
          <div class="plots">
            <Card title="Runs per hour">
              {d.perHour.length ? <Plot data={hourly} series={runSeries} yLabel="runs" /> : <Empty>No runs yet.</Empty>}
            </Card>
            {names.length ? (
              <>
                <Card title="Success rate per workflow (%)">
                  <Plot data={perWorkflow.success} series={successSeries} categories={names} yLabel="%" yMax={100} />
                </Card>
                <Card title="Run duration per workflow (p50 / p95, s)">
                  <Plot data={perWorkflow.durations} series={durationSeries} categories={names} yLabel="seconds" />
                </Card>
                <Card title="Retries per workflow">
                  <Plot data={perWorkflow.retries} series={retrySeries} categories={names} yLabel="retries" />
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
      ) : null}
    </div>
  );
}

function Stat(props: { label: string; value: string }) {
  return (
    <div class="stat card">
      <div class="stat-value">{props.value}</div>
      <div class="stat-label muted">{props.label}</div>
    </div>
  );
}
