/**
 * Where a task's attempts go, read from its definition: the handler name
 * they run under and the queue they wait on. Both executors and every worker
 * read them alike.
 */
import type { TaskDef } from './types.js';

/** The handler name COMMAND attempts travel under (the NATS subject lf.q.<queue>._command): workers that run commands take them. */
export const COMMAND_HANDLER = '_command';

/** The queue of a task that names none. */
export const DEFAULT_QUEUE = 'default';

/** The handler a task's attempts run: its `handler:`, else its `assigned_to:`, else its id. */
export function handlerName(task: TaskDef): string {
  return task.handler ?? task.assignedTo ?? task.id;
}
