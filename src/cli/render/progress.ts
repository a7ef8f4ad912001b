/**
 * The lines printed while and after a run is driven: a handler's log line, what a run that did not settle waits for and
 * how to continue it, its end, and what a debounce or throttle made of an event.
 */
import { inert } from '../../terminal/index.js';
import type { RunView } from '../../runtime/index.js';
import { instanceKey, isRunTimer } from '../../compiler/index.js';

/** What a run that did not settle is waiting for, and how to continue it. */
/**
 * What a waiting run waits for and how to move it on. On the embedded store the deciding user names themself and
 * `resume` continues the run; over NATS the approver is the NATS user they connect as, and the engines continue it.
 */
export function waitingHints(view: RunView, natsUrl?: string): string[] {
  if (view.status === 'PAUSED')
    return [
      `  paused: no new attempt starts; continue with: ledgerflow resume ${view.runId}${natsUrl === undefined ? '' : ' --nats <url>'}`,
    ];
  if (view.status !== 'WAITING' && view.status !== 'RUNNING') return [];
  const approvals = Object.entries(view.tasks)
    .filter(([, t]) => t.status === 'PENDING_APPROVAL')
    .map(([id]) => id);
  const mode = natsUrl === undefined ? 'embedded' : 'nats';
  // The server the user is on, with an approver's credentials in place of theirs (the first server of a list).
  const approverUrl = () => {
    const first = natsUrl!.split(',')[0]!.trim();
    const hostPart = first.replace(/^[a-z]+:\/\//i, '').replace(/^[^@/]*@/, '');
    return `nats://<approver>:<password>@${hostPart}`;
  };
  const approve =
    mode === 'nats'
      ? (id: string) => `ledgerflow approve ${view.runId} ${id} --nats ${approverUrl()}`
      : (id: string) => `ledgerflow approve ${view.runId} ${id} --as <name>`;
  return [
    ...approvals.map((id) => `  waiting for approval of ${id}: ${approve(id)}`),
    ...view.timers.map((t) =>
      isRunTimer(t)
        ? `  the run times out at ${t.dueAt} (timeout: ${view.timeout?.after ?? '?'})`
        : `  waiting for ${t.kind} timer of ${instanceKey(t)}, due ${t.dueAt}`,
    ),
    ...Object.entries(view.tasks)
      .filter(([id, t]) => t.status === 'WAITING' && !view.timers.some((x) => x.task === id && x.kind === 'wait'))
      .map(
        ([id, t]) =>
          `  ${id} waits for ${t.signal === undefined ? 'a signal (its event:)' : `signal ${t.signal}`}: ledgerflow signal ${view.runId} ${t.signal ?? '<event>'} --data '<json>'${mode === 'nats' ? ' --nats <url>' : ''}`,
      ),
    mode === 'nats'
      ? `  an engine records the decision; running engines (with workers), or ledgerflow resume ${view.runId}, continue the run`
      : `  continue with: ledgerflow resume ${view.runId} (a running ledgerflow serve continues it by itself)`,
  ];
}

/** A handler's log line (`ctx.log`) as the progress prints it. */
export function logLine(task: string, message: string): string {
  return task === '' ? `  ${inert(message)}` : `  ${inert(task)}: ${inert(message)}`;
}

/** The end of a driven run: its status, what it waits for, its error. */
export function finishLines(view: RunView, natsUrl?: string): string[] {
  return [
    `run ${inert(view.runId)} ${view.status}`,
    ...waitingHints(view, natsUrl),
    ...(view.error ? [`  error: ${inert(view.error.message)}`] : []),
  ];
}

/** What a debounce or throttle made of the event, in one line (`emit`, on every store). */
export function gatedLine(
  eventId: string,
  g: {
    workflowId: string;
    trigger: number;
    key: string;
    decision: string;
    runId?: string;
    dueAt?: string;
    reason?: string;
  },
  embedded: boolean,
): string {
  const where = `${g.workflowId} triggers[${g.trigger}]${g.key ? ` key ${inert(JSON.stringify(g.key))}` : ''}`;
  const by = embedded ? ' (started by `ledgerflow serve`)' : '';
  switch (g.decision) {
    case 'debounced':
      return `event ${inert(eventId)} debounced by ${where}: run ${g.runId} starts at ${g.dueAt} unless another event of the burst comes first${by}`;
    case 'queued':
      return `event ${inert(eventId)} queued by the throttle of ${where}: run ${g.runId} starts at ${g.dueAt} at the earliest${by}`;
    case 'dropped':
      return `event ${inert(eventId)} dropped by the throttle of ${where}: ${g.reason ?? 'limit reached'} (listed by \`ledgerflow triggers\`)`;
    case 'duplicate':
      return `event ${inert(eventId)} was already taken by ${where}: duplicate delivery, nothing changed`;
    default:
      return `event ${inert(eventId)} ${g.decision} by ${where}${g.runId ? `: run ${g.runId}` : ''}`;
  }
}
