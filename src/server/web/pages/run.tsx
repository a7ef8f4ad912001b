/**
 * One run: its graph coloured by task status (live over SSE), the selected task's details, the actions, and the event
 * timeline whose slider shows the run as it was after any event (the server replays the log to that event).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, stream } from '../api.js';
import {
  Button,
  Card,
  ErrorBox,
  Fact,
  Json,
  Link,
  Loading,
  NotFound,
  PageHead,
  Status,
  useData,
  useTitle,
} from '../components/common.js';
import { Graph } from '../components/graph.js';
import { runDuration, time, triggerText } from '../format.js';
import { useNow } from '../use-now.js';
import { SETTLED } from '../status.js';
import type { RunAt, RunDetail, RunView, Session } from '../types.js';
import type { PageEvent } from '../run-history.js';
import { navigate } from '../router.js';
import { RunActions } from './run-actions.js';
import { ForkHere } from './fork-here.js';
import { TaskPanel } from './task-panel.js';
import { progressInView, RunProgress } from './run-progress.js';
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
  const at = useData(
    () => (atSeq === null ? Promise.resolve(null) : api.get<RunAt>(`${path}/at/${atSeq}`)),
    [atSeq, id],
  );
  const past = atSeq === null ? null : (at.data ?? null);
  const reloadTimer = useRef<number | undefined>(undefined);

  // How long the last view took the server to make: a run of 40,000 events takes seconds to fold, and asking again
  // after every burst of its commits would keep the server folding it without end.
  const lastLoadMs = useRef(0);
  const loadDetail = () => {
    const began = Date.now();
    return api.get<RunDetail>(path).then(
      (d) => {
        lastLoadMs.current = Date.now() - began;
        setDetail(d);
        setError(null);
      },
      (e: unknown) => setError(e),
    );
  };
  const loadEvents = () =>
    api.get<{ events: PageEvent[] }>(`${path}/events`).then((r) => {
      setEvents(r.events);
      return r.events.at(-1)?.seq ?? 0;
    });

  useEffect(() => {
    setDetail(null);
    setEvents([]);
    setAtSeq(null);
    setSelected(null);
    let close = () => {};
    let live = true;
    // The view is a fold of the log: the server computes it. After a commit the page asks again once (60 ms gathers a
    // burst of commits), and while that ask is waiting or under way later commits only mark it stale: one more ask
    // follows it. Each ask waits at least as long as the last took to make, so a run whose view takes seconds to fold
    // costs the server at most half its time, and a run that never stops committing is still shown as it goes.
    let waiting = false;
    let stale = false;
    const ask = () => {
      waiting = true;
      stale = false;
      void loadDetail().finally(() => {
        waiting = false;
        if (stale && live) refresh();
      });
    };
    const refresh = () => {
      if (waiting) {
        stale = true;
        return;
      }
      waiting = true;
      reloadTimer.current = window.setTimeout(ask, Math.max(60, lastLoadMs.current));
    };
    // Events first, then the view (so it is at least as new), then follow from the last event read:
    // no commit can fall between what was read and what the stream sends.
    loadEvents().then(
      (after) => {
        if (!live) return;
        ask();
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

  const statuses = useMemo(
    () => Object.fromEntries(Object.entries((past ?? detail)?.run.tasks ?? {}).map(([t, v]) => [t, v.status])),
    [past, detail],
  );

  useTitle(atSeq === null ? id : `${id} at event ${atSeq}`);
  const clock = useNow(atSeq === null && detail !== null && !SETTLED.has(detail.run.status));

  const failed = error ?? at.error;
  if (failed instanceof ApiError && failed.status === 404) return <NotFound what={`No run ${id}.`} />;
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
      <PageHead title={run.runId} class="mono" after={<Status status={shown.status} />}>
        <a class="button" href={`${path}/statechart`} download={`${run.workflowId}-v${run.version}.statechart.json`}>
          Statechart JSON
        </a>
      </PageHead>
      <dl class="facts">
        <Fact term="Workflow">
          <Link def={run.workflowId} />
          <span class="muted">@{run.version}</span>
        </Fact>
        <Fact term="Started" dd={{ title: run.startedAt }}>
          {time(run.startedAt)}
        </Fact>
        <Fact term="Duration" dd={{ 'data-fact': 'duration' }}>
          {runDuration(shown, now)}
        </Fact>
        {shown.timeout ? (
          <Fact term="Timeout" fact="timeout" dd={{ title: shown.timeout.deadline }}>
            {shown.timeout.after}, {SETTLED.has(shown.status) ? 'was due' : 'due'} {time(shown.timeout.deadline)}{' '}
            <span class="muted">(then {shown.timeout.policy === 'cancel' ? 'cancelled' : 'failed'})</span>
          </Fact>
        ) : null}
        {shown.queue ? (
          <Fact term="Queue" fact="queue" dd={{ class: 'small' }}>
            priority <span data-priority>{shown.queue.priority}</span>, limit {shown.queue.limit}
            {shown.queue.key !== null ? ` per key ${shown.queue.key}` : ''};{' '}
            {shown.queue.admittedAt ? (
              <>
                admitted <span title={shown.queue.admittedAt}>{time(shown.queue.admittedAt)}</span>
              </>
            ) : (
              'waiting for a slot'
            )}
          </Fact>
        ) : null}
        {shown.gate ? (
          <Fact term="Trigger gate" fact="gate" dd={{ class: 'small' }}>
            {shown.gate.kind} triggers[{shown.gate.trigger}]{shown.gate.key ? ` key ${shown.gate.key}` : ''}:{' '}
            {shown.gate.count} event{shown.gate.count === 1 ? '' : 's'}
            {shown.gate.absorbed?.length ? ` (merged ${shown.gate.absorbed.join(', ')})` : ''}
          </Fact>
        ) : null}
        {parent ? (
          <Fact term={parent.relation === 'failure' ? 'Failure workflow of' : 'Parent'}>
            <Link class="mono" run={parent.runId} />
            {parent.task ? <span class="muted"> ({parent.task})</span> : null}
          </Fact>
        ) : null}
        {record ? (
          <Fact term="Trigger" dd={{ class: 'small', 'data-trigger': record.trigger.kind }}>
            {triggerText(record.trigger)}
          </Fact>
        ) : null}
        {record?.agents.length ? (
          <Fact term="Agents" dd={{ class: 'small' }}>
            {record.agents.join(', ')}
          </Fact>
        ) : null}
        {retryOf ? (
          <Fact term="Retry of">
            <Link class="mono" run={retryOf} />
          </Fact>
        ) : null}
        {retries && retries.length > 0 ? (
          <Fact term="Retried as" dd={{ class: 'children' }}>
            {retries.map((r) => (
              <Link key={r.runId} class="mono" run={r.runId}>
                {r.runId} ({r.status})
              </Link>
            ))}
          </Fact>
        ) : null}
        {shown.failureRun ? (
          <Fact term="Failure run">
            <Link class="mono" run={shown.failureRun} />
          </Fact>
        ) : null}
        {children && children.length > 0 ? (
          <Fact term="Children" dd={{ class: 'children', 'data-fact': 'children' }}>
            {children.map((c) => (
              <Link key={c.runId} class="mono" run={c.runId}>
                {c.runId}
                {c.status ? ` (${c.status})` : ''}
              </Link>
            ))}
          </Fact>
        ) : null}
      </dl>

      {atSeq !== null ? (
        <div class="banner travel" role="status">
          Showing the run as it was after event {atSeq} of {lastSeq}.{' '}
          <Button label="Back to live" class="link" onClick={() => setAtSeq(null)} />{' '}
          <ForkHere runId={run.runId} atSeq={atSeq} />
        </div>
      ) : null}

      {/* The embedded store: no process drives this run (left by start --detach, a killed process...): what would. */}
      {!travelling && run.undriven ? (
        <div class="banner undriven" role="status" data-undriven>
          {run.undriven}
        </div>
      ) : null}

      {/* Read without the data key: the run's course turned on sealed values from this event (keyless-view.ts). */}
      {run.sealedFrom ? (
        <div class="banner undriven" role="status" data-sealed-from={run.sealedFrom.seq}>
          Read without the data key: from event {run.sealedFrom.seq} ({run.sealedFrom.type}
          {run.sealedFrom.task !== undefined ? ` of ${run.sealedFrom.task}` : ''}) on, this run's course turned on
          values sealed with it, so its tasks are shown as of event {run.sealedFrom.seq - 1} and its status as its last
          event recorded it. The history lists every event; with LF_DATA_KEY the tasks show as they are.
        </div>
      ) : null}

      <RunActions
        run={run}
        definition={detail.definition}
        session={props.session}
        waiting={waiting}
        travelling={travelling}
        onBackToLive={() => setAtSeq(null)}
        onDone={() => void loadDetail()}
      />

      {travelling ? null : <RunProgress runId={run.runId} initial={progressInView(run.tasks)} now={now} />}

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
