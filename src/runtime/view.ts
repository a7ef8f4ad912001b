/** The run as people and scripts see it (`status --json`): derived from a snapshot, never stored. */
import {
  branchOf,
  durationText,
  instanceFields,
  instanceKey,
  runDeadline,
  taskEntries,
  type ItemState,
  type RunError,
  type TaskState,
  type TimerState,
} from '../compiler/index.js';
import { isDynamicFork, type Definition, type GlobalLimits, type RunTimeoutPolicy } from '../definition/index.js';
import {
  SETTLED_STATUSES,
  type EventEnvelope,
  type RunHeader,
  type RunParent,
  type RunSchedule,
  type RunSource,
  type Progress,
} from '../events/index.js';
import { runStatus, type RunSnapshot } from './fold.js';
import { timersArmed } from './effects.js';
import { gatesOf, gateText } from './task-gates.js';
import type { SealedFrom } from './sealed-from.js';

/** A task as shown: its state without the fold's internals (decision details, who decided). */
export type TaskView = Pick<TaskState, 'status' | 'attempts' | 'startedAt' | 'completedAt' | 'output' | 'error'> & {
  /** SUB_WORKFLOW: the run id of the current attempt's child run. */
  child?: string;
  /** Loop-body tasks: the iteration their state is of; a DO_WHILE: the iteration it is in (or ended in). Absent otherwise. */
  iteration?: number;
  /** With `iteration`: the instance key (`check#2`), as history names a body task's attempts. */
  instance?: string;
  /** A MAP's items once it is mapping, in item order (shown as `task[i]`). */
  items?: ItemView[];
  /** A WAIT on an event: the signal it takes (its `event:`), what `ledgerflow signal <runId> <signal>` must name. */
  signal?: string;
  /** A gated task SCHEDULED in an active run: what its next attempt waits for ("concurrency limit 2", "rate limit 5 per 1s"). */
  waitingFor?: string;
  /** How far its attempt has come (docs/handlers.md#progress): added by the readers that show it (status, watch, the dashboard), never by the fold. */
  progress?: TaskProgress;
};
/**
 * An attempt's progress as shown: live (`live: true`, from the store's progress channel, with an `eta` estimated from
 * the rate so far, ISO) while it runs; after it ends, the last value its outcome kept.
 */
export type TaskProgress = Progress & { attempt: number; live?: true; startedAt?: string; eta?: string };
/** A MAP item as shown: its key (`task[i]`) and its attempts' state, without its value (in the MAP's input). */
export type ItemView = {
  instance: string;
  /** A FORK_DYNAMIC's item: the id of the branch it runs (its key in the fork's output). */
  branch?: string;
  waitingFor?: string;
  progress?: TaskProgress;
} & Pick<ItemState, 'status' | 'attempts' | 'startedAt' | 'completedAt' | 'output' | 'error'>;

export interface RunView extends RunHeader {
  input: Record<string, unknown>;
  tasks: Record<string, TaskView>;
  output: unknown;
  error: RunError | null;
  /** Durable timers still armed (backoffs, timeouts, approval deadlines). */
  timers: TimerState[];
  /** Sequence of the last event folded. */
  seq: number;
  /** What SET tasks set (`${workflow.variables.<name>}`); absent when none ran. */
  variables?: Record<string, unknown>;
  /** The run that started this one (a SUB_WORKFLOW's, or a failed run's failure workflow), from its run.started; shown by `status`. */
  parent?: RunParent;
  /** The schedule slot that started this run (run.started's source.schedule); shown by `status`. */
  schedule?: RunSchedule;
  /** Retry from failed: the run this one retries and the tasks whose outputs it reuses (run.started's source.retryOf); shown by `status`. */
  retryOf?: { runId: string; reused: string[] };
  /** A fork (run.started's source.forked; by whom: run.forked's `by`): the run it was forked from, at which point, and the tasks it reused; shown by `status`. */
  forkOf?: { runId: string; at: { seq: number; task?: string }; by?: string; reused: string[] };
  /** The run of this run's failure_workflow, once it exists; shown by `status`. */
  failureRun?: string;
  /** The workflow's `timeout:` (docs/runs.md#run-timeouts): how long, when the run times out (started + timeout) and what it becomes then; absent without one. */
  timeout?: { after: string; deadline: string; policy: RunTimeoutPolicy };
  /**
   * A run that waited for a concurrency slot (docs/limits.md#concurrency-limits-and-priority): its run.queued's
   * priority, key and limit, when it was queued and (once let in) admitted; absent for a run that never queued.
   */
  queue?: RunQueue;
  /**
   * A run started by a debounced or throttled event trigger (docs/triggers.md#debounce-and-throttle): which trigger
   * (its index in the workflow's `triggers:`), its key, how many events the run stands for and the ids merged into it.
   */
  gate?: RunGate;
  /**
   * The embedded store: no process drives this run, though it would move were one to (driver-waits.ts): what to run.
   * Absent when a process drives it, when it needs none, and on NATS. Said by `status`, `watch` and the dashboard.
   */
  undriven?: string;
  /**
   * Read without the data key, a run whose course turned on sealed values (sealed-parting.ts): the event from which the
   * tasks are not shown. `tasks`, `variables` and `timers` are as of the event before it; `status`, `completedAt`,
   * `error` and `seq` as the run's last event recorded them. Absent whenever the view is the run's whole.
   */
  sealedFrom?: SealedFrom;
}

export interface RunQueue {
  priority: number;
  key: string | null;
  limit: number;
  queuedAt: string;
  admittedAt?: string;
}
export type RunGate = NonNullable<RunSource['gate']> & { event?: string };

