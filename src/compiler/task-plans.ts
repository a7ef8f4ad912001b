/**
 * What starting an attempt needs of each task of a workflow — the task it runs (a MAP's items run its body), the
 * handler and queue, what the handler is told of the task, whether its input reads anything — worked out once per
 * compiled workflow (CompiledWorkflow.taskPlans, on first use) rather than once per attempt.
 */
import {
  COMMAND_HANDLER,
  HTTP_HANDLER,
  TRANSFORM_HANDLER,
  DEFAULT_QUEUE,
  handlerName,
  mapBody,
  type Definition,
  type TaskDef,
} from '../definition/index.js';
import { collectRefs } from '../expressions/index.js';

/** The task as a handler is told of it (`ctx.task`): name, declared output, assigned_to, agent_level. */
export interface TaskInfo {
  id: string;
  name: string;
  type: string;
  output: { names: string[]; values: Record<string, unknown> };
  assignedTo?: string;
  agentLevel?: string;
  requires?: string[];
  timeoutMs?: number;
}

export interface TaskPlan {
  /** What an attempt runs: the task, or a MAP's body (its iterator, or itself). */
  def: TaskDef;
  handler: string;
  queue: string;
  info: TaskInfo;
  /** Its input has templates: without them, it resolves the same in any scope. */
  inputHasRefs: boolean;
}

export function planTasks(definition: Definition): ReadonlyMap<string, TaskPlan> {
  const tasks = definition.tasks;
  const bodyOf = (t: TaskDef) => (t.type === 'MAP' ? mapBody(tasks, t) : t);
  return new Map(
    tasks.map((t) => {
      const body = bodyOf(t);
      return [
        t.id,
        {
          def: body,
          handler:
            body.type === 'COMMAND'
              ? COMMAND_HANDLER
              : body.type === 'HTTP'
                ? HTTP_HANDLER
                : body.type === 'TRANSFORM'
                  ? TRANSFORM_HANDLER
                  : handlerName(body),
          queue: body.queue ?? DEFAULT_QUEUE,
          inputHasRefs: collectRefs(body.input).length > 0,
          info: Object.freeze({
            id: t.id,
            name: t.name,
            type: t.type,
            output: t.output,
            ...(t.assignedTo ? { assignedTo: t.assignedTo } : {}),
            ...(t.agentLevel ? { agentLevel: t.agentLevel } : {}),
            ...((t.requires ?? body.requires) ? { requires: t.requires ?? body.requires } : {}),
            ...(body.timeoutMs !== undefined ? { timeoutMs: body.timeoutMs } : {}),
          }),
        },
      ];
    }),
  );
}
