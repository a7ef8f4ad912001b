/** Every workflow with its versions; one workflow's graph, YAML, problems, a diff between versions and the replay verdict. */
import { useState } from 'preact/hooks';
import { api, queryString } from '../api.js';
import { Card, ErrorBox, Json, Link, Loaded, Loading, PageHead, Select, Table, useData } from '../components/common.js';
import { Graph } from '../components/graph.js';
import { MigratePanel } from '../editor/migrate-panel.js';
import { DefinitionMetrics } from './definition-metrics.js';
import type { DefinitionDetail, DefinitionDiff, Diagnostic, ReplayVerdict, WorkflowSummary } from '../types.js';

export function versionNumbers(vs: Array<number | { version: number }>): number[] {
  return [...new Set(vs.map((v) => (typeof v === 'number' ? v : v.version)))].sort((a, b) => a - b);
}

/** Workflow `id`'s definition (GET /api/definitions/:id), at `version` (its latest when blank). */
export const useDefinition = (id: string, version: string) =>
  useData(
    () => api.get<DefinitionDetail>(`/api/definitions/${encodeURIComponent(id)}${queryString({ version })}`),
    [id, version],
  );

export function DefinitionsPage() {
  const list = useData(() => api.get<{ workflows: WorkflowSummary[] }>('/api/definitions'), []);
  return (
    <div>
      <PageHead title="Definitions">
        <Link class="button primary" href="/definitions/new">
          New definition…
        </Link>
      </PageHead>
      <Loaded data={list}>
        {({ workflows }) => (
          <Table
            heads={['Workflow', 'Name', 'Versions', 'Inputs', 'Problems', '']}
            rows={workflows}
            empty="No workflows deployed."
            row={(d) => (
              <tr key={d.id} data-definition={d.id}>
                <td>
                  <Link def={d.id} />
                </td>
                <td>{d.name}</td>
                <td>
                  {versionNumbers(d.versions).join(', ')}{' '}
                  <span class="muted small">({[...new Set(d.versions.map((v) => v.source))].join(', ')})</span>
                </td>
                <td class="small">
                  {d.inputs.map((i) => `${i.name}${i.required ? '' : '?'}`).join(', ') || (
                    <span class="muted">none</span>
                  )}
                </td>
                <td>
                  {problemCount(d) ? <span class="bad">{problemCount(d)}</span> : <span class="muted">none</span>}
                </td>
                <td>
                  <Link class="button small" href={`/start/${encodeURIComponent(d.id)}`}>
                    Start…
                  </Link>
                </td>
              </tr>
            )}
          />
        )}
      </Loaded>
    </div>
  );
}

function problemCount(d: WorkflowSummary): number {
  return d.versions.reduce((n, v) => n + v.problems, 0);
}

const TABS = {
  graph: 'Graph',
  yaml: 'YAML',
  problems: 'Problems',
  diff: 'Diff',
  verdict: 'Replay verdict',
  migrate: 'Migrate runs',
};
type Tab = keyof typeof TABS;

export function DefinitionPage(props: { id: string }) {
  const [version, setVersion] = useState<string>('');
  const [tab, setTab] = useState<Tab>('graph');
  const base = `/api/definitions/${encodeURIComponent(props.id)}`;
  const detail = useDefinition(props.id, version);
  const d = detail.data;
  const versions = versionNumbers(d?.versions ?? []);
  return (
    <div>
      <PageHead title={props.id} after={d?.definition?.name ? <span class="muted">{d.definition.name}</span> : null}>
        <label class="inline">
          version
          <Select name="version" value={version || String(d?.version ?? '')} set={setVersion} options={versions} />
        </label>
        <Link class="button" href={`/definitions/${encodeURIComponent(props.id)}/edit`}>
          Edit…
        </Link>
        <Link class="button primary" href={`/start/${encodeURIComponent(props.id)}`}>
          Start…
        </Link>
      </PageHead>
      <ErrorBox error={detail.error} />
      {d?.definition?.description ? <p class="muted">{d.definition.description}</p> : null}
      <div class="tabs" role="tablist">
        {(Object.keys(TABS) as Tab[]).map((t) => (
          <button
            type="button"
            key={t}
            role="tab"
            class={tab === t ? 'active' : ''}
            aria-selected={tab === t}
            onClick={() => setTab(t)}
          >
            {TABS[t]}
            {t === 'problems' && d?.problems?.length ? ` (${d.problems.length})` : ''}
          </button>
        ))}
      </div>
      {d ? (
        <Card>
          {tab === 'graph' ? <Graph graph={d.graph} definition={d.definition} /> : null}
          {tab === 'yaml' ? <pre class="yaml">{d.yaml ?? '(no YAML kept for this version)'}</pre> : null}
          {tab === 'problems' ? <Problems problems={d.problems ?? []} /> : null}
          {tab === 'diff' ? <Diff base={base} versions={versions} /> : null}
          {tab === 'verdict' ? <Verdict base={base} versions={versions} current={d.version} /> : null}
          {/* The workflow's unsettled runs judged against the version shown, and the button that moves them (`ledgerflow migrate`). */}
          {tab === 'migrate' ? <MigratePanel workflowId={props.id} version={d.version} /> : null}
        </Card>
      ) : detail.error ? null : (
        <Loading />
      )}
      {/* Its runs' figures (all versions' until one is chosen above): what `ledgerflow stats` gives. */}
      <DefinitionMetrics base={base} version={version} />
    </div>
  );
}

