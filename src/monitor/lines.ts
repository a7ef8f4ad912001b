/** One event as a line: in a frame's tail, as plain output (stdout not a TTY) and as JSON (`--json`). Pure. */
import { instanceKey, isRunTimer } from '../compiler/index.js';
import { delayText, type EventEnvelope } from '../events/index.js';
import { inert, progressText } from '../terminal/index.js';
import type { TaskProgress } from '../runtime/index.js';

/** What an event is about: the task instance (`check#2`, `scan[3]`), the approval's task or the signal's name; '' for the run itself. */
export function eventSubject(e: EventEnvelope): string {
  switch (e.type) {
    case 'timer.fired':
      return isRunTimer(e.data) ? '' : instanceKey(e.data);
    case 'task.started':
    case 'task.completed':
    case 'task.failed':
    case 'task.restarted':
    case 'task.released':
      return instanceKey(e.data);
    case 'approval.recorded':
    case 'approval.refused':
      return e.data.task;
    case 'signal.received':
      return e.data.name;
    default:
      return '';
  }
}

/** A few words past the subject: attempt, error, decision, who. */
export function eventDetail(e: EventEnvelope): string {
  switch (e.type) {
    case 'task.started':
      return `attempt ${e.data.attempt}`;
    case 'task.completed':
      return `attempt ${e.data.attempt}${e.data.by ? ` by ${e.data.by}` : ''}`;
    case 'task.failed':
      return `attempt ${e.data.attempt}: ${e.data.error.message}`;
    case 'task.restarted':
      return `attempt ${e.data.attempt} again (${e.data.reason === 'resumed' ? 'its process stopped' : 'its worker was lost'})`;
    case 'task.released':
      return `attempt ${e.data.attempt} given back (its process was stopped)`;
    case 'timer.fired':
      return isRunTimer(e.data) ? 'run timeout reached' : `${e.data.timer} (attempt ${e.data.attempt})`;
    case 'approval.recorded':
      return `${e.data.decision} by ${e.data.by}${e.data.comment ? `: ${e.data.comment}` : ''}`;
    case 'approval.refused':
      return `${e.data.decision} by ${e.data.by} refused: ${e.data.reason}`;
    case 'signal.received':
      return e.data.by ? `from ${e.data.by}` : '';
    case 'run.cancelled':
    case 'run.paused':
      return [e.data.by ? `by ${e.data.by}` : '', e.data.reason ?? ''].filter(Boolean).join(' ');
    case 'run.resumed':
      return e.data.by ? `by ${e.data.by}` : '';
    case 'run.queued':
      return `waiting for a slot (priority ${e.data.priority}${e.data.key !== null ? `, key ${e.data.key}` : ''})`;
    case 'run.failed':
      return e.data.error.message;
    case 'run.started':
      return e.data.source?.parent
        ? `child of ${e.data.source.parent.runId}`
        : e.data.source?.event
          ? `event ${e.data.source.event}`
          : e.data.source?.schedule
            ? `schedule slot ${e.data.source.schedule.slot}`
            : e.data.source?.retryOf
              ? `retry of ${e.data.source.retryOf.runId}`
              : e.data.source?.forked
                ? `fork of ${e.data.source.forked.from}`
                : '';
    case 'run.forked':
      return `from ${e.data.from} after event ${e.data.at.seq}${e.data.by ? ` by ${e.data.by}` : ''}`;
    case 'notification.sent':
      return `${e.data.on} to ${e.data.target}`;
    case 'notification.dead_lettered':
      return `${e.data.on} to ${e.data.target} given up: ${e.data.error}`;
    case 'task.delayed':
      return `attempt ${e.data.attempt} waits: ${delayText(e.data)}`;
    default:
      return '';
  }
}

/**
 * The plain output's line: no escape sequences, one per event, greppable (full ISO time, run id, type, subject, detail,
 * the status it led to). Inert as a whole: no colours of its own, and a comment's newline or ESC must not break it.
 */
export function plainLine(e: EventEnvelope): string {
  const subject = eventSubject(e);
  const detail = eventDetail(e);
  return inert(
    `${e.time}  ${e.runId}  ${e.type}${subject ? `  ${subject}` : ''}${detail ? `  ${detail}` : ''}  → ${e.state.status}`,
  );
}

/**
 * The plain output's line for a task's progress (never an event: docs/handlers.md#progress), when it changes:
 * `<time>  <runId>  progress  <task>  ████████░░░░░░░░░░░░ 40% ETA 12s  scanned 400 of 1000`. Inert as a whole.
 */
export function progressLine(runId: string, task: string, p: TaskProgress, now: number): string {
  return inert(`${p.at}  ${runId}  progress  ${task}  ${progressText(p, now)}`);
}

/**
 * `--json`'s line: the event as recorded, but run.started without the definition it carries (its hash stays;
 * `ledgerflow history --json` has it whole).
 */
export function jsonLine(e: EventEnvelope): string {
  const data =
    e.type === 'run.started'
      ? {
          definitionHash: e.data.definitionHash,
          input: e.data.input,
          ...(e.data.source ? { source: e.data.source } : {}),
        }
      : e.data;
  return JSON.stringify({
    runId: e.runId,
    workflowId: e.workflowId,
    seq: e.seq,
    time: e.time,
    type: e.type,
    ...(eventSubject(e) ? { subject: eventSubject(e) } : {}),
    data,
    status: e.state.status,
  });
}
