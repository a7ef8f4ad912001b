/**
 * Terminal output of `ledgerflow history`: a line per event of the run, in words. Every text from a run (names,
 * comments, reasons, errors, outputs) goes through `inert`.
 */
import pc from 'picocolors';
import { inert, percentText } from '../../terminal/index.js';
import { childRunId } from '../../compiler/index.js';
import {
  delayText,
  isPayloadRef,
  isRedactedRecord,
  labelPayloads,
  payloadLabel,
  REDACTED,
  type EventEnvelope,
} from '../../events/index.js';
import { instanceKey, isRunTimer } from '../../compiler/index.js';
import { missedText } from './render.js';

function summary(e: EventEnvelope): string {
  switch (e.type) {
    case 'run.started': {
      const p = e.data.source?.parent;
      const from = !p
        ? ''
        : p.relation === 'failure'
          ? `  (failure workflow of run ${p.runId})`
          : p.relation === 'start'
            ? `  (started by run ${p.runId}, which does not wait for it)`
            : `  (child of run ${p.runId}, task ${p.task} attempt ${p.attempt})`;
      const s = e.data.source?.schedule;
      const by = s
        ? `  (schedule triggers[${s.trigger}] ${s.manual ? 'manual slot' : 'slot'} ${s.slot}${missedText(s)})`
        : e.data.source?.event
          ? `  (event ${e.data.source.event})`
          : '';
      const r = e.data.source?.retryOf;
      const retry = r
        ? `  (retry of run ${r.runId}, reusing ${Object.keys(r.outputs ?? {}).join(', ') || 'no output'})`
        : '';
      const f = e.data.source?.forked;
      // Where it was forked from is run.forked's line, next: this one says what the fork reuses.
      const fork = f ? `  (a fork, reusing ${Object.keys(f.outputs ?? {}).join(', ') || 'no output'})` : '';
      const g = e.data.source?.gate;
      const gated = !g
        ? ''
        : g.kind === 'debounce'
          ? `  (debounce triggers[${g.trigger}]${g.key ? ` key ${g.key}` : ''}: last of ${g.count} event${g.count === 1 ? '' : 's'}${g.absorbed?.length ? `, merged ${g.absorbed.join(', ')}${g.count - 1 > g.absorbed.length ? ' …' : ''}` : ''})`
          : `  (throttle triggers[${g.trigger}]${g.key ? ` key ${g.key}` : ''}${g.firstAt ? `, queued since ${g.firstAt}` : ''})`;
      const input = isRedactedRecord(e.data.input) ? REDACTED : JSON.stringify(labelPayloads(e.data.input));
      return `input ${input}${from}${by}${gated}${retry}${fork}`;
    }
    case 'task.started':
      return e.data.reused
        ? `${instanceKey(e.data)} reused from run ${e.data.reused.runId} (no attempt)`
        : `${instanceKey(e.data)} attempt ${e.data.attempt}`;
    case 'task.completed':
      return e.data.reused
        ? `${instanceKey(e.data)} reused from run ${e.data.reused.runId} (no attempt)`
        : `${instanceKey(e.data)} attempt ${e.data.attempt}${isPayloadRef(e.data.output) ? ` output ${payloadLabel(e.data.output)}` : ''}${reportedBy(e.data)}`;
    case 'task.failed':
      return `${instanceKey(e.data)} attempt ${e.data.attempt}: ${e.data.error.message}${reportedBy(e.data)}`;
    case 'task.restarted':
      return `${instanceKey(e.data)} attempt ${e.data.attempt} runs again (restart ${e.data.restart}): ${e.data.reason === 'resumed' ? 'it was in flight when the process running it stopped' : `${e.data.lost ?? 'its worker'} stopped answering`}${reportedBy(e.data)}`;
    case 'task.released':
      return `${instanceKey(e.data)} attempt ${e.data.attempt} given back: the process running it was stopped cleanly (Ctrl-C, SIGTERM); it runs again on resume, not counted as lost`;
    case 'timer.fired':
      return isRunTimer(e.data)
        ? 'run timeout reached'
        : `${e.data.timer} of ${instanceKey(e.data)} (attempt ${e.data.attempt})`;
    case 'approval.recorded':
      return `${e.data.task} ${e.data.decision} by ${e.data.by}${e.data.unauthenticated ? ' (unauthenticated name)' : ''}${e.data.comment ? `: ${e.data.comment}` : ''}`;
    case 'approval.refused':
      return `${e.data.task} ${e.data.decision} by ${e.data.by}${e.data.unauthenticated ? ' (unauthenticated name)' : ''} REFUSED: ${e.data.reason}`;
    case 'run.cancelled':
      return `${e.data.by ? `by ${e.data.by}` : ''}${e.data.reason ? ` ${e.data.reason}` : ''}`;
    case 'run.failed':
      return `${e.data.error.code ? `${e.data.error.code}: ` : ''}${e.data.error.message}`;
    case 'signal.received':
      // Sealed data read without the key is REDACTED as it stands, as a run's input is, not a quoted string.
      return `${e.data.name}${e.data.data === undefined ? '' : e.data.data === REDACTED || isRedactedRecord(e.data.data) ? ` ${REDACTED}` : ` ${JSON.stringify(labelPayloads(e.data.data))}`}${reportedBy(e.data)}`;
    case 'run.paused':
      return `${e.data.by ? `by ${e.data.by}` : ''}${e.data.reason ? ` ${e.data.reason}` : ''}`;
    case 'run.resumed':
      return e.data.by ? `by ${e.data.by}` : '';
    case 'run.queued':
      return `waiting for a slot (limit ${e.data.limit}${e.data.key !== null ? ` per key ${JSON.stringify(e.data.key)}` : ''}, priority ${e.data.priority})`;
    case 'run.admitted':
      return `a slot is free${e.data.by ? ` (admitted by ${e.data.by})` : ''}`;
    case 'notification.sent':
      return `${e.data.on} (event ${e.data.seq}) to ${e.data.target} after ${e.data.attempts} attempt(s)${e.data.statusCode !== undefined ? `: HTTP ${e.data.statusCode}` : ''}`;
    case 'notification.dead_lettered':
      return `${e.data.on} (event ${e.data.seq}) to ${e.data.target} given up after ${e.data.attempts} attempt(s): ${e.data.error}`;
    case 'task.delayed':
      return `${instanceKey(e.data)} attempt ${e.data.attempt} waits: ${delayText(e.data)}`;
    case 'run.migrated':
      return `v${e.data.from.version} → v${e.data.to.version}${
        Object.keys(e.data.map).length > 0
          ? ` map ${Object.entries(e.data.map)
              .map(([a, b]) => `${a}=${b}`)
              .join(' ')}`
          : ''
      }${e.data.by ? ` by ${e.data.by}` : ''}`;
    case 'run.forked':
      return `from run ${e.data.from} after event ${e.data.at.seq}${e.data.at.task !== undefined ? `, before task ${e.data.at.task}` : ''}${e.data.by ? ` by ${e.data.by}` : ''}`;
  }
}

