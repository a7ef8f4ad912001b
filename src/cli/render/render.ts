/**
 * Terminal output: status tables, history lines (live progress per task: src/monitor/progress.ts).
 * Machine-readable output is JSON elsewhere. Every text that comes from a run
 * (names, comments, reasons, handlers' errors, outputs, ids) goes through
 * `inert` where it is formatted: it shows its escapes and newlines as text.
 */
import pc from 'picocolors';
import { inert, PROGRESS_SYMBOLS } from '../../terminal/index.js';
import { stringify } from 'yaml';
import { childRunId } from '../../compiler/index.js';
import { delayText, type EventEnvelope } from '../../events/index.js';
import type { RunView } from '../../runtime/index.js';
import type { RunRecord } from '../../query/index.js';
import type { CorruptRun } from '../../store/index.js';
import { instanceKey, isRunTimer } from '../../compiler/index.js';

const ms = (from: string | null, to: string | null) =>
  from && to ? `${Math.max(0, Date.parse(to) - Date.parse(from))}ms` : '';

/** `n of m done`, and how many items are at work, failed, skipped: a MAP's progress. */
export function itemProgress(items: readonly { status: string }[]): string {
  const count = (...s: string[]) => items.filter((it) => s.includes(it.status)).length;
  const parts = [`${count('COMPLETED')} of ${items.length} done`];
  const running = count('SCHEDULED', 'IN_PROGRESS', 'RETRYING');
  const failed = count('FAILED', 'TIMED_OUT');
  const skipped = count('SKIPPED', 'CANCELLED');
  if (running) parts.push(`${running} running`);
  if (failed) parts.push(`${failed} failed`);
  if (skipped) parts.push(`${skipped} not run`);
  return parts.join(', ');
}

/** Items worth a line of their own in status: at work or failed (the first few; the summary counts the rest). */
const ITEM_LINES = 20;

export function statusColor(status: string): string {
  switch (status) {
    case 'COMPLETED':
      return pc.green(status);
    case 'FAILED':
    case 'CANCELLED':
      return pc.red(status);
    case 'WAITING':
      return pc.magenta(status);
    case 'PAUSED':
      return pc.yellow(status);
    default:
      return pc.cyan(status);
  }
}

/** catch_up latest: the slots a scheduled run stands for besides its own. */
function missedText(s: { missedCount?: number }): string {
  return s.missedCount
    ? `, standing for ${s.missedCount} missed slot${s.missedCount === 1 ? '' : 's'} (catch_up: latest)`
    : '';
}

