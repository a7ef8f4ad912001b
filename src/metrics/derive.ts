/**
 * What a committed step means for metrics and traces: a pure function of the commit's events and the run's state before
 * and after it (no clock, no registry). The adapters (registry.ts, tracing.ts) make them samples and spans.
 *
 * Counting rules, so that every commit is counted once however many processes follow a run:
 * - a run is *started* in the commit that holds its first event of its own (holdsFirstOwnEvent): its seq 2, or in a
 *   retry the event after the reused completions. The start commit is often written by a short-lived process that
 *   exports no metrics (`ledgerflow start`; on NATS the client, which writes a retry's reused completions there too, so
 *   seq 2 is in a commit no engine sees); the process that records the run's first step of its own is the one driving
 *   it. One event, so one commit per run.
 * - a run *settles* in the commit that takes it from active to settled.
 * - an attempt *starts* with its task.started and *ends* with its task.completed, task.failed, the firing of its
 *   timeout timer, or, still in flight when the run settles, as `cancelled`. A task.restarted (the same attempt run
 *   again after a lost worker) neither starts nor ends one.
 */
import { instanceKey, itemsWithStatus, type TaskState } from '../compiler/index.js';
import type { EventEnvelope, WorkflowStatus } from '../events/index.js';
import { runStatus, type RunSnapshot } from '../runtime/index.js';

export type AttemptOutcome = 'completed' | 'failed' | 'timed_out' | 'cancelled';

/** Which attempt: its run (and when that started), task, instance key (`task`, `task#2`, `task[3]`) and number. */
export interface AttemptRef {
  runId: string;
  workflow: string;
  version: number;
  runStartedAt: string;
  task: string;
  instance: string;
  attempt: number;
}

export type Fact =
  | { kind: 'run.started'; runId: string; workflow: string; version: number; startedAt: string }
  | {
      kind: 'run.settled';
      runId: string;
      workflow: string;
      version: number;
      status: Extract<WorkflowStatus, 'COMPLETED' | 'FAILED' | 'CANCELLED'>;
      startedAt: string;
      endedAt: string;
      seconds: number;
      errorCode?: string;
    }
  | ({ kind: 'attempt.started'; startedAt: string } & AttemptRef)
  /** `startedAt` null: the attempt's start is in a commit this process did not see (then no duration and no span). */
  | ({
      kind: 'attempt.ended';
      outcome: AttemptOutcome;
      startedAt: string | null;
      endedAt: string;
      seconds: number | null;
      errorCode?: string;
    } & AttemptRef)
  /** A task of the run reached its end (task_success_rate): completed, or failed or timed out for good (no retry left). */
  | { kind: 'task.settled'; runId: string; workflow: string; task: string; status: TaskEnd }
  /** What the run holds now, for gauges: `settled` runs hold nothing any more. */
  | {
      kind: 'run.holds';
      runId: string;
      workflow: string;
      settled: boolean;
      approvalsWaiting: number;
      timersPending: number;
    }
  /** A notification's delivery noted in the run's history (notification.sent / notification.dead_lettered). */
  | { kind: 'notification'; runId: string; workflow: string; on: string; outcome: NotificationOutcome };

export type NotificationOutcome = 'sent' | 'dead_lettered';
/** How a task ended, as `ledgerflow stats` counts task_success_rate: completed ÷ all three. */
export type TaskEnd = 'COMPLETED' | 'FAILED' | 'TIMED_OUT';
export const TASK_ENDS: readonly TaskEnd[] = ['COMPLETED', 'FAILED', 'TIMED_OUT'];

/** The key of an attempt within its run, as `attemptStarts` is looked up with. */
export function attemptKey(instance: string, attempt: number): string {
  return `${instance}/${attempt}`;
}

/**
 * The facts of one commit. `attemptStarts(key)` gives the start time of an attempt of this run started in an earlier
 * commit this process saw (the adapter remembers the attempt.started facts); without it, a first attempt's start is
 * read from the state (a task's startedAt is its first attempt's), a later one's is unknown.
 */
