/**
 * The effects a run asks of the world (attempt starts and aborts, timers, child runs, emits, waits) and what an
 * executor holds: the vocabulary reconcile (effects.ts) speaks and every executor reads, in a file of its own so the
 * executors' types are read apart from how they are worked out.
 */
import type { InstanceFields, InstanceRef, TimerState } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import type { SecretSite } from '../expressions/index.js';
import type { TaskInfo } from './handlers.js';
import type { AttemptCommand } from './commands.js';
import type { TaskGate } from './task-gates.js';

/** Which run of which attempt of which task instance an effect is about (`iteration`, `item`: the loop iteration and MAP item it runs for; absent otherwise). */
export interface AttemptRef extends Readonly<InstanceFields> {
  readonly runId: string;
  readonly taskId: string;
  /** The instance's key (instances.ts): the task id outside loops and maps. What an executor holds the attempt under. */
  readonly instance: string;
  readonly attempt: number;
  /** Which run of the attempt this is: 0 the first, n after its n-th restart (task.restarted). */
  readonly restart: number;
}

/** Run one attempt of a task, with everything an executor needs, computed here once. */
export interface StartAttempt extends AttemptRef {
  readonly type: 'attempt.start';
  readonly workflowId: string;
  readonly version: number;
  /** runId/instance/attempt: the same when an attempt is re-run after a crash. */
  readonly idempotencyKey: string;
  readonly handler: string;
  readonly queue: string;
  readonly input: Record<string, unknown>;
  /** The run's input, handed to the handler as `ctx.workflowInput` (the same object as the state's: never copied here). */
  readonly workflowInput: Readonly<Record<string, unknown>>;
  /** When the attempt times out (its timeout timer's due time), if the task has a timeout; or the run does (its `timeout:`), if earlier. */
  readonly deadline?: string;
  /** The workflow's `payloads.inline_limit` in bytes, when it sets one: an output over it is kept apart (executor/payloads.ts). */
  readonly inlineLimit?: number;
  /** `output_to` resolved for this attempt: where its output is written as YAML. */
  readonly outputTo?: string;
  /** A COMMAND task's attempt: the program to run (argv, cwd, env resolved now), instead of a handler. */
  readonly command?: AttemptCommand;
  /** A TRANSFORM task's attempt: the jq program or script the executor runs over the input itself (src/transform/), never a worker. */
  readonly transform?: { readonly jq: string } | { readonly js: string };
  readonly task: TaskInfo;
  /**
   * The run's priority (runPriority) when it is not the default: where the attempt waits for a worker
   * (a NATS queue's priority level, docs/nats.md). Absent for the default, so that such runs are handed
   * out exactly as before priorities.
   */
  readonly priority?: number;
  /**
   * Where the input and the command hold `${secrets.NAME}` (paths from the attempt: `['input', …]`,
   * `['command', 'argv', i]`, `['command', 'env', name]`): the executor's edge rebuilds those strings with the
   * values when it runs the attempt (src/secrets/). The input and command here keep the references. Absent: none.
   */
  readonly secrets?: readonly SecretSite[];
}

/** Stop an attempt that is no longer wanted (timed out, the run settled or was cancelled), or drop it unrun if it has not started. */
export interface AbortAttempt extends AttemptRef {
  readonly type: 'attempt.abort';
  readonly reason: string;
}

/** Arm a durable timer: when it is due, the executor feeds `timer.fired` back in. */
export interface ArmTimer {
  readonly type: 'timer.arm';
  readonly runId: string;
  readonly timer: TimerState;
}

/** A timer the state no longer holds (its task moved on). Firing it anyway would be harmless (stale), but wasteful. */
export interface CancelTimer {
  readonly type: 'timer.cancel';
  readonly runId: string;
  readonly timerId: string;
}

/**
 * Who started a child run: recorded in the child's run.started (`source.parent`). `iteration`, `item`: the
 * SUB_WORKFLOW's instance (loop iteration, MAP item), when not its only one: the child's outcome is reported for it.
 */
export interface ParentRef extends Readonly<InstanceFields> {
  readonly runId: string;
  readonly workflowId: string;
  /** The SUB_WORKFLOW task (absent for a failure workflow: then `failedTask` is in the input). */
  readonly task?: string;
  readonly attempt?: number;
  /** `failure`: the run of the parent's failure_workflow. Absent: a SUB_WORKFLOW's child. */
  readonly relation?: 'failure' | 'start';
}

/**
 * Start a child run (a SUB_WORKFLOW attempt, or a failed run's failure_workflow) and, for a SUB_WORKFLOW, report its
 * outcome as the attempt's: `task.completed` with the child's workflow output or `task.failed` with its error.
 * Idempotent by `childRunId`: a child that exists is not started again (settled, its outcome is reported at once).
 */
export interface StartChild {
  readonly type: 'child.start';
  readonly runId: string;
  readonly childRunId: string;
  readonly workflow: string;
  readonly version?: number;
  readonly input: Record<string, unknown>;
  readonly parent: ParentRef;
  /** For a SUB_WORKFLOW attempt: the key the executor holds it under (instances.ts). */
  readonly instance?: string;
  /** For a SUB_WORKFLOW attempt: which run of the attempt this is (as StartAttempt's). Absent for a failure workflow, which reports nothing. */
  readonly restart?: number;
  /** The child's definition when the parent's holds it (the built-in failure steps, failure-handler.ts): started with it, not looked up. */
  readonly definition?: Definition;
  /**
   * A SUB_WORKFLOW with `wait: false`: the child is started (its parent recorded with `relation: start` and no task, so
   * it reports nothing back) and goes on by itself; the attempt completes at once with `{ runId, workflow }`.
   */
  readonly detach?: true;
}

/** Emit an event as `ledgerflow emit` would (embedded) or on `lf.triggers.<event>` (NATS), then report `{ event, eventId, runs }` as the attempt's output. */
export interface EmitEvent extends AttemptRef {
  readonly type: 'event.emit';
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** `<runId>/<instance>/<attempt>`: the event's id, so a re-run starts nothing twice. */
  readonly eventId: string;
}

/**
 * An attempt of a gated task (concurrency:, rate_limit:) waits for its gate (task-gates.ts): the executor asks its gate
 * port until it may start, then feeds `grantedStart` back in. The run's priority orders waiters of a gate.
 */
export interface WaitAttempt extends Omit<AttemptRef, 'restart'> {
  readonly type: 'attempt.wait';
  readonly workflowId: string;
  readonly gate: TaskGate;
  readonly priority: number;
}

export type Effect = StartAttempt | AbortAttempt | ArmTimer | CancelTimer | StartChild | EmitEvent | WaitAttempt;

/**
 * An attempt an executor holds: which attempt of which instance, and which run of it. `ref` names the instance; without
 * it the key it is held under is the task id (a task outside loops and maps).
 */
export interface HeldAttempt {
  readonly attempt: number;
  readonly restart?: number;
  readonly ref?: InstanceRef;
}

/**
 * What an executor holds: attempts running (instance key → attempt and which run of it) and timers armed (by id, with
 * the due time they were armed for: a restart re-arms an attempt's timeout under the same id, later).
 */
export interface Held {
  readonly attempts: ReadonlyMap<string, HeldAttempt>;
  readonly timers: ReadonlyMap<string, { readonly dueAt: string }>;
  /** Attempts waiting for their gate (instance key → attempt); absent: none. */
  readonly waits?: ReadonlyMap<string, number>;
}
