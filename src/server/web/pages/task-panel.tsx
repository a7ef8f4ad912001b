/** The selected task: status, timings, attempts, who decided, input, output and error (all shown as text). */
import { useMemo, useState } from 'preact/hooks';
import { Fact, Json, Link, Status, Table } from '../components/common.js';
import { Pager, usePage } from '../components/pager.js';
import { between, duration, time } from '../format.js';
import { attemptsOf, decisionsOf, type Attempt, type PageEvent } from '../run-history.js';
import type { AttemptInput, Definition, RunView } from '../types.js';

/** `now`: the time the view is of (the chosen event's, when travelling back), for how long unfinished work has taken. */
/** `resolved`: the input the task's latest attempt ran with (the server resolves it as the runtime did); absent before its first attempt. */
export function TaskPanel(props: {
  id: string;
  view: RunView;
  definition: Definition | null | undefined;
  events: PageEvent[];
  now: number;
  resolved?: AttemptInput | undefined;
}) {
  const task = props.view.tasks[props.id];
  const def = props.definition?.tasks.find((t) => t.id === props.id);
  // A MAP's attempts are one an item and more: worked out once per batch of events, not at every redraw.
  const attempts = useMemo(() => attemptsOf(props.events, props.id), [props.events, props.id]);
  const decisions = useMemo(() => decisionsOf(props.events, props.id), [props.events, props.id]);
  return (
    <div class="task-panel" data-task={props.id}>
      <dl class="facts compact">
        <Fact term="Status">
          <Status status={task?.status ?? 'PENDING'} />
        </Fact>
        <Fact term="Type">{def?.type ?? '—'}</Fact>
        <Fact term="Attempts">{task?.attempts ?? 0}</Fact>
        {task?.waitingFor ? (
          <Fact term="Waits for" fact="waits" dd={{ class: 'small' }}>
            {task.waitingFor}
          </Fact>
        ) : null}
        <Fact term="Started">{time(task?.startedAt)}</Fact>
        <Fact term="Took">
          {task?.startedAt ? duration(between(task.startedAt, task.completedAt, props.now)) : '—'}
        </Fact>
        {def?.type === 'HUMAN' ? <Fact term="Approvers">{def.approvers.join(', ') || 'anyone'}</Fact> : null}
        {task?.iteration !== undefined ? <Fact term="Iteration">{task.iteration}</Fact> : null}
        {task?.child ? (
          <Fact term="Child run" dd={{ class: 'mono' }}>
            <Link run={task.child} />
          </Fact>
        ) : null}
      </dl>
      {task?.items && task.items.length > 0 ? <ItemsTable key={props.id} items={task.items} now={props.now} /> : null}
      {decisions.length > 0 ? (
        <>
          <h3>Decisions</h3>
          <ul class="decisions">
            {decisions.map((d, i) => (
              <li key={i} class={d.refused ? 'refused' : ''}>
                <strong>{d.decision}</strong> by <strong>{d.by}</strong> <span class="muted">{time(d.time)}</span>
                {d.comment ? <div class="comment">“{d.comment}”</div> : null}
                {d.refused ? <div class="bad">refused: {d.refused}</div> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {attempts.length > 0 ? <AttemptsTable key={props.id} attempts={attempts} now={props.now} /> : null}
      {props.resolved ? (
        <Json
          title={
            <>
              Input (resolved)
              {attempts.length > 1 ? <span class="muted"> · attempt {props.resolved.attempt}</span> : null}
            </>
          }
          value={props.resolved.input}
          class="input resolved"
        />
      ) : (
        <Json
          title="Input (as declared)"
          value={(def as { input?: unknown } | undefined)?.input ?? null}
          class="input declared"
        />
      )}
      {task?.output !== undefined && task.output !== null ? (
        <Json title="Output" value={task.output} class="output" />
      ) : null}
      {task?.error ? (
        <Json title={task.status === 'IN_PROGRESS' ? 'Last error' : 'Error'} value={task.error} class="bad" />
      ) : null}
    </div>
  );
}

type Item = NonNullable<RunView['tasks'][string]['items']>[number];

/** A MAP's items or a FORK's branches, a page at a time, narrowed to one status when asked (the one failed item of thousands). */
function ItemsTable(props: { items: readonly Item[]; now: number }) {
  const [status, setStatus] = useState('');
  const counts = useMemo(() => {
    const by = new Map<string, number>();
    for (const i of props.items) by.set(i.status, (by.get(i.status) ?? 0) + 1);
    return by;
  }, [props.items]);
  const shown = useMemo(
    () => (status === '' ? props.items : props.items.filter((i) => i.status === status)),
    [props.items, status],
  );
  const paging = usePage(shown.length);
  const branches = props.items[0]?.branch !== undefined;
  return (
    <>
      <h3>
        {branches ? 'Branches' : 'Items'} ({counts.get('COMPLETED') ?? 0}/{props.items.length} done)
      </h3>
      {props.items.length > 1 && counts.size > 1 ? (
        <label class="item-filter small">
          Show{' '}
          <select
            aria-label={`${branches ? 'branches' : 'items'} by status`}
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value);
              paging.show(null);
            }}
          >
            <option value="">all ({props.items.length.toLocaleString('en-US')})</option>
            {[...counts].map(([s, n]) => (
              <option key={s} value={s}>
                {s} ({n.toLocaleString('en-US')})
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <Pager what="items" total={shown.length} paging={paging} />
      <Table
        heads={['Item', 'Status', 'Attempts', 'Took']}
        rows={shown.slice(paging.from, paging.to)}
        class="compact"
        row={(it) => (
          <tr key={it.instance} data-item={it.instance}>
            <td class="mono">{it.branch !== undefined ? `${it.instance} ${it.branch}` : it.instance}</td>
            <td>
              <Status status={it.status} />
            </td>
            <td>{it.attempts}</td>
            <td class="small">{it.startedAt ? duration(between(it.startedAt, it.completedAt, props.now)) : '—'}</td>
          </tr>
        )}
      />
    </>
  );
}

/** Every attempt of the task (of each item, for a MAP), a page at a time: it opens on the latest, the ones under way. */
function AttemptsTable(props: { attempts: readonly Attempt[]; now: number }) {
  const paging = usePage(props.attempts.length, 'last');
  return (
    <>
      <h3>Attempts</h3>
      <Pager what="attempts" total={props.attempts.length} paging={paging} />
      <Table
        heads={['#', 'Started', 'Took', 'Outcome']}
        rows={props.attempts.slice(paging.from, paging.to)}
        class="compact"
        row={(a) => (
          <tr key={`${a.instance ?? ''}${a.attempt}`}>
            <td>
              {a.instance ?? ''}
              {a.attempt}
            </td>
            <td class="small">{time(a.startedAt)}</td>
            <td class="small">
              {a.endedAt
                ? duration(between(a.startedAt, a.endedAt))
                : `running ${duration(between(a.startedAt, null, props.now))}`}
            </td>
            <td class="small">
              {a.reused ? `reused from ${a.reused}` : (a.outcome ?? '…')}
              {a.by ? ` (${a.by})` : ''}
              {a.error ? `: ${a.error}` : ''}
            </td>
          </tr>
        )}
      />
    </>
  );
}
