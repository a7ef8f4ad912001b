/** What fires when (schedules, event triggers) and who runs the work (engines, workers, queues on NATS). */
import type { ComponentChildren } from 'preact';
import { api } from '../api.js';
import { AutoTable, rowsOf } from '../components/auto-table.js';
import { Card, Empty, ErrorBox, Json, Loading, useData } from '../components/common.js';

function ListPage(props: { title: string; path: string; field: string; intro: ComponentChildren; empty: string }) {
  const list = useData(() => api.get<unknown>(props.path), [props.path]);
  const rows = rowsOf(list.data, props.field);
  return (
    <div>
      <div class="page-head"><h1>{props.title}</h1><div class="grow" /><button onClick={list.reload}>Refresh</button></div>
      <p class="muted">{props.intro}</p>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data !== undefined ? (rows ? (rows.length ? <Card><AutoTable rows={rows} /></Card> : <Empty>{props.empty}</Empty>) : <Card><Json value={list.data} /></Card>) : null}
    </div>
  );
}

export function SchedulesPage() {
  return <ListPage title="Schedules" path="/api/schedules" field="schedules" intro="Each schedule trigger: its cron and zone, the next slots and the last one fired." empty="No schedule triggers in the deployed workflows." />;
}

export function TriggersPage() {
  return <ListPage title="Triggers" path="/api/triggers" field="triggers" intro="Which business events start which workflows, with their filters." empty="No event triggers." />;
}

export function WorkersPage() {
  const data = useData(() => api.get<Record<string, unknown>>('/api/workers'), []);
  const d = data.data;
  const sections = d ? Object.entries(d).filter(([, v]) => Array.isArray(v)) as Array<[string, Array<Record<string, unknown>>]> : [];
  return (
    <div>
      <div class="page-head"><h1>Workers and engines</h1><div class="grow" /><button onClick={data.reload}>Refresh</button></div>
      <p class="muted">On NATS: the engines and workers connected now, and each task queue with its backlog. The embedded store runs everything in this process.</p>
      <ErrorBox error={data.error} />
      {data.loading && !d ? <Loading /> : null}
      {d && sections.length === 0 ? <Card><Json value={d} /></Card> : null}
      {sections.map(([name, rows]) => (
        <Card key={name} title={name[0]!.toUpperCase() + name.slice(1)}>{rows.length ? <AutoTable rows={rows} /> : <Empty>none</Empty>}</Card>
      ))}
    </div>
  );
}