/** Who reported an outcome on NATS (the sender the server let publish it). */
function reportedBy(d: { by?: string; unauthenticated?: true }): string {
  return d.by ? ` (reported by ${d.by}${d.unauthenticated ? ', an unauthenticated name' : ''})` : '';
}

/** `  output capped: stdout 209649664 bytes dropped` for a COMMAND output that carries `truncated` (see src/handlers/command.ts). */
function cappedText(output: unknown): string {
  const t = (output as { truncated?: unknown } | null)?.truncated;
  if (t === null || typeof t !== 'object') return '';
  const parts = Object.entries(t as Record<string, unknown>)
    .filter(([, n]) => typeof n === 'number')
    .map(([stream, n]) => `${stream} ${n as number} bytes dropped`);
  return parts.length > 0 ? `  output capped: ${parts.join(', ')}` : '';
}

/** The tasks of the definition a history's run.started recorded (none when it does not begin with one). */
export function tasksOf(events: EventEnvelope[]): { id: string; type: string }[] {
  const first = events[0];
  const tasks = first?.type === 'run.started' ? first.data.definition.tasks : undefined;
  return Array.isArray(tasks) ? (tasks as { id: string; type: string }[]) : [];
}

/**
 * The tasks whose attempts start a child run: a SUB_WORKFLOW, and a MAP whose body is a workflow (`workflow:`), one child
 * run an item attempt.
 */
