/**
 * The handlers a run still needs: checked before a process drives a run it loaded from its log (resume, serve,
 * approve), as `run` checks every task before it starts one. A process that lacks one is refused before anything is
 * written: a configuration mistake of the driver (no --handlers, the wrong module) must never fail the user's run with
 * "no handler named …".
 */
import { FINAL_TASK_STATUSES, type CompiledWorkflow } from '../compiler/index.js';
import { HandlerError } from '../errors/index.js';
import type { RunSnapshot } from './fold.js';
import { missingHandlers, type Handlers } from './handlers.js';

/** Tasks that may still start an attempt here: not final, or in the body of a loop that is not (it runs them again). */
function tasksStillToRun(compiled: CompiledWorkflow, snapshot: RunSnapshot) {
  const tasks = compiled.definition.tasks;
  const open = (id: string) => !FINAL_TASK_STATUSES.includes(snapshot.context.tasks[id]?.status ?? 'PENDING');
  const inOpenLoop = new Set(tasks.flatMap((t) => (t.type === 'DO_WHILE' && open(t.id) ? t.loopOver : [])));
  return tasks.filter((t) => open(t.id) || inOpenLoop.has(t.id));
}

/**
 * Throws LF_HANDLER_NOT_FOUND naming each task of the run still to run whose handler `handlers` lacks (nothing for a
 * settled run: it runs no task). `where`: how this caller is given handlers, for the fix (the CLI: --handlers).
 */
export function assertHandlersFor(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  handlers: Handlers,
  where = 'the `handlers` option',
  agentQueues?: ReadonlySet<string>,
): void {
  if (snapshot.status !== 'active') return;
  const missing = missingHandlers(tasksStillToRun(compiled, snapshot), handlers, agentQueues);
  if (missing.length === 0) return;
  const runId = snapshot.context.runId;
  throw new HandlerError(
    'LF_HANDLER_NOT_FOUND',
    `run ${runId} needs a handler for ${missing.map((m) => `task ${m.task} (named "${m.handler}")`).join(', ')}, which this process was not given; ` +
      `nothing was recorded. Give the module that exports ${missing.length > 1 ? 'them' : 'it'} (${where}), or leave the run to a process that has ${missing.length > 1 ? 'them' : 'it'}`,
    { runId, missing: missing.map((m) => m.handler) },
  );
}
