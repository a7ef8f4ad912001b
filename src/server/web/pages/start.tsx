/** Start a workflow from a form built from its declared inputs; emit a business event. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import {
  Button,
  Card,
  ErrorBox,
  Field,
  Form,
  Input,
  Json,
  Link,
  Loading,
  PageHead,
  Select,
  TextArea,
  useAction,
  useData,
} from '../components/common.js';
import { parseJson } from '../format.js';
import { buildInput, initialText, type FieldProblem } from '../input-form.js';
import { navigate } from '../router.js';
import type { WorkflowSummary } from '../types.js';
import { useDefinition, versionNumbers } from './definitions.js';

export function StartPage(props: { workflow?: string }) {
  const list = useData(() => api.get<{ workflows: WorkflowSummary[] }>('/api/definitions'), []);
  const [workflow, setWorkflow] = useState(props.workflow ?? '');
  useEffect(() => {
    if (props.workflow) setWorkflow(props.workflow);
  }, [props.workflow]);
  const defs = list.data?.workflows ?? [];
  return (
    <div>
      <PageHead title="Start a run" />
      <ErrorBox error={list.error} />
      <Card>
        <Field label="Workflow">
          <Select
            name="workflow"
            value={workflow}
            set={(w) => {
              setWorkflow(w);
              navigate(`/start/${encodeURIComponent(w)}`, { replace: true });
            }}
            blank="choose…"
            options={defs.map((d) => [d.id, d.name && d.name !== d.id ? `${d.id} — ${d.name}` : d.id] as const)}
          />
        </Field>
        {workflow ? <StartForm key={workflow} workflow={workflow} /> : null}
      </Card>
    </div>
  );
}

function StartForm(props: { workflow: string }) {
  const [version, setVersion] = useState<string>('');
  const detail = useDefinition(props.workflow, version);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const { busy, error, run } = useAction();
  // Its own field name (start.priority): a workflow input may be called priority. Blank: the workflow's own `priority:` (or 50); the server checks 0..99 and answers a 400 naming the field.
  const [priority, setPriority] = useState('');
  const decls = detail.data?.definition?.inputs ?? [];
  useEffect(() => setTexts(Object.fromEntries(decls.map((d) => [d.name, initialText(d)]))), [detail.data]);

  if (detail.error) return <ErrorBox error={detail.error} />;
  if (!detail.data) return <Loading />;
  const submit = () => {
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
  const problemOf = (field: string) => problems.find((p) => p.field === field)?.message;
  return (
    <Form class="start-form" submit={submit}>
      {versions.length > 1 ? (
        <Field label="Version">
          <Select name="version" value={version} set={setVersion} blank="latest" options={versions} />
        </Field>
      ) : null}
      {decls.length === 0 ? <p class="muted">This workflow declares no inputs.</p> : null}
      {decls.map((d) => {
        const bound = {
          name: d.name,
          value: texts[d.name] ?? '',
          set: (v: string) => setTexts({ ...texts, [d.name]: v }),
        };
        return (
          // biome-ignore lint/a11y/noLabelWithoutControl: its control is one of three below, chosen by the input's type
          <Field
            key={d.name}
            problem={problemOf(d.name)}
            label={
              <span>
                {d.name}
                {d.required && d.default === undefined ? <span class="req"> *</span> : null}{' '}
                <span class="muted small">{d.type}</span>
              </span>
            }
          >
            {d.type === 'boolean' ? (
              <Select {...bound} value={texts[d.name] ?? 'false'} options={['false', 'true']} />
            ) : d.type === 'object' || d.type === 'array' ? (
              <TextArea {...bound} rows={3} />
            ) : (
              <Input {...bound} inputMode={d.type === 'number' ? 'decimal' : undefined} />
            )}
            {d.description ? <span class="muted small">{d.description}</span> : null}
          </Field>
        );
      })}
      {/* A run's place in its workflow's concurrency queue (docs/limits.md#concurrency-limits-and-priority): 0..99, higher first. */}
      <Field
        problem={problemOf('start.priority')}
        label={
          <span>
            priority{' '}
            <span class="muted small">
              0..99, higher is admitted first when the workflow's concurrency limit queues runs
            </span>
          </span>
        }
      >
        <Input
          name="start.priority"
          inputMode="numeric"
          placeholder={`the workflow's (${detail.data.definition?.priority ?? 50})`}
          value={priority}
          set={setPriority}
        />
      </Field>
      <ErrorBox error={error} />
      <Button label={busy ? 'Starting…' : 'Start run'} class="primary" submit disabled={busy} />
    </Form>
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
  const { error, setError, run } = useAction();
  const [verdict, setVerdict] = useState<unknown>(undefined);
  const submit = () => {
    const parsed = parseJson(data, 'data: not JSON (an object, e.g. {"amount": 10})');
    if (parsed instanceof Error) return setError(parsed);
    setVerdict(undefined);
    run(() =>
      api
        .post<unknown>(`/api/events/${encodeURIComponent(type)}`, { data: parsed, ...(id ? { id } : {}) })
        .then(setVerdict),
    );
  };
  return (
    <div>
      <PageHead title="Emit an event" />
      <Card>
        <Form class="start-form" submit={submit}>
          <Field label="Event type">
            <Input name="type" placeholder="crm.lead.created" value={type} set={setType} required />
          </Field>
          <Field
            label={
              <>
                Event id <span class="muted small">(optional; the same id starts a run once)</span>
              </>
            }
          >
            <Input name="id" value={id} set={setId} />
          </Field>
          <Field label="Data (JSON)">
            <TextArea name="data" rows={6} value={data} set={setData} />
          </Field>
          <ErrorBox error={error} />
          <Button label="Emit" class="primary" submit />
        </Form>
        {verdict !== undefined ? (
          <>
            <h3>Verdict</h3>
            {startedRuns(verdict).length > 0 ? (
              <p class="started-runs">
                Started:{' '}
                {startedRuns(verdict).map((r) => (
                  <Link key={r.runId} class="mono" run={r.runId} />
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
