import type { Scope } from '../expressions/index.js';
import type { RunContext, TaskState } from './context.js';
import { tableOf, taskEntries } from './task-table.js';

/** The names templates and conditions can see: workflow input and metadata, and each task's state. */
export function scopeOf(ctx: RunContext): Scope {
  const workflow: Scope['workflow'] = { id: ctx.workflowId, runId: ctx.runId, version: ctx.version };
  if (ctx.variables !== undefined) workflow.variables = ctx.variables;
  return {
    input: ctx.input,
    workflow,
    tasks: tableOf(ctx.tasks) === null ? allViews(ctx.tasks) : taskViews(ctx.tasks),
  };
}

/** Every task's view at once: for a run of few tasks (a plain record, task-table.ts), cheaper than reading through traps. */
function allViews(tasks: Record<string, TaskState>): Scope['tasks'] {
  const out: Scope['tasks'] = {};
  for (const [id, t] of taskEntries(tasks))
    out[id] = { status: t.status, output: t.output, error: t.error, attempts: t.attempts };
  return out;
}

type TaskView = Scope['tasks'][string];

/**
 * Each task as templates see it, made when first read (a run of more tasks than TABLE_FROM_TASKS). A scope is made
 * for every template resolved (a SET's values, a task's input, a decision): built whole, it cost a view of every task
 * each time, so a run of 4,900 chained SET tasks spent 70% of 7.6 s of CPU making views nobody read. Reads and
 * enumeration (`Object.keys`, JSON) see the same names, in the same order, with the same fields as the whole object.
 */
function taskViews(tasks: Record<string, TaskState>): Scope['tasks'] {
  /** Views made, and those set by the scope's maker (a loop's condition sees the loop's output with the iteration in it). */
  const made = new Map<string, TaskView>();
  /** Names set that are no task's, in the order set (after the tasks, as on a plain object). */
  const added: string[] = [];
  const viewOf = (id: string): TaskView | undefined => {
    let v = made.get(id);
    if (v === undefined && Object.hasOwn(tasks, id)) {
      const t = tasks[id]!;
      v = { status: t.status, output: t.output, error: t.error, attempts: t.attempts };
      made.set(id, v);
    }
    return v;
  };
  const own = (k: string | symbol): k is string => typeof k === 'string' && (made.has(k) || Object.hasOwn(tasks, k));
  return new Proxy({} as Scope['tasks'], {
    get: (_, k) => (own(k) ? viewOf(k) : undefined),
    has: (_, k) => own(k),
    ownKeys: () => [...taskEntries(tasks).map(([id]) => id), ...added],
    getOwnPropertyDescriptor: (_, k) =>
      own(k) ? { value: viewOf(k), enumerable: true, configurable: true, writable: true } : undefined,
    set: (_, k, value: TaskView) => {
      if (typeof k !== 'string') return false;
      if (!own(k)) added.push(k);
      made.set(k, value);
      return true;
    },
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}
