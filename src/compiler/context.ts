/**
 * The machine's context: per-run data, JSON only (it is rebuilt by every replay and must never hold functions, Dates or
 * class instances). Times are ISO strings taken from event envelopes, never from a clock.
 */
import type { TaskError, TimerKind } from '../events/index.js';

export const TASK_STATUSES = [
  'PENDING',
  'SCHEDULED',
  'IN_PROGRESS',
  'RETRYING',
  'PENDING_APPROVAL',
  'COMPLETED',
  'FAILED',
  'TIMED_OUT',
  'SKIPPED',
  'CANCELLED',
  'WAITING',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const FINAL_TASK_STATUSES: readonly TaskStatus[] = ['COMPLETED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'CANCELLED'];
export const ACTIVE_TASK_STATUSES: readonly TaskStatus[] = ['SCHEDULED', 'IN_PROGRESS', 'RETRYING'];

export interface TaskState {
  status: TaskStatus;
  /** Attempts started so far (the current attempt's number while IN_PROGRESS). */
  attempts: number;
  startedAt: string | null;
  completedAt: string | null;
  output: unknown;
  error: TaskError | null;
  /** DECISION only: the case chosen and the tasks it routes to. */
  decision?: { case: string | null; value: unknown; next: string[] };
  /** HUMAN only: who decided. */
  decidedBy?: string;
  /** Times the current attempt was restarted after it was lost (task.restarted); absent when never. Cleared by the next attempt. */
  restarts?: number;
  /**
   * The current run of the attempt was given back by a clean stop of its process (task.released): the next restart
   * takes it up without counting a loss. Cleared by that restart and by the next attempt. Absent in runs that never had one.
   */
  released?: true;
  /** Runs of the current attempt given back (task.released): restarts that were not losses. Cleared by the next attempt. */
  releases?: number;
  /** Loop-body tasks only: the DO_WHILE iteration the task's state belongs to (see instances.ts). */
  iteration?: number;
  /** WAIT on an event only: a signal that came while the task was still PENDING, kept until it starts waiting (then it completes it). */
  signal?: { data: unknown; by?: string };
  /** SUB_WORKFLOW only: the run id of the current attempt's child run. */
  child?: string;
  /** MAP tasks only, once mapping: one state per item, in item order (see instances.ts). */
  items?: ItemState[];
}

/**
 * One MAP item: its own attempts, like a task's. PENDING until a slot is free (max_concurrency), then SCHEDULED →
 * IN_PROGRESS (→ RETRYING → SCHEDULED)* → COMPLETED | FAILED | TIMED_OUT; SKIPPED when the MAP failed first.
 */
export interface ItemState
  extends Pick<
    TaskState,
    'status' | 'attempts' | 'startedAt' | 'completedAt' | 'output' | 'error' | 'restarts' | 'released' | 'releases'
  > {
  /** The item's value, as `items` gave it: what `${item}` reads. */
  value: unknown;
}

/** A durable timer: armed by the live runtime, fired by appending `timer.fired`; its instance (loop iteration, MAP item) when not the task's only one. */
export interface TimerState extends InstanceFields {
  id: string;
  task: string;
  kind: TimerKind;
  attempt: number;
  dueAt: string;
}

export interface RunError extends TaskError {
  task?: string;
}

export interface RunContext {
  runId: string;
  workflowId: string;
  version: number;
  input: Record<string, unknown>;
  startedAt: string;
  completedAt: string | null;
  /** Time of the last event folded (internal events carry none). */
  updatedAt: string;
  tasks: Record<string, TaskState>;
  timers: Record<string, TimerState>;
  error: RunError | null;
  output: unknown;
  /** What SET tasks set (`${workflow.variables.<name>}`); absent until one runs. */
  variables?: Record<string, unknown>;
  /** Search attributes (the workflow's `search:`, then SET tasks' `search:`); absent when the workflow declares none. Not in the state hash. */
  search?: Record<string, string | number | boolean>;
  /**
   * The case each DECISION took, told to the fold instead of evaluated: set only by a reader without the data key
   * (query/blind-fold.ts), which cannot read the values a case depends on and finds it by the state hash the log
   * recorded. Never set where values are read; not in the state hash.
   */
  decided?: Record<string, string | null>;
  /** true between run.paused and run.resumed (false after a resume); absent when never paused. No attempt starts while true. */
  paused?: boolean;
  /** true while paused by run.queued (status QUEUED), false once run.admitted; absent for a run never queued. */
  queued?: boolean;
  /**
   * When a run queued with `holds` (run.queued since 2026-11-23) was queued (ms); absent otherwise and once admitted.
   * While set, the run takes no input but its admission, cancel and its own timeout (queued-hold.ts), and run.admitted
   * moves its timers on by the time it waited.
   */
  heldSince?: number;
  /** A retry's reused outputs (run.started source.retryOf): the step completes each of these tasks as it becomes ready. Absent otherwise. */
  reuse?: RunReuse;
  /**
   * The state hash format of this run (run.started's `stateHashVersion`, runtime/state-hash.ts): 2 for runs started
   * since it was introduced; absent in every older run (format 1). Read only by the state hash.
   */
  stateHashVersion?: 2;
  /** The priority its start gave it (run.started's `priority`: `--priority`, the API's), over the workflow's; absent when none. */
  priority?: number;
}

/** What a retry reuses: the run it retries and its outputs by task id (runtime/retry.ts chooses them). */
export interface RunReuse {
  runId: string;
  outputs: Record<string, unknown>;
  /** A fork's (run.started's source.forked): its run.forked follows run.started, so its own events begin one later. */
  forked?: true;
}

/** What the machine is created with: everything comes from the `run.started` envelope. */
export interface MachineInput
  extends Pick<
    RunContext,
    'runId' | 'workflowId' | 'version' | 'input' | 'reuse' | 'stateHashVersion' | 'priority' | 'decided'
  > {
  /** Epoch ms of run.started. */
  time: number;
}

/** Machine events: envelope types with the task id appended, so each region listens only to its own. */
/** The instance an attempt's event belongs to (instances.ts): absent outside loops and maps. */
export interface InstanceFields {
  iteration?: number;
  item?: number;
}

export type MachineEvent =
  | ({ type: `task.started.${string}`; time: number; attempt: number; reused?: { runId: string } } & InstanceFields)
  | ({
      type: `task.completed.${string}`;
      time: number;
      attempt: number;
      output: unknown;
      reused?: { runId: string };
    } & InstanceFields)
  | ({ type: `task.failed.${string}`; time: number; attempt: number; error: TaskError } & InstanceFields)
  | ({ type: `timer.${TimerKind}.${string}`; time: number; attempt: number } & InstanceFields)
  | ({ type: `task.restarted.${string}`; time: number; attempt: number; restart: number } & InstanceFields)
  | ({ type: `task.released.${string}`; time: number; attempt: number; restart: number } & InstanceFields)
  | { type: `approval.approved.${string}` | `approval.rejected.${string}`; time: number; by: string; comment?: string }
  | { type: `signal.${string}`; time: number; data: unknown; by?: string; waits?: readonly string[] }
  | { type: 'run.cancel'; time: number; by?: string; reason?: string }
  | { type: 'run.fail'; time: number; error: TaskError }
  | { type: 'run.pause'; time: number; by?: string; reason?: string; queued?: true; holds?: true }
  | { type: 'run.resume'; time: number; by?: string; admitted?: true };