function Problems(props: { problems: Diagnostic[] }) {
  if (props.problems.length === 0) return <p class="ok-text">No problems: this version validates.</p>;
  return (
    <ul class="problems">
      {props.problems.map((p, i) => (
        <li key={i} class={p.severity === 'warning' ? 'warn' : 'bad'}>
          {p.line ? (
            <span class="mono">
              {p.line}:{p.col ?? 1}{' '}
            </span>
          ) : null}
          <span class="mono muted">{p.code} </span>
          {p.message}
        </li>
      ))}
    </ul>
  );
}

function Diff(props: { base: string; versions: number[] }) {
  const vs = props.versions;
  const [from, setFrom] = useState(String(vs[vs.length - 2] ?? vs[0] ?? ''));
  const [to, setTo] = useState(String(vs[vs.length - 1] ?? ''));
  const diff = useData(() => api.get<DefinitionDiff>(`${props.base}/diff${queryString({ from, to })}`), [from, to]);
  if (vs.length < 2) return <p class="muted">Only one version: nothing to compare.</p>;
  const text = diff.data?.patch ?? null;
  return (
    <div>
      <div class="row-inline">
        <label class="inline">
          from <Select value={from} set={setFrom} options={vs} />
        </label>
        <label class="inline">
          to <Select value={to} set={setTo} options={vs} />
        </label>
      </div>
      <ErrorBox error={diff.error} />
      {diff.data?.normalised ? (
        <p class="muted small">
          One version is known only from its runs: both are shown as recorded (normalised), not as their files were
          written.
        </p>
      ) : null}
      {text !== null ? (
        <pre class="diff">
          {text.split('\n').map((line, i) => (
            <div
              key={i}
              class={line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : ''}
            >
              {line || ' '}
            </div>
          ))}
        </pre>
      ) : null}
    </div>
  );
}

function Verdict(props: { base: string; versions: number[]; current: number }) {
  const [version, setVersion] = useState(String(props.current));
  const verdict = useData(() => api.get<ReplayVerdict>(`${props.base}/verdict${queryString({ version })}`), [version]);
  const v = verdict.data;
  return (
    <div>
      <p class="muted">
        Could this version take over the workflow's recorded runs, each replaying unchanged? (
        <code>replay --all --definition</code>)
      </p>
      <label class="inline">
        candidate version <Select value={version} set={setVersion} options={props.versions} />
      </label>
      <ErrorBox error={verdict.error} />
      {verdict.loading ? (
        <Loading />
      ) : v ? (
        <div class="verdict">
          <p
            class={v.incompatible.length ? 'bad' : 'ok-text'}
            data-verdict={v.incompatible.length ? 'incompatible' : 'compatible'}
          >
            {v.runs === 0
              ? 'No recorded runs of this workflow.'
              : `${v.compatible} of ${v.runs} runs replay unchanged under version ${v.version}.`}
          </p>
          {v.incompatible.length ? (
            <Table
              heads={['Run', 'Its version', 'Where it diverges']}
              rows={v.incompatible}
              class="compact"
              row={(r) => (
                <tr key={r.runId}>
                  <td class="mono">
                    <Link run={r.runId} />
                  </td>
                  <td>{r.version}</td>
                  <td>
                    <Json value={r.divergence} />
                  </td>
                </tr>
              )}
            />
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
