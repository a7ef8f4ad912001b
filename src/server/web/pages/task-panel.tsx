/** The selected task: status, timings, attempts, who decided, input, output and error (all shown as text). */
import { Json, Link, Status, Table } from '../components/common.js';
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
        <div>
          <dt>Status</dt>
          <dd>
            <Status status={task?.status ?? 'PENDING'} />
          </dd>
        </div>
        <div>
          <dt>Type</dt>
          <dd>{def?.type ?? '—'}</dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>{task?.attempts ?? 0}</dd>
        </div>
        {task?.waitingFor ? (
          <div data-fact="waits">
            <dt>Waits for</dt>
            <dd class="small">{task.waitingFor}</dd>
          </div>
        ) : null}
        <div>
          <dt>Started</dt>
          <dd>{time(task?.startedAt)}</dd>
        </div>
        <div>
          <dt>Took</dt>
          <dd>{task?.startedAt ? duration(between(task.startedAt, task.completedAt, props.now)) : '—'}</dd>
        </div>
        {def?.type === 'HUMAN' ? (
          <div>
            <dt>Approvers</dt>
            <dd>{def.approvers.join(', ') || 'anyone'}</dd>
          </div>
        ) : null}
        {task?.iteration !== undefined ? (
          <div>
            <dt>Iteration</dt>
            <dd>{task.iteration}</dd>
          </div>
        ) : null}
        {task?.child ? (
          <div>
            <dt>Child run</dt>
            <dd class="mono">
              <Link href={`/runs/${encodeURIComponent(task.child)}`}>{task.child}</Link>
            </dd>
          </div>
        ) : null}
      </dl>
      {task?.items && task.items.length > 0 ? (
        <>
          <h3>
            Items ({task.items.filter((i) => i.status === 'COMPLETED').length}/{task.items.length} done)
          </h3>
          <Table
            heads={['Item', 'Status', 'Attempts', 'Took']}
            rows={task.items}
            class="compact"
            row={(it) => (
              <tr key={it.instance} data-item={it.instance}>
                <td class="mono">{it.instance}</td>
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
        <>
          <h3>
            Input (resolved)
            {attempts.length > 1 ? <span class="muted"> · attempt {props.resolved.attempt}</span> : null}
          </h3>
          <Json value={props.resolved.input} class="input resolved" />
        </>
      ) : (
        <>
          <h3>Input (as declared)</h3>
          <Json value={(def as { input?: unknown } | undefined)?.input ?? null} class="input declared" />
        </>
      )}
      {task?.output !== undefined && task.output !== null ? (
        <>
          <h3>Output</h3>
          <Json value={task.output} class="output" />
        </>
      ) : null}
      {task?.error ? (
        <>
          <h3>{task.status === 'IN_PROGRESS' ? 'Last error' : 'Error'}</h3>
          <Json value={task.error} class="bad" />
        </>
      ) : null}
    </div>
  );
}
