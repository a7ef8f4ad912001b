import type { Scope } from '../expressions/index.js';
import type { RunContext } from './context.js';
import { taskEntries } from './task-table.js';

/** The names templates and conditions can see: workflow input and metadata, and each task's state. */
export function scopeOf(ctx: RunContext): Scope {
  const tasks: Scope['tasks'] = {};
  for (const [id, t] of taskEntries(ctx.tasks)) {
    tasks[id] = { status: t.status, output: t.output, error: t.error, attempts: t.attempts };
  }
  const workflow: Scope['workflow'] = { id: ctx.workflowId, runId: ctx.runId, version: ctx.version };
  if (ctx.variables !== undefined) workflow.variables = ctx.variables;
  return { input: ctx.input, workflow, tasks };
}
