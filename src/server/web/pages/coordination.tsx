/**
 * The COORDINATION tab: which workflow starts which (GET /api/map, docs/coordination.md), as `ledgerflow map` prints
 * it, and the emergency stop: every run a filter matches cancelled, after its count is shown (POST /api/bulk/cancel, a
 * dry run, then the count as `confirm`).
 */
import { useEffect, useState } from 'preact/hooks';
import type { AgentRow } from '../../../coordination/agents.js';
import type { MapEdge, WorkflowMap } from '../../../coordination/map.js';
import type { WorkflowParticipation } from '../../../coordination/participation.js';
import { api } from '../api.js';
import {
  Button,
  Card,
  ErrorBox,
  Form,
  Input,
  Link,
  Loaded,
  PageHead,
  Select,
  Table,
  useData,
} from '../components/common.js';
import { Refused, useBulk } from './runs-bulk-bar.js';

const HOW: Record<MapEdge['kind'], string> = {
  sub_workflow: 'sub-workflow',
  map: 'MAP items',
  emit: 'emits',
  failure_workflow: 'on failure',
};
const wf = (id: string) => <Link def={id} />;

export function CoordinationPage() {
  const map = useData(() => api.get<WorkflowMap>('/api/map'), []);
  const m = map.data;
  return (
    <div>
      <PageHead title="Coordination" reload={map.reload} />
      <p class="muted">
        Which workflow starts which: a sub-workflow or MAP task's child runs, an EMIT task whose event a trigger hears,
        a failure workflow.
      </p>
      <Loaded data={map}>
        {(m) => (
          <Card title="Dependency map">
            <Table
              heads={['Workflow', 'Starts', 'How', 'Task']}
              rows={m.edges}
              empty="No workflow here starts another."
              testid="workflow-map"
              row={(e) => (
                <tr
                  key={`${e.from}>${e.kind}>${e.to}>${e.task ?? ''}`}
                  data-edge={`${e.from}>${e.to}`}
                  data-kind={e.kind}
                >
                  <td>{wf(e.from)}</td>
                  <td>
                    {e.builtIn ? (
                      <span>
                        {e.to} <span class="muted small">(built-in steps {e.builtIn.join(', ')})</span>
                      </span>
                    ) : (
                      wf(e.to)
                    )}
                  </td>
                  <td>
                    {HOW[e.kind]}
                    {e.event ? <span class="mono"> {e.event}</span> : null}
                  </td>
                  <td class="mono small">{e.task ?? ''}</td>
                </tr>
              )}
            />
            {m.unheard.map((u) => (
              <p key={`u${u.from}${u.task}`} class="muted small" data-unheard={u.event}>
                {u.from} emits <span class="mono">{u.event}</span> (task {u.task}): no workflow here listens to it
              </p>
            ))}
            {m.dynamic.map((u) => (
              <p key={`d${u.from}${u.task}`} class="muted small" data-dynamic={u.task}>
                {u.from} emits <span class="mono">{u.event}</span> (task {u.task}): known when it runs
              </p>
            ))}
            {m.missing.map((u) => (
              <p key={`m${u.from}${u.to}`} class="muted small" data-missing={u.to}>
                {u.from} starts {u.to}, which no definition here defines
              </p>
            ))}
          </Card>
        )}
      </Loaded>
      <Agents />
      <EmergencyStop workflows={m?.workflows.map((w) => w.id) ?? []} />
      {m ? (
        <Card title="What starts each workflow">
          <Table
            heads={['Workflow', 'Domain', 'Events heard', 'Schedules']}
            rows={m.workflows}
            row={(w) => (
              <tr key={w.id} data-workflow={w.id}>
                <td>
                  {wf(w.id)}
                  <span class="muted">@{w.version}</span>
                </td>
                <td>{w.domain ?? ''}</td>
                <td class="mono small">{w.listens.join(', ')}</td>
                <td class="mono small">{w.schedules.join(', ')}</td>
              </tr>
            )}
          />
        </Card>
      ) : null}
    </div>
  );
}

