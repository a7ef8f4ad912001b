/**
 * The editor (docs/dashboard.md#editing-a-definition), loaded on demand: a workflow's latest version as a draft of
 * version N+1, or a new one from a bundled template; the draft checked by the server as `ledgerflow validate` checks a
 * file (marks at line:col, the problems listed), the graph of the last draft that validated, and the deploy (verdict
 * first).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EditorView } from 'codemirror';
import { api, ApiError } from '../api.js';
import { Button, Card, ErrorBox, Link, Loading, PageHead, Select } from '../components/common.js';
import { Graph } from '../components/graph.js';
import type { Definition, DefinitionDetail, Diagnostic, Graph as GraphData } from '../types.js';
import { CodeEditor } from './code-editor.js';
import { DeployPanel } from './deploy-panel.js';
import { blankDraft, unkeptDraft, versionOf, withVersion } from './draft.js';
import type { SchemaNode } from './schema-complete.js';

interface Template {
  id: string;
  title: string;
  description: string;
  yaml: string;
}
interface Checked {
  valid: boolean;
  issues: Diagnostic[];
  workflowId?: string;
  version?: number;
  latest?: number;
  graph?: GraphData | null;
  definition?: Definition;
}

/** The draft an existing workflow starts from: its latest version's file (or, on NATS, the text it was deployed from) with the version stepped up. */
function draftOf(d: DefinitionDetail): string {
  const latest = Math.max(d.version, ...d.versions);
  return (d.source === 'file' || d.deployedText) && d.yaml
    ? withVersion(d.yaml, latest + 1)
    : unkeptDraft(d.id, d.version, latest + 1, d.source ?? 'deployed');
}

export function EditorPage(props: { id?: string }) {
  const [initial, setInitial] = useState<string | null>(null);
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [template, setTemplate] = useState('');
  const [generation, setGeneration] = useState(0);
  const [text, setText] = useState('');
  const [checked, setChecked] = useState<Checked | null>(null);
  const [good, setGood] = useState<Checked | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [schema, setSchema] = useState<SchemaNode | null>(null);
  const view = useRef<EditorView | null>(null);
  const begin = (t: string) => {
    setInitial(t);
    setText(t);
  };

  useEffect(() => {
    api.get<SchemaNode>('/api/schema').then(setSchema, () => undefined);
    if (props.id) {
      api
        .get<DefinitionDetail>(`/api/definitions/${encodeURIComponent(props.id)}`)
        .then((d) => begin(draftOf(d)), setError);
    } else {
      api.get<{ templates: Template[] }>('/api/templates').then((r) => setTemplates(r.templates), setError);
      begin(blankDraft());
    }
  }, [props.id]);

  const start = (id: string) => {
    setTemplate(id);
    begin(id ? (templates?.find((x) => x.id === id)?.yaml ?? blankDraft()) : blankDraft());
    setChecked(null);
    setGood(null);
    setGeneration((g) => g + 1);
  };

  const check = async (yaml: string): Promise<Diagnostic[]> => {
    try {
      const r = await api.post<Checked>('/api/definitions/validate', { yaml });
      setChecked(r);
      setGood(r);
      setRefused(null);
      return r.issues;
    } catch (e) {
      const body = e instanceof ApiError ? (e.body as { issues?: Diagnostic[] } | undefined) : undefined;
      if (e instanceof ApiError && e.status === 400 && body?.issues) {
        setChecked({ valid: false, issues: body.issues });
        return body.issues;
      }
      if (e instanceof ApiError && e.status === 403) setRefused(e.message);
      else setError(e);
      return [];
    }
  };

  const setVersion = (v: number) => {
    const ed = view.current;
    if (!ed) return;
    const next = withVersion(ed.state.doc.toString(), v);
    ed.dispatch({ changes: { from: 0, to: ed.state.doc.length, insert: next } });
  };

  const issues = checked?.issues ?? [];
  const version = checked?.valid ? checked.version! : (versionOf(text) ?? 1);
  return (
    <div class="editor-page" data-testid="editor-page">
      <PageHead title={props.id ? `Edit ${props.id}` : 'New definition'}>
        {props.id ? (
          <Link class="button" def={props.id}>
            Back to the definition
          </Link>
        ) : null}
      </PageHead>
      {refused ? (
        <div class="card refused" data-testid="editor-refused">
          <p class="bad">You may not edit definitions here: {refused}</p>
          <p class="muted">Editing and deploying need L1 (CMD.BRIDGE) or higher (docs/users.md).</p>
        </div>
      ) : null}
      <ErrorBox error={error} />
      {!props.id ? (
        <label class="inline">
          start from
          <Select
            name="template"
            value={template}
            set={start}
            blank="a blank definition"
            options={(templates ?? []).map((t) => [t.id, `${t.id}: ${t.title}`, t.description] as const)}
          />
        </label>
      ) : null}
      {initial === null ? (
        <Loading />
      ) : (
        <div class="editor-grid">
          <Card title="Draft" class="editor-card">
            <CodeEditor
              key={generation}
              initial={initial}
              check={check}
              onChange={setText}
              schema={schema}
              readOnly={refused !== null}
              onView={(v) => (view.current = v)}
            />
            <ul class="problems" data-testid="draft-problems" data-valid={checked ? String(checked.valid) : ''}>
              {checked && issues.length === 0 ? (
                <li class="ok-text">
                  No problems: the draft validates (as <code>ledgerflow validate</code> would say).
                </li>
              ) : null}
              {issues.map((p, i) => (
                <li key={i} class={p.severity === 'warning' ? 'warn' : 'bad'} data-line={p.line} data-col={p.col}>
                  <span class="mono">
                    {p.line ?? 1}:{p.col ?? 1}{' '}
                  </span>
                  <span class="mono muted">{p.code} </span>
                  {p.message}
                </li>
              ))}
            </ul>
          </Card>
          <Card title={good?.workflowId ? `${good.workflowId}@${good.version}` : 'Graph'} class="editor-graph">
            <div
              data-testid="draft-graph"
              data-valid={checked ? String(checked.valid) : ''}
              class={checked && !checked.valid ? 'stale' : ''}
            >
              {checked && !checked.valid && good ? (
                <p class="muted small">The draft does not validate: this is the graph of the last draft that did.</p>
              ) : null}
              {good?.graph ? (
                <Graph graph={good.graph} definition={good.definition ?? null} />
              ) : (
                <p class="muted">The graph shows once the draft validates.</p>
              )}
            </div>
          </Card>
        </div>
      )}
      {good?.workflowId && refused === null ? (
        <Card title="Deploy">
          {good.latest !== undefined && version <= good.latest ? (
            <Button
              label={`Set version ${good.latest + 1}`}
              class="small"
              onClick={() => setVersion(good.latest! + 1)}
            />
          ) : null}
          <DeployPanel
            text={text}
            workflowId={good.workflowId}
            version={version}
            latest={good.latest ?? 0}
            disabled={!checked?.valid}
          />
        </Card>
      ) : null}
    </div>
  );
}
