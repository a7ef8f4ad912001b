/**
 * The execution log's lines (a definition's `monitoring.log_to`), as 3OX
 * stations write them:
 *
 *     Workflow: inventory-validation-12345
 *       → Starting task: scan_files
 *       ✗ Task failed: scan_files (attempt 1/3)
 *         Error: Access to path denied
 *       ⟳ Retrying in 2 seconds...
 *       ✓ Task completed: scan_files (attempt 3/3)
 *
 * each after the ISO time of the event that made it. Pure and per event: an
 * event's lines come from the event and the run's state just before and just
 * after it, so the live appender (one commit at a time) and `ledgerflow
 * history <run> --format log` (the whole log folded) print the same lines.
 * Text from the run (messages, names) goes through `inert`: a log line holds
 * no terminal escapes from a handler's error.
 */
import type { CompiledWorkflow, TaskState } from '../compiler/index.js';
import type { TaskDef } from '../definition/index.js';
import type { EventEnvelope } from '../events/index.js';
import {
  applyEvent,
  compiledForRun,
  workflowAfter,
  foldStartOf,
  runStatus,
  startFold,
  type RunSnapshot,
} from '../runtime/index.js';
import { elapsedText } from '../state-file/index.js';
import { inert } from '../terminal/inert.js';

/** `per_task`: a line for each task's start, end, retry and wait; `per_run`: the run's start and end only. */
export type ReportFrequency = 'per_task' | 'per_run';

/** What a run's definition says of its execution log: where, and how much. Null when it keeps none. */
export function executionLogOf(compiled: CompiledWorkflow): { logTo: string; frequency: ReportFrequency } | null {
  const m = compiled.definition.monitoring;
  const logTo = m?.log_to;
  if (typeof logTo !== 'string' || logTo === '') return null;
  return { logTo, frequency: m?.report_frequency === 'per_run' ? 'per_run' : 'per_task' };
}

/** A run folded event by event: its definition and where it stands. */
export interface LogFold {
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
  /** The definition's tasks by id (a line names a task's attempts out of its max). */
  tasks: ReadonlyMap<string, TaskDef>;
}

/** The definition's tasks by id, as a LogFold holds them. */
export function tasksById(compiled: CompiledWorkflow): ReadonlyMap<string, TaskDef> {
  return new Map(compiled.definition.tasks.map((t) => [t.id, t]));
}

/**
 * The fold at the run's first event, and that event's lines; `folded`: the state it led to, when the caller has
 * it; `tasks`: tasksById of the run's definition, when the caller keeps it (one per definition, not per run).
 */
export function startLogFold(
  first: Extract<EventEnvelope, { type: 'run.started' }>,
  frequency: ReportFrequency,
  folded?: RunSnapshot,
  tasks?: ReadonlyMap<string, TaskDef>,
): { fold: LogFold; lines: string[] } {
  const compiled = compiledForRun(first);
  const snapshot = folded ?? startFold(compiled, foldStartOf(first));
  const fold = { compiled, snapshot, tasks: tasks ?? tasksById(compiled) };
  return {
    fold,
    lines: [
      stamp(first.time, `Workflow: ${inert(first.workflowId)} run ${inert(first.runId)}`),
      ...taskLines(first, null, snapshot, fold, frequency),
    ],
  };
}

/**
 * Folds `ev` in (the fold changes) and returns its lines. `folded`: the state `ev` led to when the caller has it
 * (the engine's own fold of the commit: runtime's foldedStatesOf), so it is not folded a second time.
 */
export function logEvent(fold: LogFold, ev: EventEnvelope, frequency: ReportFrequency, folded?: RunSnapshot): string[] {
  const before = fold.snapshot;
  const after = folded ?? applyEvent(fold.compiled, before, ev).snapshot;
  fold.snapshot = after;
  // Migrated (docs/runs.md#migrating-in-flight-runs): the lines after it name the new version's tasks.
  if (ev.type === 'run.migrated') {
    fold.compiled = workflowAfter(fold.compiled, ev);
    fold.tasks = tasksById(fold.compiled);
  }
  return taskLines(ev, before, after, fold, frequency);
}

/** Every line of a whole log, as the appender wrote them. */
export function executionLogLines(events: readonly EventEnvelope[], frequency: ReportFrequency): string[] {
  const [first, ...rest] = events;
  if (!first || first.type !== 'run.started') return [];
  const { fold, lines } = startLogFold(first, frequency);
  for (const ev of rest) lines.push(...logEvent(fold, ev, frequency));
  return lines;
}

function stamp(time: string, text: string): string {
  return `${time} ${text}`;
}

/** A task's line: the event's time, indented under the run's. */
function say(out: string[], time: string, text: string): void {
  out.push(`${time}   ${text}`);
}

