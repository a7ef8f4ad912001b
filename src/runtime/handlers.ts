/**
 * Task handlers: `async (input, ctx) => output`. A handler module's default export maps handler names to handlers; the
 * name of a task's handler is its `handler`, else `assigned_to`, else its id.
 */
import { DEFAULT_QUEUE, failureStepOf, handlerName, type TaskDef } from '../definition/index.js';
import { NonRetryableError } from '../errors/index.js';
import type { TaskError } from '../events/index.js';

/** What a handler is told of its task (compiler/task-plans.ts). */
export type { TaskInfo } from '../compiler/index.js';
import type { TaskInfo } from '../compiler/index.js';

export interface TaskContext {
  runId: string;
  workflowId: string;
  taskId: string;
  /** 1-based; a retry is a new attempt, a re-run after a crash is the same attempt. */
  attempt: number;
  /** The DO_WHILE iteration (1-based) a loop-body task runs in; absent outside loops. */
  iteration?: number;
  /** The MAP item (0-based) this attempt runs for; absent outside maps. */
  item?: number;
  /** runId/instance/attempt (the instance is the task id outside loops and maps, else `task#2`, `task[3]`): the same when an attempt is re-run after a crash, so side effects can be deduplicated. */
  idempotencyKey: string;
  /** Fires when the attempt times out or the run is cancelled. */
  signal: AbortSignal;
  /** The task as defined: name, declared output, assigned_to, agent_level. */
  task: TaskInfo;
  /** Log lines, shown by the CLI. */
  log: (message: string) => void;
  /**
   * How far the attempt has come (docs/handlers.md#progress): `fraction` 0..1 (beyond it clamped; NaN or not a number
   * ignored) and a short message. Shown live by `status`, `watch` and the dashboard, never written to the run's log
   * (coalesced: call it as often as you like); the last value is kept on the task's outcome.
   */
  progress: (fraction: number, message?: string) => void;
  /** The run's input (`${workflow.input}`), read-only: what a handler may need besides its task's `input` (e.g. the folder a receipt names). Absent only where a caller builds a context by hand. */
  workflowInput?: Readonly<Record<string, unknown>>;
}

export type TaskHandler = (input: Record<string, unknown>, ctx: TaskContext) => Promise<unknown> | unknown;
export type Handlers = Record<string, TaskHandler>;

/** The handler a task's attempts run (definition/task-handlers.ts). */
export { handlerName };

/**
 * The handler of that name, if the module exports one. Only the object's own properties count: a plain object inherits
 * `constructor`, `toString`… from Object.prototype, and a task whose handler is named so must not run them.
 */
export function handlerFor(handlers: Handlers, name: string): TaskHandler | undefined {
  const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
  return typeof handler === 'function' ? handler : undefined;
}

/**
 * The handlers of a run that a running process starts: a SUB_WORKFLOW's child, a run an EMIT's event triggers, a
 * failure workflow. Each gets the handlers of the run that starts it (the process's `--handlers`, or the module that
 * run was driven with), plus the module its own definition names (`handlers:`), whose names win. The one rule for all
 * three, so a run behaves the same however it was started.
 */
export function handlersForStartedRun(starter: Handlers, own: Handlers | undefined): Handlers {
  return own ? { ...starter, ...own } : starter;
}

/**
 * SIMPLE tasks with no handler of their name: checked before a run starts, so nothing is written.
 * A task on a queue file agents serve (`agentQueues`, executor/agent-queues.ts) needs none: an agent runs it;
 * nor does a task that `requires:` skills (docs/limits.md#skills): whoever has them runs it, maybe not this process.
 */
export function missingHandlers(
  tasks: TaskDef[],
  handlers: Handlers,
  agentQueues?: ReadonlySet<string>,
): { task: string; handler: string }[] {
  return (
    tasks
      .filter((t) => agentQueues === undefined || agentQueues.size === 0 || !agentQueues.has(t.queue ?? DEFAULT_QUEUE))
      .filter((t) => t.requires === undefined)
      // A MAP with a body of its own runs its handler per item (an iterator's is its SIMPLE task's); a FORK_DYNAMIC's
      // branches name theirs only at run time (a missing one fails its branch).
      // A built-in failure step (`_log_to_incident`, …) is the executor's own work, never a module's handler.
      .filter(
        (t) =>
          (t.type === 'SIMPLE' || (t.type === 'MAP' && !t.iterator && !t.workflow && !t.fork)) &&
          failureStepOf(handlerName(t)) === null &&
          // A handler named by a template is chosen when an attempt starts: nothing to check before.
          !handlerName(t).includes('${') &&
          !handlerFor(handlers, handlerName(t)),
      )
      .map((t) => ({ task: t.id, handler: handlerName(t) }))
  );
}

/** The longest wait a failure may ask of its next attempt (`retryAfterMs`): an hour. */
const MAX_RETRY_AFTER_MS = 60 * 60_000;

/**
 * What a handler threw, as the log records it. Retryable unless it is a NonRetryableError or says `retryable: false`;
 * the same in-process and in a worker, so a handler behaves the same wherever it runs. A `retryAfterMs`
 * (RetryAfterError) is kept: the next attempt waits at least that long.
 */
export function toTaskError(err: unknown): TaskError {
  if (err instanceof NonRetryableError) return { message: err.message, code: err.code, retryable: false };
  if (typeof err === 'object' && err !== null) {
    const e = err as { message?: unknown; code?: unknown; retryable?: unknown };
    // String(): an Error subclass may make `message` anything, and the log takes strings only.
    const message = e.message !== undefined ? String(e.message) : String(err);
    const retryable = e.retryable !== false;
    const after = (err as { retryAfterMs?: unknown }).retryAfterMs;
    const retryAfterMs =
      retryable && typeof after === 'number' && Number.isFinite(after) && after > 0
        ? Math.min(Math.round(after), MAX_RETRY_AFTER_MS)
        : undefined;
    return {
      message,
      retryable,
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  return { message: String(err), retryable: true };
}
