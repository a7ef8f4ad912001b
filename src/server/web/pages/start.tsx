/** Start a workflow from a form built from its declared inputs; emit a business event. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Card, ErrorBox, Json, Link, Loading, useAction, useData } from '../components/common.js';
import { buildInput, initialText, type FieldProblem } from '../input-form.js';
import { navigate } from '../router.js';
import type { DefinitionDetail, WorkflowSummary } from '../types.js';
import { versionNumbers } from './definitions.js';

export function StartPage(props: { workflow?: string }) {
  const list = useData(() => api.get<{ workflows: WorkflowSummary[] }>('/api/definitions'), []);
  const [workflow, setWorkflow] = useState(props.workflow ?? '');
  useEffect(() => {
    if (props.workflow) setWorkflow(props.workflow);
  }, [props.workflow]);
  const defs = list.data?.workflows ?? [];
  return (
    <div>
      <div class="page-head">
        <h1>Start a run</h1>
      </div>
      <ErrorBox error={list.error} />
      <Card>
        <label class="row">
          Workflow
          <select
            name="workflow"
            value={workflow}
            onChange={(e) => {
              setWorkflow(e.currentTarget.value);
              navigate(`/start/${encodeURIComponent(e.currentTarget.value)}`, { replace: true });
            }}
          >
            <option value="">choose…</option>
            {defs.map((d) => (
              <option key={d.id} value={d.id}>
                {d.id}
                {d.name && d.name !== d.id ? ` — ${d.name}` : ''}
              </option>
            ))}
          </select>
        </label>
        {workflow ? <StartForm key={workflow} workflow={workflow} /> : null}
      </Card>
    </div>
  );
}

function StartForm(props: { workflow: string }) {
  const [version, setVersion] = useState<string>('');
  const detail = useData(
    () =>
      api.get<DefinitionDetail>(
        `/api/definitions/${encodeURIComponent(props.workflow)}${version ? `?version=${version}` : ''}`,
      ),
    [props.workflow, version],
  );
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const { busy, error, run } = useAction();
  // Its own field name (start.priority): a workflow input may be called priority. Blank: the workflow's own `priority:` (or 50); the server checks 0..99 and answers a 400 naming the field.
  const [priority, setPriority] = useState('');
  const decls = detail.data?.definition?.inputs ?? [];
  useEffect(() => setTexts(Object.fromEntries(decls.map((d) => [d.name, initialText(d)]))), [detail.data]);

  if (detail.error) return <ErrorBox error={detail.error} />;
  if (!detail.data) return <Loading />;
  const submit = (e: Event) => {
    e.preventDefault();
    const built = buildInput(decls, texts);
    const prio = priorityProblem(priority);
    setProblems(prio ? [...built.problems, prio] : built.problems);
    if (built.problems.length || prio) return;
    const body = {
      input: built.input,
      ...(version ? { version: Number(version) } : {}),
      ...(priority.trim() !== '' ? { priority: Number(priority.trim()) } : {}),
    };
    run(() =>
      api
        .post<{ runId: string }>(`/api/workflows/${encodeURIComponent(props.workflow)}/start`, body)
        .then((r) => navigate(`/runs/${encodeURIComponent(r.runId)}`)),
    );
  };
  const versions = versionNumbers(detail.data.versions ?? []);
  return (
    <form class="start-form" onSubmit={submit}>
      {versions.length > 1 ? (
        <label class="row">
          Version
          <select name="version" value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
            <option value="">latest</option>
            {versions.map((v) => (
              <option key={v} value={String(v)}>
                {v}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {decls.length === 0 ? <p class="muted">This workflow declares no inputs.</p> : null}
      {decls.map((d) => {
        const problem = problems.find((p) => p.field === d.name);
        return (
          // biome-ignore lint/a11y/noLabelWithoutControl: its control is one of three below, chosen by the input's type
          <label key={d.name} class={`row${problem ? ' invalid' : ''}`}>
            <span>
              {d.name}
              {d.required && d.default === undefined ? <span class="req"> *</span> : null}{' '}
              <span class="muted small">{d.type}</span>
            </span>
            {d.type === 'boolean' ? (
              <select
                name={d.name}
                value={texts[d.name] ?? 'false'}
                onChange={(e) => setTexts({ ...texts, [d.name]: e.currentTarget.value })}
              >
                <option value="false">false</option>
                <option value="true">true</option>
              </select>
            ) : d.type === 'object' || d.type === 'array' ? (
              <textarea
                name={d.name}
                rows={3}
                value={texts[d.name] ?? ''}
                onInput={(e) => setTexts({ ...texts, [d.name]: e.currentTarget.value })}
              />
            ) : (
              <input
                name={d.name}
                value={texts[d.name] ?? ''}
                inputMode={d.type === 'number' ? 'decimal' : undefined}
                onInput={(e) => setTexts({ ...texts, [d.name]: e.currentTarget.value })}
              />
            )}
            {d.description ? <span class="muted small">{d.description}</span> : null}
            {problem ? <span class="bad small">{problem.message}</span> : null}
          </label>
        );
      })}
      <PriorityField
        value={priority}
        onInput={setPriority}
        fallback={detail.data.definition?.priority}
        problem={problems.find((p) => p.field === 'start.priority')}
      />
      <ErrorBox error={error} />
      <button class="primary" type="submit" disabled={busy}>
        {busy ? 'Starting…' : 'Start run'}
      </button>
    </form>
  );
}

/** A run's place in its workflow's concurrency queue (docs/limits.md#concurrency-limits-and-priority): 0..99, higher first. */
function PriorityField(props: {
  value: string;
  onInput: (v: string) => void;
  fallback: number | undefined;
  problem: FieldProblem | undefined;
}) {
  return (
    <label class={`row${props.problem ? ' invalid' : ''}`}>
      <span>
        priority{' '}
        <span class="muted small">
          0..99, higher is admitted first when the workflow's concurrency limit queues runs
        </span>
      </span>
      <input
        name="start.priority"
        inputMode="numeric"
        placeholder={`the workflow's (${props.fallback ?? 50})`}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      {props.problem ? <span class="bad small">{props.problem.message}</span> : null}
    </label>
  );
}