export function deriveFacts(
  events: readonly EventEnvelope[],
  before: RunSnapshot,
  after: RunSnapshot,
  attemptStarts: (key: string) => string | undefined = () => undefined,
): Fact[] {
  const facts: Fact[] = [];
  const ctx = after.context;
  const runId = ctx.runId;
  const workflow = ctx.workflowId;
  const run = { runId, workflow, version: ctx.version, runStartedAt: ctx.startedAt };
  if (holdsFirstOwnEvent(events, before))
    facts.push({ kind: 'run.started', runId, workflow, version: ctx.version, startedAt: ctx.startedAt });
  const startedHere = new Map<string, string>();
  const ended = new Set<string>();
  const startOf = (instance: string, task: string, attempt: number, item: number | undefined): string | null => {
    const key = attemptKey(instance, attempt);
    const known = startedHere.get(key) ?? attemptStarts(key);
    if (known !== undefined) return known;
    if (attempt !== 1) return null;
    const t = before.context.tasks[task];
    return (item !== undefined ? t?.items?.[item]?.startedAt : t?.startedAt) ?? null;
  };
  const end = (
    data: { task: string; attempt: number; iteration?: number; item?: number },
    outcome: AttemptOutcome,
    endedAt: string,
    errorCode?: string,
  ) => {
    const instance = instanceKey(data);
    const key = attemptKey(instance, data.attempt);
    if (ended.has(key)) return;
    ended.add(key);
    const startedAt = startOf(instance, data.task, data.attempt, data.item);
    facts.push({
      kind: 'attempt.ended',
      ...run,
      task: data.task,
      instance,
      attempt: data.attempt,
      outcome,
      startedAt,
      endedAt,
      seconds: startedAt === null ? null : Math.max(0, Date.parse(endedAt) - Date.parse(startedAt)) / 1000,
      ...(errorCode !== undefined ? { errorCode } : {}),
    });
  };
  for (const ev of events) {
    switch (ev.type) {
      case 'task.started': {
        // A retry's reused task ran no attempt here: its output came from the run it retries.
        if (ev.data.reused) break;
        const instance = instanceKey(ev.data);
        startedHere.set(attemptKey(instance, ev.data.attempt), ev.time);
        facts.push({
          kind: 'attempt.started',
          ...run,
          task: ev.data.task,
          instance,
          attempt: ev.data.attempt,
          startedAt: ev.time,
        });
        break;
      }
      case 'task.completed':
        if (!ev.data.reused) end(ev.data, 'completed', ev.time);
        break;
      case 'task.failed':
        end(ev.data, 'failed', ev.time, ev.data.error.code);
        break;
      case 'timer.fired':
        if (ev.data.timer === 'timeout') end(ev.data, 'timed_out', ev.time, 'LF_TIMEOUT');
        break;
      default:
        break;
    }
  }
  facts.push(...tasksSettled(events, before, after));
  const settled = before.status === 'active' && after.status !== 'active';
  if (settled) {
    const endedAt = ctx.completedAt ?? events.at(-1)?.time ?? ctx.updatedAt;
    // Attempts still in flight when the run settled (cancelled, or another task failed the run) end with it.
    for (const [task, t] of Object.entries(before.context.tasks)) {
      for (const open of inFlight(task, t)) end(open, 'cancelled', endedAt);
    }
    const status = runStatus(after) as 'COMPLETED' | 'FAILED' | 'CANCELLED';
    facts.push({
      kind: 'run.settled',
      runId,
      workflow,
      version: ctx.version,
      status,
      startedAt: ctx.startedAt,
      endedAt,
      seconds: Math.max(0, Date.parse(endedAt) - Date.parse(ctx.startedAt)) / 1000,
      ...(ctx.error?.code !== undefined && status === 'FAILED' ? { errorCode: ctx.error.code } : {}),
    });
  }
  facts.push({ kind: 'run.holds', runId, workflow, settled: after.status !== 'active', ...holdings(after) });
  return facts;
}

/**
 * The deliveries that notes record. Counted by the process that appended them (its Notifier's `onNoted`), never from a
 * driver's commits: a note in those was appended by another writer, which counted it.
 */
export function noteFacts(events: readonly EventEnvelope[]): Fact[] {
  const facts: Fact[] = [];
  for (const e of events) {
    if (e.type === 'notification.sent' || e.type === 'notification.dead_lettered') {
      facts.push({
        kind: 'notification',
        runId: e.runId,
        workflow: e.workflowId,
        on: e.data.on,
        outcome: e.type === 'notification.sent' ? 'sent' : 'dead_lettered',
      });
    }
  }
  return facts;
}