/**
 * `definition`: the run's own (recorded in its run.started), for what its tasks wait for (a WAIT's signal);
 * `limits`: the limits file's, for the queue's and handler's limits a task's attempt waits for.
 */
export function runView(
  snapshot: RunSnapshot,
  seq: number,
  definition?: Definition,
  limits?: GlobalLimits,
  openBreakers?: ReadonlySet<string>,
): RunView {
  const ctx = snapshot.context;
  const tasks: Record<string, TaskView> = {};
  for (const [id, t] of taskEntries(ctx.tasks)) {
    // The child stored after the literal, not spread into it: a spread after other keys is copied by the runtime (for a
    // 3,000-task run, a quarter of its view's time; checked replay ends with one).
    const view: TaskView = {
      status: t.status,
      attempts: t.attempts,
      startedAt: t.startedAt,
      completedAt: t.completedAt,
      output: t.output,
      error: t.error,
    };
    if (t.child) view.child = t.child;
    tasks[id] = view;
    if (t.iteration !== undefined)
      Object.assign(view, { iteration: t.iteration, instance: instanceKey({ task: id, iteration: t.iteration }) });
    if (t.items) {
      const fork = definition?.tasks.some((d) => d.id === id && isDynamicFork(d)) === true;
      view.items = t.items.map((it, i) => ({
        instance: instanceKey({ task: id, ...instanceFields({ iteration: t.iteration, item: i }) }),
        ...(fork ? { branch: branchOf(it)?.id ?? '' } : {}),
        status: it.status,
        attempts: it.attempts,
        startedAt: it.startedAt,
        completedAt: it.completedAt,
        output: it.output,
        error: it.error,
      }));
    }
  }
  for (const t of definition?.tasks ?? [])
    if (t.type === 'WAIT' && t.event !== undefined && tasks[t.id]) tasks[t.id]!.signal = t.event;
  // Gated tasks (concurrency:, rate_limit:): an attempt SCHEDULED in a running run waits for its gate (task-gates.ts).
  if (definition && snapshot.status === 'active' && ctx.paused !== true) {
    for (const [id, gate] of gatesOf(definition, limits)) {
      const t = tasks[id];
      if (!t) continue;
      // A breaker that is closed holds nothing: with no other limit, the attempt is about to start (no words).
      const text = gateText(gate, openBreakers);
      if (text === '') continue;
      if (t.items)
        for (const it of t.items) {
          if (it.status === 'SCHEDULED') it.waitingFor = text;
        }
      else if (t.status === 'SCHEDULED' && definition.tasks.find((d) => d.id === id)?.type !== 'MAP')
        t.waitingFor = text;
    }
  }
  const deadline = definition ? runDeadline(definition, ctx.startedAt) : null;
  return {
    runId: ctx.runId,
    workflowId: ctx.workflowId,
    version: ctx.version,
    status: runStatus(snapshot),
    startedAt: ctx.startedAt,
    completedAt: ctx.completedAt,
    input: ctx.input,
    tasks,
    output: ctx.output,
    error: ctx.error,
    timers: timersArmed(ctx).sort((a, b) => a.dueAt.localeCompare(b.dueAt)),
    seq,
    ...(ctx.variables !== undefined ? { variables: ctx.variables } : {}),
    ...(deadline !== null
      ? {
          timeout: {
            after: durationText(definition!.timeoutMs!),
            deadline,
            policy: definition!.timeoutPolicy ?? 'fail',
          },
        }
      : {}),
  };
}

/**
 * What a run's log says of where it came from and how it got going, beyond its fold: the parent, schedule slot, retry,
 * trigger gate (run.started's source) and concurrency queue (run.queued, run.admitted). One function, so `status`
 * on either store and the dashboard show the same shape. `events`: the run's log from its start (any prefix).
 */
export function runOrigin(
  events: readonly EventEnvelope[],
): Pick<RunView, 'parent' | 'schedule' | 'retryOf' | 'forkOf' | 'gate' | 'queue'> {
  const first = events[0];
  const source = first?.type === 'run.started' ? first.data.source : undefined;
  // A fork's run.forked comes right after its run.started (seq 2), before any run.queued.
  const forked = events[1]?.type === 'run.forked' ? events[1] : undefined;
  const second = forked ? events[2] : events[1];
  const queued = second?.type === 'run.queued' ? second : undefined;
  const admitted = queued ? events.find((e) => e.type === 'run.admitted') : undefined;
  return {
    ...(source?.parent ? { parent: source.parent } : {}),
    ...(source?.schedule ? { schedule: source.schedule } : {}),
    ...(source?.retryOf
      ? { retryOf: { runId: source.retryOf.runId, reused: Object.keys(source.retryOf.outputs ?? {}) } }
      : {}),
    ...(source?.forked
      ? {
          forkOf: {
            runId: source.forked.from,
            at: source.forked.at,
            ...(forked?.data.by ? { by: forked.data.by } : {}),
            reused: Object.keys(source.forked.outputs ?? {}),
          },
        }
      : {}),
    ...(source?.gate ? { gate: { ...source.gate, ...(source.event ? { event: source.event } : {}) } } : {}),
    ...(queued?.type === 'run.queued'
      ? {
          queue: {
            priority: queued.data.priority,
            key: queued.data.key,
            limit: queued.data.limit,
            queuedAt: queued.time,
            ...(admitted ? { admittedAt: admitted.time } : {}),
          },
        }
      : {}),
  };
}

/** A run that has ended: completed, failed or cancelled. */
export function isSettled(view: RunView): boolean {
  return SETTLED_STATUSES.includes(view.status);
}