// No closures per event here: the execution log words every event the engine commits, on the engine's thread.
function taskLines(
  ev: EventEnvelope,
  before: RunSnapshot | null,
  after: RunSnapshot,
  fold: LogFold,
  frequency: ReportFrequency,
): string[] {
  const out: string[] = [];
  const time = ev.time;
  if (frequency === 'per_task') {
    const was = before?.context.tasks;
    const now = after.context.tasks;
    // The fold keeps the object of a task an event did not change: most are passed over by identity.
    if (was !== now)
      for (const id in now) {
        const t = now[id]!;
        const prev = was?.[id];
        if (prev === t || (prev && prev.status === t.status && prev.attempts === t.attempts)) continue;
        taskChange(id, t, prev, after, fold.tasks.get(id), time, out);
      }
  }
  if (ev.type === 'approval.recorded')
    say(
      out,
      time,
      `${ev.data.decision === 'approved' ? '✓ Approved' : '✗ Rejected'}: ${inert(ev.data.task)} by ${inert(ev.data.by)}${ev.data.comment ? ` (${inert(ev.data.comment)})` : ''}`,
    );
  if (ev.type === 'approval.refused')
    say(out, time, `✗ Refused: ${inert(ev.data.by)} may not decide ${inert(ev.data.task)}`);
  if (ev.type === 'run.paused') say(out, time, `⏸ Workflow paused${ev.data.by ? ` by ${inert(ev.data.by)}` : ''}`);
  if (ev.type === 'run.resumed') say(out, time, `▶ Workflow resumed${ev.data.by ? ` by ${inert(ev.data.by)}` : ''}`);
  if (before?.status === 'active' && after.status !== 'active') out.push(stamp(ev.time, settledLine(after)));
  return out;
}

function taskChange(
  id: string,
  t: TaskState,
  prev: TaskState | undefined,
  after: RunSnapshot,
  task: TaskDef | undefined,
  now: string,
  out: string[],
): void {
  const name = inert(id);
  switch (t.status) {
    case 'IN_PROGRESS':
      say(out, now, `→ Starting task: ${name}`);
      break;
    case 'COMPLETED':
      if (t.decision)
        say(
          out,
          now,
          `◆ Decision: ${name} chose ${inert(String(t.decision.case ?? t.decision.value))}${t.decision.next.length ? ` → ${t.decision.next.map(inert).join(', ')}` : ''}`,
        );
      else say(out, now, `✓ Task completed: ${name}${t.attempts > 0 ? ` (attempt ${attemptsOf(t, task)})` : ''}`);
      break;
    case 'RETRYING': {
      say(out, now, `✗ Task failed: ${name} (attempt ${attemptsOf(t, task)})`);
      say(out, now, `  Error: ${inert(t.error?.message ?? '')}`);
      const timer = Object.values(after.context.timers).find((x) => x.task === id && x.kind === 'backoff');
      if (timer) say(out, now, `⟳ Retrying in ${seconds(Date.parse(timer.dueAt) - Date.parse(now))}...`);
      break;
    }
    case 'FAILED':
    case 'TIMED_OUT':
      say(
        out,
        now,
        `✗ Task ${t.status === 'TIMED_OUT' ? 'timed out' : 'failed'}: ${name}${t.attempts > 0 ? ` (attempt ${attemptsOf(t, task)})` : ''}`,
      );
      if (t.error) say(out, now, `  Error: ${inert(t.error.message)}`);
      break;
    case 'PENDING_APPROVAL':
      say(
        out,
        now,
        `⏸ Waiting for approval: ${name}${task?.type === 'HUMAN' && task.approvers.length ? ` (approvers: ${task.approvers.map(inert).join(', ')})` : ''}`,
      );
      break;
    case 'WAITING':
      say(out, now, `⌛ Waiting: ${name}`);
      break;
    case 'SKIPPED':
      if (prev) say(out, now, `⊘ Task skipped: ${name}`);
      break;
    case 'CANCELLED':
      say(out, now, `■ Task cancelled: ${name}`);
      break;
    default:
      break;
  }
}

/** `2/3`: the attempt out of the task's max (the attempt alone where the definition has no such task). */
function attemptsOf(t: TaskState, task: TaskDef | undefined): string {
  return task ? `${t.attempts}/${task.retry.maxAttempts}` : `${t.attempts}`;
}

function settledLine(after: RunSnapshot): string {
  const status = runStatus(after);
  const took = elapsedText(after.context.startedAt, after.context.completedAt ?? after.context.startedAt);
  if (status === 'COMPLETED') return `✓ Workflow completed in ${took}`;
  if (status === 'CANCELLED') return `■ Workflow cancelled after ${took}`;
  return `✗ Workflow failed after ${took}${after.context.error ? `: ${inert(after.context.error.message)}` : ''}`;
}

/** `2 seconds`, `1 second`, `500 ms`, as 3OX's log says a backoff. */
function seconds(ms: number): string {
  const d = Math.max(0, ms);
  if (d < 1000) return `${d} ms`;
  const s = Math.round(d / 100) / 10;
  return `${s} second${s === 1 ? '' : 's'}`;
}