/** Checked here as the server would (it checks again): blank, or a whole number 0..99. */
function priorityProblem(text: string): FieldProblem | null {
  const t = text.trim();
  if (t === '' || /^\d{1,2}$/.test(t)) return null;
  return { field: 'start.priority', message: "priority: a whole number from 0 to 99, or blank for the workflow's" };
}

export function EmitPage() {
  const [type, setType] = useState('');
  const [id, setId] = useState('');
  const [data, setData] = useState('{}');
  const [error, setError] = useState<unknown>(null);
  const [verdict, setVerdict] = useState<unknown>(undefined);
  const submit = (e: Event) => {
    e.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      setError(new Error('data: not JSON (an object, e.g. {"amount": 10})'));
      return;
    }
    setError(null);
    setVerdict(undefined);
    api
      .post<unknown>(`/api/events/${encodeURIComponent(type)}`, { data: parsed, ...(id ? { id } : {}) })
      .then(setVerdict, setError);
  };
  return (
    <div>
      <div class="page-head">
        <h1>Emit an event</h1>
      </div>
      <Card>
        <form class="start-form" onSubmit={submit}>
          <label class="row">
            Event type
            <input
              name="type"
              placeholder="crm.lead.created"
              value={type}
              onInput={(e) => setType(e.currentTarget.value)}
              required
            />
          </label>
          <label class="row">
            Event id <span class="muted small">(optional; the same id starts a run once)</span>
            <input name="id" value={id} onInput={(e) => setId(e.currentTarget.value)} />
          </label>
          <label class="row">
            Data (JSON)
            <textarea name="data" rows={6} value={data} onInput={(e) => setData(e.currentTarget.value)} />
          </label>
          <ErrorBox error={error} />
          <button class="primary" type="submit">
            Emit
          </button>
        </form>
        {verdict !== undefined ? (
          <>
            <h3>Verdict</h3>
            {startedRuns(verdict).length > 0 ? (
              <p class="started-runs">
                Started:{' '}
                {startedRuns(verdict).map((r) => (
                  <Link key={r.runId} class="mono" href={`/runs/${encodeURIComponent(r.runId)}`}>
                    {r.runId}
                  </Link>
                ))}
              </p>
            ) : null}
            <Json value={verdict} />
          </>
        ) : null}
      </Card>
    </div>
  );
}

/** The runs an emit verdict names (embedded: `runs`; NATS: the engines' `verdict.runs`). */
function startedRuns(verdict: unknown): Array<{ runId: string }> {
  const v = verdict as { runs?: unknown; verdict?: { runs?: unknown } } | null;
  const runs = v?.runs ?? v?.verdict?.runs;
  return Array.isArray(runs)
    ? runs.filter((r): r is { runId: string } => typeof (r as { runId?: unknown })?.runId === 'string')
    : [];
}
