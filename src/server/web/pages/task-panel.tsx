/** The selected task: status, timings, attempts, who decided, input, output and error (all shown as text). */
import { Fact, Json, Link, Status, Table } from '../components/common.js';
import { between, duration, time } from '../format.js';
import { attemptsOf, decisionsOf, type PageEvent } from '../run-history.js';
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
  const attempts = attemptsOf(props.events, props.id);
  const decisions = decisionsOf(props.events, props.id);
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
      {task?.items && task.items.length > 0 ? (
        <>
          <h3>
            {task.items[0]?.branch !== undefined ? 'Branches' : 'Items'} (
            {task.items.filter((i) => i.status === 'COMPLETED').length}/{task.items.length} done)
          </h3>
          <Table
            heads={['Item', 'Status', 'Attempts', 'Took']}
            rows={task.items}
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
      ) : null}
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
      {attempts.length > 0 ? (
        <>
          <h3>Attempts</h3>
          <Table
            heads={['#', 'Started', 'Took', 'Outcome']}
            rows={attempts}
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
      ) : null}
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