export function childRunTasks(tasks: readonly { id: string; type: string }[]): Set<string> {
  return new Set(
    tasks
      .filter(
        (t) => t.type === 'SUB_WORKFLOW' || (t.type === 'MAP' && (t as { workflow?: unknown }).workflow !== undefined),
      )
      .map((t) => t.id),
  );
}

/** `shown`: a child run's id where it is not its derived one (under its spare id: executor/child-owner.ts), by derived id. */
export function historyText(events: EventEnvelope[], shown: ReadonlyMap<string, string> = new Map()): string {
  // A SUB_WORKFLOW's attempts (and a workflow MAP's items') name the child run each starts; an EMIT's completion says
  // when it started nothing.
  const tasks = tasksOf(events);
  const starting = childRunTasks(tasks);
  const typeOf = new Map(tasks.map((t) => [t.id, t.type]));
  // A COMMAND's output (or a MAP's item whose iterator is a COMMAND) says how much of a stream the cap dropped.
  const iteratorOf = new Map(tasks.map((t) => [t.id, (t as { iterator?: string }).iterator]));
  const isCommand = (id: string): boolean =>
    typeOf.get(id) === 'COMMAND' || (typeOf.get(id) === 'MAP' && typeOf.get(iteratorOf.get(id) ?? '') === 'COMMAND');
  // The last progress an attempt reported, as its outcome kept it (docs/handlers.md#progress).
  const extra = (e: EventEnvelope): string =>
    own(e) +
    ((e.type === 'task.completed' || e.type === 'task.failed') && e.data.progress
      ? `  progress ${percentText(e.data.progress.fraction)}${e.data.progress.message ? ` ${e.data.progress.message}` : ''}`
      : '');
  const own = (e: EventEnvelope): string => {
    if (e.type === 'task.started' && starting.has(e.data.task) && !e.data.reused) {
      const child = childRunId(e.runId, e.data, e.data.attempt);
      return `  → child run ${shown.get(child) ?? child}`;
    }
    if (e.type === 'task.completed' && typeOf.get(e.data.task) === 'EMIT' && !e.data.reused) {
      const out = e.data.output as {
        event?: string;
        runs?: { runId: string }[];
        note?: string;
        skipped?: string[];
      } | null;
      const skipped = Array.isArray(out?.skipped) ? out.skipped.map((r) => `\n        skipped ${r}`).join('') : '';
      return (
        (out?.note ? `  ${out.note}` : out?.runs ? `  started ${out.runs.map((r) => r.runId).join(', ')}` : '') +
        skipped
      );
    }
    if (e.type === 'task.completed' && isCommand(e.data.task)) return cappedText(e.data.output);
    // An HTTP task's response: its status, and where the body was cut (src/handlers/http.ts).
    if (e.type === 'task.completed' && typeOf.get(e.data.task) === 'HTTP') {
      const out = e.data.output as { status?: unknown; truncated?: unknown; bytes?: unknown } | null;
      return `${typeof out?.status === 'number' ? `  ${out.status}` : ''}${out?.truncated === true ? `  body cut at ${String(out.bytes)} bytes (max_response_body)` : ''}`;
    }
    // The wait a failure asked for (Retry-After) before the next attempt.
    if (e.type === 'task.failed' && e.data.error.retryAfterMs !== undefined)
      return `  retry after ${Math.ceil(e.data.error.retryAfterMs / 1000)} s`;
    return '';
  };
  // summary and extra have no colours: inert as a whole, so no comment, reason or output starts a line of its own.
  return events
    .map(
      (e) =>
        `${String(e.seq).padStart(4)}  ${e.time}  ${e.type.padEnd(18)} ${inert(`${summary(e)}${extra(e)}`)}  ${pc.dim(`→ ${e.state.status}`)}`,
    )
    .join('\n');
}
