/** Every workflow with its versions; one workflow's graph, YAML, problems, a diff between versions and the replay verdict. */
import { useState } from 'preact/hooks';
import { api, queryString } from '../api.js';
import { Card, ErrorBox, Json, Link, Loading, Table, useData } from '../components/common.js';
import { Graph } from '../components/graph.js';
import { MigratePanel } from '../editor/migrate-panel.js';
import { DefinitionMetrics } from './definition-metrics.js';
import type { DefinitionDetail, DefinitionDiff, Diagnostic, ReplayVerdict, WorkflowSummary } from '../types.js';

export function versionNumbers(vs: Array<number | { version: number }>): number[] {
  return [...new Set(vs.map((v) => (typeof v === 'number' ? v : v.version)))].sort((a, b) => a - b);
}

export function DefinitionsPage() {
  const list = useData(() => api.get<{ workflows: WorkflowSummary[] }>('/api/definitions'), []);
  return (
    <div>
      <div class="page-head">
        <h1>Definitions</h1>
        <div class="grow" />
        <Link class="button primary" href="/definitions/new">
          New definition…
        </Link>
      </div>
      <ErrorBox error={list.error} />
      {!list.data && !list.error ? <Loading /> : null}
      {list.data ? (
        <Table
          heads={['Workflow', 'Name', 'Versions', 'Inputs', 'Problems', '']}
          rows={list.data.workflows}
          empty="No workflows deployed."
          row={(d) => (
            <tr key={d.id} data-definition={d.id}>
              <td>
                <Link href={`/definitions/${encodeURIComponent(d.id)}`}>{d.id}</Link>
              </td>
              <td>{d.name}</td>
              <td>
                {versionNumbers(d.versions).join(', ')}{' '}
                <span class="muted small">({[...new Set(d.versions.map((v) => v.source))].join(', ')})</span>
              </td>
              <td class="small">
                {d.inputs.map((i) => `${i.name}${i.required ? '' : '?'}`).join(', ') || <span class="muted">none</span>}
              </td>
              <td>{problemCount(d) ? <span class="bad">{problemCount(d)}</span> : <span class="muted">none</span>}</td>
              <td>
                <Link class="button small" href={`/start/${encodeURIComponent(d.id)}`}>
                  Start…
                </Link>
              </td>
            </tr>
          )}
        />
      ) : null}
    </div>
  );
}

function problemCount(d: WorkflowSummary): number {
  return d.versions.reduce((n, v) => n + v.problems, 0);
}

type Tab = 'graph' | 'yaml' | 'problems' | 'diff' | 'verdict' | 'migrate';

export function DefinitionPage(props: { id: string }) {
  const [version, setVersion] = useState<string>('');
  const [tab, setTab] = useState<Tab>('graph');
  const base = `/api/definitions/${encodeURIComponent(props.id)}`;
  const detail = useData(() => api.get<DefinitionDetail>(`${base}${queryString({ version })}`), [props.id, version]);
  const d = detail.data;
  const versions = versionNumbers(d?.versions ?? []);
  return (
    <div>
      <div class="page-head">
        <h1>{props.id}</h1>
        {d?.definition?.name ? <span class="muted">{d.definition.name}</span> : null}
        <div class="grow" />
        <label class="inline">
          version
          <select
            name="version"
            value={version || String(d?.version ?? '')}
            onChange={(e) => setVersion(e.currentTarget.value)}
          >
            {versions.map((v) => (
              <option key={v} value={String(v)}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <Link class="button" href={`/definitions/${encodeURIComponent(props.id)}/edit`}>
          Edit…
        </Link>
        <Link class="button primary" href={`/start/${encodeURIComponent(props.id)}`}>
          Start…
        </Link>
      </div>
      <ErrorBox error={detail.error} />
      {d?.definition?.description ? <p class="muted">{d.definition.description}</p> : null}
      <div class="tabs" role="tablist">
        {(['graph', 'yaml', 'problems', 'diff', 'verdict', 'migrate'] as Tab[]).map((t) => (
          <button
            type="button"
            key={t}
            role="tab"
            class={tab === t ? 'active' : ''}
            aria-selected={tab === t}
            onClick={() => setTab(t)}
          >
            {t === 'yaml'
              ? 'YAML'
              : t === 'verdict'
                ? 'Replay verdict'
                : t === 'migrate'
                  ? 'Migrate runs'
                  : t[0]!.toUpperCase() + t.slice(1)}
            {t === 'problems' && d?.problems?.length ? ` (${d.problems.length})` : ''}
          </button>
        ))}
      </div>
      {!d ? (
        detail.error ? null : (
          <Loading />
        )
      ) : (
        <Card>
          {tab === 'graph' ? <Graph graph={d.graph} definition={d.definition} /> : null}
          {tab === 'yaml' ? <pre class="yaml">{d.yaml ?? '(no YAML kept for this version)'}</pre> : null}
          {tab === 'problems' ? <Problems problems={d.problems ?? []} /> : null}
          {tab === 'diff' ? <Diff base={base} versions={versions} /> : null}
          {tab === 'verdict' ? <Verdict base={base} versions={versions} current={d.version} /> : null}
          {/* The workflow's unsettled runs judged against the version shown, and the button that moves them (`ledgerflow migrate`). */}
          {tab === 'migrate' ? <MigratePanel workflowId={props.id} version={d.version} /> : null}
        </Card>
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
          from{' '}
          <select value={from} onChange={(e) => setFrom(e.currentTarget.value)}>
            {vs.map((v) => (
              <option key={v} value={String(v)}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label class="inline">
          to{' '}
          <select value={to} onChange={(e) => setTo(e.currentTarget.value)}>
            {vs.map((v) => (
              <option key={v} value={String(v)}>
                {v}
              </option>
            ))}
          </select>
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
        candidate version{' '}
        <select value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
          {props.versions.map((x) => (
            <option key={x} value={String(x)}>
              {x}
            </option>
          ))}
        </select>
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
                    <Link href={`/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</Link>
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