export function statusText(view: RunView): string {
  const lines = [
    `run ${pc.bold(inert(view.runId))}  ${inert(view.workflowId)} v${view.version}  ${statusColor(view.status)}`,
    `started ${view.startedAt}${view.completedAt ? `  settled ${view.completedAt}` : ''}`,
  ];
  // The lines about where the run came from have no colours: inert as a whole.
  const origin: string[] = [];
  if (view.parent) {
    origin.push(
      view.parent.relation === 'failure'
        ? `failure workflow of run ${view.parent.runId} (${view.parent.workflowId})`
        : `child of run ${view.parent.runId} (${view.parent.workflowId}, task ${view.parent.task} attempt ${view.parent.attempt})`,
    );
  }
  if (view.retryOf)
    origin.push(
      `retry of run ${view.retryOf.runId}${view.retryOf.reused.length > 0 ? ` (reused the outputs of ${view.retryOf.reused.join(', ')})` : ' (reused no output)'}`,
    );
  if (view.schedule)
    origin.push(
      `started by schedule triggers[${view.schedule.trigger}] (${view.schedule.cron} ${view.schedule.timezone}) for ${view.schedule.manual ? 'a manual slot (schedules trigger) at' : 'slot'} ${view.schedule.slot}${missedText(view.schedule)}`,
    );
  if (view.gate) origin.push(gateOrigin(view.gate));
  if (view.queue) {
    const q = view.queue;
    origin.push(
      `queued for a concurrency slot ${q.queuedAt} (priority ${q.priority}, limit ${q.limit}${q.key !== null ? ` per key ${JSON.stringify(q.key)}` : ''})${q.admittedAt ? `, admitted ${q.admittedAt}` : ', not admitted yet'}`,
    );
  }
  if (view.failureRun) origin.push(`failure workflow run ${view.failureRun}`);
  lines.push(...origin.map(inert));
  // The embedded store: a run nobody drives says so under its header, before the tasks that wait for it.
  if (view.undriven) lines.push(pc.yellow(inert(view.undriven)));
  for (const [id, t] of Object.entries(view.tasks)) {
    const waits =
      t.status === 'WAITING' && t.signal !== undefined
        ? `  waits for signal ${inert(t.signal)}: ledgerflow signal ${inert(view.runId)} ${inert(t.signal)}`
        : t.waitingFor !== undefined
          ? `  waits for ${waitText(t.waitingFor)}`
          : '';
    const extra = `${t.child ? `  child run ${inert(t.child)}` : ''}${waits}${t.error ? `  ${pc.red(inert(t.error.message))}` : ''}`;
    if (t.items) {
      lines.push(
        `  ${PROGRESS_SYMBOLS[t.status] ?? '?'} ${id.padEnd(28)} ${t.status.padEnd(16)} items: ${itemProgress(t.items)}${extra}`,
      );
      const shown = t.items
        .map((it) => ({ it }))
        .filter(({ it }) => !['COMPLETED', 'PENDING', 'SKIPPED', 'CANCELLED'].includes(it.status));
      for (const { it } of shown.slice(0, ITEM_LINES)) {
        lines.push(
          `    ${PROGRESS_SYMBOLS[it.status] ?? '?'} ${inert(it.instance).padEnd(26)} ${it.status.padEnd(16)} attempts ${it.attempts}${it.waitingFor !== undefined ? `  waits for ${waitText(it.waitingFor)}` : ''}${it.error && it.status !== 'IN_PROGRESS' ? `  ${pc.red(inert(it.error.message))}` : ''}`,
        );
      }
      if (shown.length > ITEM_LINES)
        lines.push(`    … and ${shown.length - ITEM_LINES} more (status --json lists every item)`);
      continue;
    }
    // A loop-body task is shown as the instance its state is of (`check#2`); a DO_WHILE, with the iteration it is in.
    lines.push(
      `  ${PROGRESS_SYMBOLS[t.status] ?? '?'} ${inert(t.instance ?? id).padEnd(28)} ${t.status.padEnd(16)} attempts ${t.attempts}${extra}`,
    );
  }
  for (const timer of view.timers)
    if (!isRunTimer(timer)) lines.push(inert(`  timer ${timer.kind} of ${instanceKey(timer)} due ${timer.dueAt}`));
  if (view.timeout)
    lines.push(
      `timeout ${view.timeout.after}: ${view.completedAt ? 'was due' : 'due'} ${view.timeout.deadline} (timeout_policy: ${view.timeout.policy})`,
    );
  if (view.variables)
    for (const [name, value] of Object.entries(view.variables))
      lines.push(`  variable ${inert(name)} = ${inert(JSON.stringify(value))}`);
  if (view.error) lines.push(pc.red(`error: ${inert(view.error.message)}`));
  return lines.join('\n');
}

/** A debounced or throttled trigger's run: which trigger, and the events it stands for (docs/triggers.md#debounce-and-throttle). */
function gateOrigin(g: NonNullable<RunView['gate']>): string {
  const which = `${g.kind} triggers[${g.trigger}]${g.key ? ` key ${g.key}` : ''}`;
  const merged = g.absorbed?.length
    ? `; merged ${g.absorbed.join(', ')}${g.count - 1 > g.absorbed.length ? ' …' : ''}`
    : '';
  const held = g.firstAt ? `, the first of them came ${g.firstAt}` : '';
  return `started by ${g.event ? `event ${g.event} through ` : ''}${which}: stands for ${g.count} event${g.count === 1 ? '' : 's'}${held}${merged}`;
}

