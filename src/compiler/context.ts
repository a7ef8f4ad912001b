/**
 * The machine's context: per-run data, JSON only (it is rebuilt by every
 * replay and must never hold functions, Dates or class instances). Times are
 * ISO strings taken from event envelopes, never from a clock.
 */
import type { TaskError, TimerKind } from '../events/index.js';

export const TASK_STATUSES = [
  'PENDING', 'SCHEDULED', 'IN_PROGRESS', 'RETRYING', 'PENDING_APPROVAL',
  'COMPLETED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'CANCELLED',
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
  /** SUB_WORKFLOW only: the run id of the current attempt's child run. */
  child?: string;
}

/** A durable timer: armed by the live runtime, fired by appending `timer.fired`. */
export interface TimerState {
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
}

/** What the machine is created with: everything comes from the `run.started` envelope. */
export interface MachineInput {
  runId: string;
  workflowId: string;
  version: number;
  input: Record<string, unknown>;
  /** Epoch ms of run.started. */
  time: number;
}

/** Machine events: envelope types with the task id appended, so each region listens only to its own. */
export type MachineEvent =
  | { type: `task.started.${string}`; time: number; attempt: number }
  | { type: `task.completed.${string}`; time: number; attempt: number; output: unknown }
  | { type: `task.failed.${string}`; time: number; attempt: number; error: TaskError }
  | { type: `timer.${TimerKind}.${string}`; time: number; attempt: number }
  | { type: `task.restarted.${string}`; time: number; attempt: number; restart: number }
  | { type: `approval.approved.${string}` | `approval.rejected.${string}`; time: number; by: string; comment?: string }
  | { type: 'run.cancel'; time: number; by?: string; reason?: string }
  | { type: 'run.fail'; time: number; error: TaskError };
