/**
 * One run: its graph coloured by task status (live over SSE), the selected
 * task's details, the actions, and the event timeline whose slider shows the
 * run as it was after any event (the server replays the log to that event).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, stream } from '../api.js';
import { Card, ErrorBox, Json, Link, Loading, NotFound, Status, useTitle } from '../components/common.js';
import { Graph } from '../components/graph.js';
import { runDuration, time, triggerText } from '../format.js';
import { useNow } from '../use-now.js';
import { SETTLED } from '../status.js';
import type { RunAt, RunDetail, RunView, Session } from '../types.js';
import type { PageEvent } from '../run-history.js';
import { navigate } from '../router.js';
import { RunActions } from './run-actions.js';
import { TaskPanel } from './task-panel.js';
import { Timeline } from './timeline.js';

export function RunPage(props: { runId: string; session: Session }) {
  const id = props.runId;
  const path = `/api/runs/${encodeURIComponent(id)}`;
  const [detail, setDetail] = useState<RunDetail | null>(null);
  const [events, setEvents] = useState<PageEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | null>(null);
  // Time travel: the seq the slider is at (null: the live end) and the view the server replayed to it.
  const [atSeq, setAtSeq] = useState<number | null>(null);
  const [past, setPast] = useState<RunAt | null>(null);
  const reloadTimer = useRef<number | undefined>(undefined);

  const loadDetail = () =>
    api.get<RunDetail>(path).then(
      (d) => {
        setDetail(d);
        setError(null);
      },
      (e: unknown) => setError(e),
    );
  const loadEvents = () =>
    api.get<{ events: PageEvent[] }>(`${path}/events`).then((r) => {
      setEvents(r.events);
      return r.events.at(-1)?.seq ?? 0;
    });

  useEffect(() => {
    setDetail(null);
    setEvents([]);
    setAtSeq(null);
    setPast(null);
    setSelected(null);
    let close = () => {};
    let live = true;
    const refresh = () => {
      window.clearTimeout(reloadTimer.current);
      // The view is a fold of the log: the server computes it; ask again once a burst of commits is over.
      reloadTimer.current = window.setTimeout(() => void loadDetail(), 60);
    };
    // Events first, then the view (so it is at least as new), then follow from the last event read:
    // no commit can fall between what was read and what the stream sends.
    loadEvents().then(
      (after) => {
        if (!live) return;
        void loadDetail();
        close = stream(`${path}/stream?after=${after}`, {
          events: (data) => {
            const batch = data as PageEvent[];
            setEvents((old) => {
              const last = old.length ? old[old.length - 1]!.seq : 0;
              return [...old, ...batch.filter((e) => e.seq > last)];
            });
            refresh();
          },
          record: refresh,
        });
      },
      (e: unknown) => setError(e),
    );
    return () => {
      live = false;
      close();
      window.clearTimeout(reloadTimer.current);
    };
  }, [id]);

  useEffect(() => {
    if (atSeq === null) {
      setPast(null);
      return;
    }
    let live = true;
    api.get<RunAt>(`${path}/at/${atSeq}`).then(
      (r) => {
        if (live) setPast(r);
      },
      (e: unknown) => {
        if (live) setError(e);
      },
    );
    return () => {
      live = false;
    };
  }, [atSeq, id]);

  const statuses = useMemo(() => {
    const view = past?.run ?? detail?.run;
    const out: Record<string, string> = {};
    if (view) for (const [t, v] of Object.entries(view.tasks)) out[t] = v.status;
    return out;
  }, [past, detail]);

  useTitle(atSeq === null ? id : `${id} at event ${atSeq}`);
  const clock = useNow(atSeq === null && detail !== null && !SETTLED.has(detail.run.status));

  if (error instanceof ApiError && error.status === 404) return <NotFound what={`No run ${id}.`} />;
  if (!detail) return error ? <ErrorBox error={error} /> : <Loading />;

  const run = detail.run;
  const shown = past?.run ?? run;
  const inputs = (past ?? detail).inputs ?? {};
  const lastSeq = Math.max(run.seq, events.length ? events[events.length - 1]!.seq : 0);
  const visibleEvents = atSeq === null ? events : events.filter((e) => e.seq <= atSeq);
  // Time travel: the whole page as of the chosen event (the header's record and linked runs too), and no actions.
  const travelling = atSeq !== null;
  // Until the past view arrives nothing of now is shown in its place (a header mixing now and then would mislead).
  const record = travelling ? past?.record : detail.record;
  const children = travelling ? (past?.children ?? []) : detail.children;
  const retries = travelling ? (past?.retries ?? []) : detail.retries;
  const retryOf = record?.trigger.kind === 'retry' ? record.trigger.runId : undefined;
  const parent = detail.parent ?? run.parent;
  // The time the shown view is of: the chosen event's when travelling back, else now.
  const now = atSeq !== null ? Date.parse(events.find((e) => e.seq === atSeq)?.time ?? '') || clock : clock;
  const waiting = Object.entries(shown.tasks)
    .filter(([, t]) => t.status === 'PENDING_APPROVAL')
    .map(([t]) => t);

  return (
    <div
      class={`run-page${travelling ? ' travelling' : ''}`}
      data-run={run.runId}
      data-status={run.status}
      data-shown-status={shown.status}
    >
      <div class="page-head">
        <h1 class="mono">{run.runId}</h1>
        <Status status={shown.status} />
        <div class="grow" />
        <a class="button" href={`${path}/statechart`} download={`${run.workflowId}-v${run.version}.statechart.json`}>
          Statechart JSON
        </a>
      </div>
      <dl class="facts">
        <div>
          <dt>Workflow</dt>
          <dd>
            <Link href={`/definitions/${encodeURIComponent(run.workflowId)}`}>{run.workflowId}</Link>
            <span class="muted">@{run.version}</span>
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd title={run.startedAt}>{time(run.startedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd data-fact="duration">{runDuration(shown, now)}</dd>
        </div>
        {shown.timeout ? (
          <div data-fact="timeout">
            <dt>Timeout</dt>
            <dd title={shown.timeout.deadline}>
              {shown.timeout.after}, {SETTLED.has(shown.status) ? 'was due' : 'due'} {time(shown.timeout.deadline)}{' '}
              <span class="muted">(then {shown.timeout.policy === 'cancel' ? 'cancelled' : 'failed'})</span>
            </dd>
          </div>
        ) : null}
        {shown.queue ? (
          <div data-fact="queue">
            <dt>Queue</dt>
            <dd class="small">
              priority <span data-priority>{shown.queue.priority}</span>, limit {shown.queue.limit}
              {shown.queue.key !== null ? ` per key ${shown.queue.key}` : ''};{' '}
              {shown.queue.admittedAt ? (
                <>
                  admitted <span title={shown.queue.admittedAt}>{time(shown.queue.admittedAt)}</span>
                </>
              ) : (
                'waiting for a slot'
              )}
            </dd>
          </div>
        ) : null}
        {shown.gate ? (
          <div data-fact="gate">
            <dt>Trigger gate</dt>
            <dd class="small">
              {shown.gate.kind} triggers[{shown.gate.trigger}]{shown.gate.key ? ` key ${shown.gate.key}` : ''}:{' '}
              {shown.gate.count} event{shown.gate.count === 1 ? '' : 's'}
              {shown.gate.absorbed?.length ? ` (merged ${shown.gate.absorbed.join(', ')})` : ''}
            </dd>
          </div>
        ) : null}
        {parent ? (
          <div>
            <dt>{parent.relation === 'failure' ? 'Failure workflow of' : 'Parent'}</dt>
            <dd>
              <Link class="mono" href={`/runs/${encodeURIComponent(parent.runId)}`}>
                {parent.runId}
              </Link>
              {parent.task ? <span class="muted"> ({parent.task})</span> : null}
            </dd>
          </div>
        ) : null}
        {record ? (
          <div>
            <dt>Trigger</dt>
            <dd class="small" data-trigger={record.trigger.kind}>
              {triggerText(record.trigger)}
            </dd>
          </div>
        ) : null}
        {record?.agents.length ? (
          <div>
            <dt>Agents</dt>
            <dd class="small">{record.agents.join(', ')}</dd>
          </div>
        ) : null}
        {retryOf ? (
          <div>
            <dt>Retry of</dt>
            <dd>
              <Link class="mono" href={`/runs/${encodeURIComponent(retryOf)}`}>
                {retryOf}
              </Link>
            </dd>
          </div>
        ) : null}
        {retries && retries.length > 0 ? (
          <div>
            <dt>Retried as</dt>
            <dd class="children">
              {retries.map((r) => (
                <Link key={r.runId} class="mono" href={`/runs/${encodeURIComponent(r.runId)}`}>
                  {r.runId} ({r.status})
                </Link>
              ))}
            </dd>
          </div>
        ) : null}
        {shown.failureRun ? (
          <div>
            <dt>Failure run</dt>
            <dd>
              <Link class="mono" href={`/runs/${encodeURIComponent(shown.failureRun)}`}>
                {shown.failureRun}
              </Link>
            </dd>
          </div>
        ) : null}
        {children && children.length > 0 ? (
          <div>
            <dt>Children</dt>
            <dd class="children" data-fact="children">
              {children.map((c) => (
                <Link key={c.runId} class="mono" href={`/runs/${encodeURIComponent(c.runId)}`}>
                  {c.runId}
                  {c.status ? ` (${c.status})` : ''}
                </Link>
              ))}
            </dd>
          </div>
        ) : null}
      </dl>

      {atSeq !== null ? (
        <div class="banner travel" role="status">
          Showing the run as it was after event {atSeq} of {lastSeq}.{' '}
          <button type="button" class="link" onClick={() => setAtSeq(null)}>
            Back to live
          </button>
        </div>
      ) : null}

      {/* The embedded store: no process drives this run (left by start --detach, a killed process...): what would. */}
      {!travelling && run.undriven ? (
        <div class="banner undriven" role="status" data-undriven>
          {run.undriven}
        </div>
      ) : null}

      <RunActions
        run={run}
        definition={detail.definition}
        session={props.session}
        waiting={waiting}
        travelling={travelling}
        onBackToLive={() => setAtSeq(null)}
        onDone={() => {
          void loadDetail();
        }}
      />

      <div class="run-grid graph-row">
        <Card title="Graph" class="graph-card">
          <Graph
            graph={detail.graph}
            definition={detail.definition}
            statuses={statuses}
            tasks={shown.tasks}
            now={now}
            selected={selected}
            onSelect={(node) =>
              node.startsWith('workflow:')
                ? navigate(`/definitions/${encodeURIComponent(node.slice('workflow:'.length))}`)
                : setSelected(node)
            }
          />
        </Card>
        <Card title={selected ? `Task ${selected}` : 'Task'} class="task-card">
          {selected ? (
            <TaskPanel
              id={selected}
              view={shown}
              definition={detail.definition}
              events={visibleEvents}
              now={now}
              resolved={inputs[instanceOf(selected, shown)]}
            />
          ) : (
            <p class="muted">Select a task in the graph.</p>
          )}
        </Card>
      </div>

      <div class="run-grid">
        <Card title="Input">
          <Json value={run.input} />
        </Card>
        <Card title={shown.error ? 'Error' : 'Output'}>
          {shown.error ? <Json value={shown.error} class="bad" /> : <Json value={shown.output ?? null} />}
        </Card>
      </div>

      <Timeline events={events} lastSeq={lastSeq} atSeq={atSeq} onSeek={(s) => setAtSeq(s >= lastSeq ? null : s)} />
    </div>
  );
}

/** A task's current instance key, as the server names inputs: `task`, or `task#2` for a loop body's iteration 2. */
function instanceOf(task: string, view: RunView): string {
  const iteration = view.tasks[task]?.iteration;
  return iteration === undefined ? task : `${task}#${iteration}`;
}
