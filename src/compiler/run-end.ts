/**
 * How a run ends: the `finish` action of the top-level final states, which settles every task left, works out the run's
 * error and maps the workflow output, and the end a TERMINATE task gives it. Apart from actions.ts because it reads the
 * whole context, where every other action changes one task.
 */
import type { Definition, TaskDef } from '../definition/index.js';
import { resolveTemplate } from '../expressions/index.js';
import { FINAL_TASK_STATUSES, type RunContext, type TaskState } from './context.js';
import type { ImplementationArgs as Args, ImplementationEvent } from './implementation-args.js';
import { failureSteps } from './readiness.js';
import { scopeOf } from './scope.js';
import { nowOf, stamped, type ActionKit } from './action-kit.js';
import { withTaskStates } from './task-table.js';
import { RUN_TIMEOUT_EVENT, runTimeoutError } from './run-timeout.js';

/** Workflow output: a map of templates, or for each listed name the value from the last completed task that produced it. */
function workflowOutput(def: Definition, ctx: RunContext): unknown {
  const out: Record<string, unknown> = {};
  for (const name of def.output.names) {
    for (const t of [...def.tasks].reverse()) {
      const o = ctx.tasks[t.id]?.output;
      if (ctx.tasks[t.id]?.status === 'COMPLETED' && o && typeof o === 'object' && Object.hasOwn(o, name)) {
        out[name] = (o as Record<string, unknown>)[name];
        break;
      }
    }
  }
  // The scope copies every task's state: built only for a workflow with output templates.
  let scope: ReturnType<typeof scopeOf> | null = null;
  for (const [k, v] of Object.entries(def.output.values)) out[k] = resolveTemplate(v, (scope ??= scopeOf(ctx)));
  return out;
}

/** The TERMINATE task that ended the run, if one did (the first in definition order that ran). */
function terminatedBy(def: Definition, ctx: RunContext): Extract<TaskDef, { type: 'TERMINATE' }> | undefined {
  for (const t of def.tasks) if (t.type === 'TERMINATE' && ctx.tasks[t.id]?.status === 'COMPLETED') return t;
  return undefined;
}

/**
 * The end of a run a TERMINATE task ended: tasks that had not started are SKIPPED (pending, or scheduled with no
 * attempt begun), the others not settled CANCELLED (reconcile aborts their attempts); the run error is LF_TERMINATED
 * with the reason when it ends FAILED; the workflow output is mapped either way.
 */
function terminatedRun(
  def: Definition,
  context: RunContext,
  event: ImplementationEvent,
  t: Extract<TaskDef, { type: 'TERMINATE' }>,
): Partial<RunContext> {
  const tasks: Record<string, TaskState> = {};
  for (const [id, st] of Object.entries(context.tasks)) {
    // Not started yet (pending, or scheduled in the same step as the TERMINATE ran, no attempt begun): skipped.
    const notStarted = st.status === 'PENDING' || (st.status === 'SCHEDULED' && st.attempts === 0);
    tasks[id] = FINAL_TASK_STATUSES.includes(st.status) ? st : { ...st, status: notStarted ? 'SKIPPED' : 'CANCELLED' };
  }
  const reason = (context.tasks[t.id]?.output as { reason?: unknown } | null)?.reason;
  const message =
    reason === null || reason === undefined || reason === ''
      ? `terminated by task ${t.id}`
      : typeof reason === 'string'
        ? reason
        : JSON.stringify(reason);
  return {
    tasks,
    timers: {},
    completedAt: nowOf(context, event),
    error: t.status === 'FAILED' ? { code: 'LF_TERMINATED', retryable: false, message, task: t.id } : null,
    output: workflowOutput(def, context),
  };
}

/** The action that ends the run with `status` (a top-level final state's entry). */
export function finishAction({ def, loops }: ActionKit) {
  // failure_workflow steps: their own failure never becomes the run's error.
  const steps = failureSteps(def);
  return stamped(({ context, event }: Args, p: { status: 'COMPLETED' | 'FAILED' | 'CANCELLED' }) => {
    const ended = terminatedBy(def, context);
    if (ended) return terminatedRun(def, context, event, ended);
    // Every task not settled is cancelled; a run whose tasks all settled keeps its very tasks record (a long run's
    // table, task-table.ts: copying it into a plain record of thousands of keys cost more than the run's last events).
    const tasks = withTaskStates(context.tasks, (t) => {
      if (FINAL_TASK_STATUSES.includes(t.status)) return t;
      // A MAP cut short cancels its items in flight or waiting too.
      const items = t.items
        ? {
            items: t.items.map((it) =>
              FINAL_TASK_STATUSES.includes(it.status) ? it : { ...it, status: 'CANCELLED' as const },
            ),
          }
        : {};
      return { ...t, status: 'CANCELLED', ...items };
    });
    // Body tasks are judged by their loop, which carries the error; failure_workflow steps' own failure never becomes
    // the run's error. Only a FAILED end looks for it: every other end would read every task for nothing.
    const failedTask =
      p.status === 'FAILED' && event.type !== RUN_TIMEOUT_EVENT
        ? def.tasks.find(
            (t) =>
              !t.optional &&
              !steps.has(t.id) &&
              !loops.has(t.id) &&
              ['FAILED', 'TIMED_OUT'].includes(context.tasks[t.id]!.status),
          )
        : undefined;
    const error =
      event.type === RUN_TIMEOUT_EVENT
        ? runTimeoutError(def)
        : p.status === 'FAILED' && failedTask
          ? { ...context.tasks[failedTask.id]!.error!, task: failedTask.id }
          : p.status === 'CANCELLED'
            ? {
                code: 'CANCELLED',
                retryable: false,
                message: `cancelled${event.by ? ` by ${event.by}` : ''}${event.reason ? `: ${event.reason}` : ''}`,
              }
            : event.type === 'run.fail' && event.error
              ? { ...event.error }
              : null;
    return {
      tasks,
      timers: {},
      completedAt: nowOf(context, event),
      error,
      output: p.status === 'COMPLETED' ? workflowOutput(def, context) : null,
    };
  });
}