/** The state file's layout (`.3ox/workflow.state.yaml`, docs/state-file.md). */
export function statusYaml(view: RunView): string {
  const tasks: Record<string, unknown> = {};
  for (const [id, t] of Object.entries(view.tasks)) {
    tasks[id] = {
      status: t.status,
      started_at: t.startedAt,
      completed_at: t.completedAt,
      attempts: t.attempts,
      output: t.output,
      ...(t.error ? { error: t.error } : {}),
    };
  }
  return stringify(
    {
      [view.runId]: {
        id: view.runId,
        definition_id: view.workflowId,
        version: view.version,
        status: view.status,
        created_at: view.startedAt,
        completed_at: view.completedAt,
        execution_time: view.completedAt ? ms(view.startedAt, view.completedAt) : null,
        input: view.input,
        tasks,
        output: view.output,
        ...(view.variables ? { variables: view.variables } : {}),
        ...(view.error ? { error: view.error } : {}),
      },
    },
    { aliasDuplicateObjects: false },
  );
}

/** The warning for a run whose log cannot be read (list, reindex). */
export const corruptText = (c: CorruptRun): string =>
  `warning: run ${c.runId} is corrupt and was left out: ${c.file}: ${c.reason}`;

/**
 * `ledgerflow list`: a header row, then a run a row, newest first (as the dashboard), each column as wide as
 * its widest cell so long ids (a child run's) keep the columns aligned; the last column is free text.
 */