/**
 * Whether the commit holds the run's first event of its own: the first that is neither run.started, a fork's run.forked
 * nor one of a retry's (or fork's) reused completions. Those come first, two events per reused task (task.started and task.completed, each marked
 * `reused`; retry.ts reuses no loop body or MAP item), so that event's seq is 2 plus two per reused task before it.
 */
function holdsFirstOwnEvent(events: readonly EventEnvelope[], before: RunSnapshot): boolean {
  const reuse = before.context.reuse?.outputs ?? {};
  let reused = 2 * Object.keys(reuse).filter((id) => before.context.tasks[id]?.status === 'COMPLETED').length;
  // A fork's run.forked (seq 2) comes before everything else of its own.
  if (before.context.reuse?.forked) reused += 1;
  for (const e of events) {
    if (e.type === 'run.started' || e.type === 'run.forked') continue;
    if ((e.type === 'task.started' || e.type === 'task.completed') && e.data.reused !== undefined) {
      if (e.type === 'task.completed') reused += 2;
      continue;
    }
    return e.seq === 2 + reused;
  }
  return false;
}

/**
 * Tasks this commit took to an end of their own (a status of TASK_ENDS they did not have before it). A retry's reused
 * completion ran nothing here; a task cancelled with its run, or skipped, has no end of its own.
 */
function tasksSettled(events: readonly EventEnvelope[], before: RunSnapshot, after: RunSnapshot): Fact[] {
  const facts: Fact[] = [];
  const reused = new Set(
    events.flatMap((e) => (e.type === 'task.completed' && e.data.reused !== undefined ? [e.data.task] : [])),
  );
  const { runId, workflowId: workflow } = after.context;
  for (const [task, t] of Object.entries(after.context.tasks)) {
    const was = before.context.tasks[task];
    // The fold copies only what an event changed: a task state kept as it was is no new end.
    if (was === t) continue;
    const status = t.status as TaskEnd;
    if (!TASK_ENDS.includes(status) || reused.has(task)) continue;
    // A loop body's next iteration ends again: a change of iteration is a new end even at the same status.
    if (was && was.status === status && was.iteration === t.iteration) continue;
    facts.push({ kind: 'task.settled', runId, workflow, task, status });
  }
  return facts;
}

/** The attempts of a task (its own, or its MAP items') that were running. */
function inFlight(task: string, t: TaskState): { task: string; attempt: number; iteration?: number; item?: number }[] {
  const iteration = t.iteration !== undefined && t.items === undefined ? { iteration: t.iteration } : {};
  const open: { task: string; attempt: number; iteration?: number; item?: number }[] = [];
  if (t.status === 'IN_PROGRESS' && t.attempts > 0 && !t.items) open.push({ task, attempt: t.attempts, ...iteration });
  for (const item of t.items ? itemsWithStatus(t.items, 'IN_PROGRESS') : []) {
    const it = t.items![item]!;
    if (it.attempts > 0)
      open.push({ task, attempt: it.attempts, item, ...(t.iteration !== undefined ? { iteration: t.iteration } : {}) });
  }
  return open;
}

/**
 * What a run holds now, from its state alone: for a run a process takes up without committing anything (a restart finds
 * it waiting), so the gauges show it before its next commit.
 */
export function holdsFact(snapshot: RunSnapshot): Extract<Fact, { kind: 'run.holds' }> {
  const ctx = snapshot.context;
  return {
    kind: 'run.holds',
    runId: ctx.runId,
    workflow: ctx.workflowId,
    settled: snapshot.status !== 'active',
    ...holdings(snapshot),
  };
}

/** What an active run holds that the gauges show: HUMAN tasks waiting for a decision, durable timers armed. */
function holdings(snapshot: RunSnapshot): { approvalsWaiting: number; timersPending: number } {
  if (snapshot.status !== 'active') return { approvalsWaiting: 0, timersPending: 0 };
  let approvalsWaiting = 0;
  for (const t of Object.values(snapshot.context.tasks)) if (t.status === 'PENDING_APPROVAL') approvalsWaiting++;
  return { approvalsWaiting, timersPending: Object.keys(snapshot.context.timers).length };
}
