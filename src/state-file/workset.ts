/**
 * A WORKSET (every workflow instance is a workset): one file per run, `.3ox/worksets/ws-<run id>.yaml`, beside the
 * state file and written with it, in 3OX's workset layout. Pure, as the state file's layout: the same log gives the
 * same bytes (times are the log's ISO times, never the clock).
 *
 * Status words are 3OX's lower case: in_progress (RUNNING), waiting, paused, queued, completed, failed, cancelled.
 * `progress` is the share of the definition's tasks that have ended (completed, failed or skipped).
 */
import { progressPercent, taskEntries, type TaskState } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';
import { runView } from '../runtime/index.js';
import type { FoldedRun } from './layout.js';

const SEED_STATUS: Record<string, string> = {
  RUNNING: 'in_progress',
  WAITING: 'waiting',
  PAUSED: 'paused',
  QUEUED: 'queued',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};

/** Who started the run, as a workset's `owner`: the parent run, the schedule, the event, the retried run, else `manual`. */
function ownerOf(first: EventEnvelope | undefined, parent: string | undefined): string {
  if (parent) return `run ${parent}`;
  const source = first?.type === 'run.started' ? first.data.source : undefined;
  if (source?.retryOf) return `retry of ${source.retryOf.runId}`;
  if (source?.forked) return `fork of ${source.forked.from}`;
  if (source?.schedule) return `schedule ${source.schedule.slot}`;
  if (source?.event !== undefined) return `event ${source.event}`;
  return 'manual';
}

function approvalOf(id: string, t: TaskState, timeoutAt: string | undefined): Record<string, unknown> {
  const status =
    t.status === 'PENDING_APPROVAL'
      ? 'pending'
      : t.status === 'COMPLETED'
        ? 'approved'
        : t.status === 'TIMED_OUT' || t.error?.code === 'TIMED_OUT'
          ? 'timed_out'
          : t.status === 'FAILED'
            ? 'rejected'
            : t.status.toLowerCase();
  return {
    task: id,
    status,
    ...(t.startedAt ? { requested: t.startedAt } : {}),
    ...(timeoutAt && t.status === 'PENDING_APPROVAL' ? { timeout: timeoutAt } : {}),
    ...(t.decidedBy ? { decided_by: t.decidedBy } : {}),
    ...(t.completedAt ? { decided: t.completedAt } : {}),
  };
}

/** What a run's workset file says (worksetYaml writes it): plain data, which the writer's thread is handed. */
export function worksetData(run: FoldedRun, events: readonly EventEnvelope[]): Record<string, unknown> {
  const first = events[0];
  const { compiled, snapshot, seq } = run;
  const def = compiled.definition;
  const view = runView(snapshot, seq, def);
  const ctx = snapshot.context;
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  const entries = taskEntries(ctx.tasks);
  const current =
    entries.find(
      ([, t]) => t.status === 'IN_PROGRESS' || t.status === 'PENDING_APPROVAL' || t.status === 'WAITING',
    )?.[0] ?? null;
  const tasks = entries.map(([id, t]) => ({
    id,
    status: t.status,
    ...(t.startedAt ? { started: t.startedAt } : {}),
    ...(t.completedAt ? { completed: t.completedAt } : {}),
    ...(t.attempts > 1 ? { attempts: t.attempts } : {}),
    ...(byId.get(id)?.outputTo !== undefined && t.status === 'COMPLETED' ? { output: byId.get(id)!.outputTo } : {}),
    ...(t.error && t.status !== 'COMPLETED' ? { error: t.error.message } : {}),
  }));
  // Every failed attempt counts; a retry is a failed attempt another attempt of the same task (instance) followed.
  const failedAttempts = events.filter((e) => e.type === 'task.failed');
  const startedAfter = (f: EventEnvelope) =>
    events.some(
      (e) =>
        e.type === 'task.started' &&
        e.seq > f.seq &&
        e.data.task === (f.data as { task: string }).task &&
        e.data.iteration === (f.data as { iteration?: number }).iteration &&
        e.data.item === (f.data as { item?: number }).item,
    );
  const retries = failedAttempts.filter(startedAfter).map((f) => {
    const d = f.data as {
      task: string;
      attempt: number;
      iteration?: number;
      item?: number;
      error: { message: string };
    };
    return {
      task: d.task,
      ...(d.iteration !== undefined ? { iteration: d.iteration } : {}),
      ...(d.item !== undefined ? { item: d.item } : {}),
      attempt: d.attempt,
      failed: f.time,
      error: d.error.message,
    };
  });
  const approvals = entries
    .filter(
      ([id]) =>
        byId.get(id)?.type === 'HUMAN' && ctx.tasks[id]!.status !== 'PENDING' && ctx.tasks[id]!.status !== 'SKIPPED',
    )
    .map(([id, t]) =>
      approvalOf(id, t, view.timers.find((x) => x.task === id && x.kind === 'approval_timeout')?.dueAt),
    );
  return {
    id: `ws-${view.runId}`,
    goal: def.description ?? def.name,
    created: view.startedAt,
    updated: ctx.updatedAt,
    status: SEED_STATUS[view.status] ?? view.status.toLowerCase(),
    owner: ownerOf(first, view.parent?.runId),
    workflow_instance: view.runId,
    workflow: {
      definition: view.workflowId,
      version: view.version,
      instance_id: view.runId,
      state: view.status,
      current_task: current,
      progress: `${progressPercent(ctx.tasks)}%`,
    },
    tasks,
    failures: { count: failedAttempts.length, retries },
    approvals,
  };
}