export function listText(runs: RunRecord[]): string {
  if (runs.length === 0) return 'no runs match (0)';
  const head = ['RUN', 'WORKFLOW', 'VERSION', 'STATUS', 'STARTED', 'DURATION', 'TRIGGER, AGENTS, NOTES'];
  const rows = runs.map((r) => [
    inert(r.runId),
    inert(r.workflowId),
    `v${r.version}`,
    r.status,
    r.startedAt,
    r.durationMs !== null ? durationText(r.durationMs) : '-',
    inert(
      `${extrasText(r)}${parentText(r.parent)}${r.schedule ? `  (schedule triggers[${r.schedule.trigger}] slot ${r.schedule.slot})` : ''}`.trim(),
    ),
  ]);
  const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[], status: (s: string) => string) =>
    cells
      .map((c, i) => {
        if (i === cells.length - 1) return c;
        const padded = c.padEnd(widths[i]!);
        return i === 3 ? status(padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(head, (s) => s), ...rows.map((row) => line(row, statusColor))].join('\n');
}

/** Trigger and agents in a few words: `event:evt-1  @alice,bob`. */
function extrasText(r: RunRecord): string {
  const parts: string[] = [];
  // Parent and schedule runs say so in words below; an event or a retry here.
  if (r.trigger.kind === 'event')
    parts.push(`event${r.trigger.id ? `:${r.trigger.id}` : r.trigger.type ? `:${r.trigger.type}` : ''}`);
  if (r.trigger.kind === 'retry') parts.push(`retry of ${r.trigger.runId}`);
  if (r.agents.length > 0) parts.push(`@${r.agents.join(',')}`);
  if (r.search) for (const [k, v] of Object.entries(r.search)) parts.push(`${k}=${String(v)}`);
  return parts.join('  ');
}

export function durationText(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(ms / 3_600_000)}h${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`;
}

function parentText(p: RunRecord['parent']): string {
  if (!p) return '';
  return p.relation === 'failure'
    ? `  (failure workflow of ${p.runId})`
    : `  (child of ${p.runId}${p.task ? ` task ${p.task}` : ''})`;
}

function summary(e: EventEnvelope): string {
  switch (e.type) {
    case 'run.started': {
      const p = e.data.source?.parent;
      const from = !p
        ? ''
        : p.relation === 'failure'
          ? `  (failure workflow of run ${p.runId})`
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
      const g = e.data.source?.gate;
      const gated = !g
        ? ''
        : g.kind === 'debounce'
          ? `  (debounce triggers[${g.trigger}]${g.key ? ` key ${g.key}` : ''}: last of ${g.count} event${g.count === 1 ? '' : 's'}${g.absorbed?.length ? `, merged ${g.absorbed.join(', ')}${g.count - 1 > g.absorbed.length ? ' …' : ''}` : ''})`
          : `  (throttle triggers[${g.trigger}]${g.key ? ` key ${g.key}` : ''}${g.firstAt ? `, queued since ${g.firstAt}` : ''})`;
      return `input ${JSON.stringify(e.data.input)}${from}${by}${gated}${retry}`;
    }
    case 'task.started':
      return e.data.reused
        ? `${instanceKey(e.data)} reused from run ${e.data.reused.runId} (no attempt)`
        : `${instanceKey(e.data)} attempt ${e.data.attempt}`;
    case 'task.completed':
      return e.data.reused
        ? `${instanceKey(e.data)} reused from run ${e.data.reused.runId} (no attempt)`
        : `${instanceKey(e.data)} attempt ${e.data.attempt}${reportedBy(e.data)}`;
    case 'task.failed':
      return `${instanceKey(e.data)} attempt ${e.data.attempt}: ${e.data.error.message}${reportedBy(e.data)}`;
    case 'task.restarted':
      return `${instanceKey(e.data)} attempt ${e.data.attempt} runs again (restart ${e.data.restart}): ${e.data.reason === 'resumed' ? 'it was in flight when the process running it stopped' : `${e.data.lost ?? 'its worker'} stopped answering`}${reportedBy(e.data)}`;
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
      return `${e.data.name}${e.data.data !== undefined ? ` ${JSON.stringify(e.data.data)}` : ''}${reportedBy(e.data)}`;
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

/** `shown`: a child run's id where it is not its derived one (under its spare id: executor/child-owner.ts), by derived id. */
export function historyText(events: EventEnvelope[], shown: ReadonlyMap<string, string> = new Map()): string {
  // A SUB_WORKFLOW's attempts name the child run each starts; an EMIT's completion says when it started nothing.
  const first = events[0];
  const tasks =
    first?.type === 'run.started' && Array.isArray(first.data.definition.tasks)
      ? (first.data.definition.tasks as { id: string; type: string }[])
      : [];
  const typeOf = new Map(tasks.map((t) => [t.id, t.type]));
  // A COMMAND's output (or a MAP's item whose iterator is a COMMAND) says how much of a stream the cap dropped.
  const iteratorOf = new Map(tasks.map((t) => [t.id, (t as { iterator?: string }).iterator]));
  const isCommand = (id: string): boolean =>
    typeOf.get(id) === 'COMMAND' || (typeOf.get(id) === 'MAP' && typeOf.get(iteratorOf.get(id) ?? '') === 'COMMAND');
  const extra = (e: EventEnvelope): string => {
    if (e.type === 'task.started' && typeOf.get(e.data.task) === 'SUB_WORKFLOW' && !e.data.reused) {
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

/** What a run that did not settle is waiting for, and how to continue it. */
/**
 * What a waiting run waits for and how to move it on. On the embedded store
 * the deciding user names themself and `resume` continues the run; over NATS
 * the approver is the NATS user they connect as, and the engines continue it.
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

/** A task's limit ("its concurrency limit 5"), or a queue's or handler's ("queue payments's rate limit 100 per 1s"). */
function waitText(waitingFor: string): string {
  return /^(queue|handler|station|a) /.test(waitingFor) ? inert(waitingFor) : `its ${inert(waitingFor)}`;
}