/** Cancel every run a filter matches: preview (a dry run) shows how many and which; the button says the count it sends. */
function EmergencyStop(props: { workflows: string[] }) {
  const [workflow, setWorkflow] = useState('');
  const [status, setStatus] = useState('');
  const [reason, setReason] = useState('emergency stop');
  const query = { ...(workflow ? { workflow } : {}), ...(status ? { status } : {}) };
  const { busy, error, preview, setPreview, done, look, go } = useBulk('cancel', { query }, { reason });
  useEffect(() => setPreview(null), [workflow, status]);
  return (
    <Card title="Emergency stop">
      <Form class="inline-form" testid="emergency-stop" submit={look}>
        <label>
          Workflow <Select name="workflow" value={workflow} set={setWorkflow} blank="any" options={props.workflows} />
        </label>
        <label>
          Status{' '}
          <Select
            name="status"
            value={status}
            set={setStatus}
            blank="any not settled"
            options={['RUNNING', 'WAITING', 'PAUSED', 'QUEUED']}
          />
        </label>
        <label>
          Reason <Input name="reason" value={reason} set={setReason} />
        </label>
        <Button label="Preview" submit disabled={busy || (!workflow && !status)} />
      </Form>
      {!workflow && !status ? (
        <p class="muted small">Choose a workflow or a status: a stop never means every run by accident.</p>
      ) : null}
      <ErrorBox error={error} />
      {preview ? (
        <div data-testid="stop-preview">
          <p>
            <strong>{preview.would.length}</strong> run(s) would be cancelled
            {preview.already.length ? `; ${preview.already.length} already settled` : ''}.
          </p>
          {preview.would.length ? (
            <Button label={`Cancel ${preview.would.length} run(s)`} class="danger" disabled={busy} onClick={go} />
          ) : null}
          <ul class="small mono">
            {preview.would.slice(0, 20).map((id) => (
              <li key={id}>
                <Link run={id} />
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {done ? (
        <p data-testid="stop-done">
          Cancelled {(done.cancelled as string[]).length} run(s); {done.already.length} already settled;{' '}
          {done.refused.length} refused.
        </p>
      ) : null}
      <Refused done={done} />
    </Card>
  );
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Who works on the store (GET /api/agents, as `ledgerflow agents`): file agents up or gone, workers the engines hear; who took part per workflow. */
function Agents() {
  const list = useData(
    () => api.get<{ agents: AgentRow[]; participation: WorkflowParticipation[] }>('/api/agents'),
    [],
  );
  const byWorkflow = list.data?.participation ?? [];
  return (
    <Card title="Agents" actions={<Button label="Refresh" onClick={list.reload} />}>
      <Loaded data={list}>
        {({ agents: rows }) => (
          <Table
            heads={[
              'Name',
              'Kind',
              'State',
              'Queue',
              'Level',
              'Skills / handlers',
              'In flight',
              'Utilization 1m / 15m',
              'Breakers',
              'Last seen',
            ]}
            rows={rows}
            empty="No agent or worker seen: start one (`ledgerflow agent`, `ledgerflow worker`)."
            testid="agents"
            row={(r) => (
              <tr key={`${r.kind}:${r.name}:${r.queue}`} data-agent={r.name} data-state={r.state}>
                <td>
                  {r.name}
                  {r.user ? <span class="muted small"> ({r.user})</span> : null}
                </td>
                <td>{r.kind}</td>
                <td>{r.state}</td>
                <td>{r.queue}</td>
                <td>{r.level ?? ''}</td>
                <td class="small">{[...r.skills, ...(r.handlers ?? [])].join(', ')}</td>
                <td>{r.inFlight ?? ''}</td>
                <td data-fact="utilization">
                  {r.utilization ? `${pct(r.utilization.m1)} / ${pct(r.utilization.m15)}` : ''}
                </td>
                <td class="small" data-fact="breakers">
                  {(r.breakers ?? []).map((b) => `${b.name} ${b.state}`).join(', ')}
                </td>
                <td class="small" title={r.lastSeen}>
                  {r.lastSeen}
                </td>
              </tr>
            )}
          />
        )}
      </Loaded>
      {byWorkflow.length > 0 ? (
        <Table
          heads={['Workflow', 'Runs', 'Who took part (runs)']}
          rows={byWorkflow}
          testid="participation"
          row={(w) => (
            <tr key={w.workflow} data-workflow={w.workflow}>
              <td>{w.workflow}</td>
              <td>{w.runs}</td>
              <td class="small">{w.agents.map((a) => `${a.name} (${a.runs})`).join(', ')}</td>
            </tr>
          )}
        />
      ) : null}
    </Card>
  );
}
