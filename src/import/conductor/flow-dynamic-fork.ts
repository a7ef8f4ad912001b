/**
 * Conductor's FORK_JOIN_DYNAMIC in its first form, `dynamicForkTasksParam` (+ `dynamicForkTasksInputParamName`): the
 * tasks it forks are a list of Conductor tasks an earlier task computes, each with its input in a map by reference
 * name. It becomes a FORK_DYNAMIC (docs/language.md#fork_dynamic-branches-chosen-at-run-time), which reads such
 * elements as they are (taskReferenceName, name, type, subWorkflowParam, inputParameters); the JOIN after it (flow.ts)
 * joins on it and outputs each branch's output by its taskReferenceName, as Conductor's does.
 */
import { attemptSettings } from './common.js';
import type { Ctx, LfTask } from './context.js';
import type { ConductorTask } from './schema.js';
import type { Templates } from './templates.js';

/** What of flow.ts's Flow this needs (flow-loops.ts does the same): its context, templates and emit. */
interface FlowEmit {
  readonly ctx: Ctx;
  readonly tpl: Templates;
  emit(t: ConductorTask, type: string, deps: string[], fields: LfTask): LfTask;
}

const ONE_REFERENCE = /^\s*\$\{[^{}]*\}\s*$/;

export function dynamicForkTasks(flow: FlowEmit, t: ConductorTask, deps: string[]): string[] {
  const id = flow.ctx.id(t);
  const ip = t.inputParameters ?? {};
  const list = ip[t.dynamicForkTasksParam!];
  const inputsName = t.dynamicForkTasksInputParamName;
  const inputs = inputsName !== undefined ? ip[inputsName] : undefined;
  const bad = (what: string, v: unknown) =>
    typeof v !== 'string' || !ONE_REFERENCE.test(v)
      ? `its ${what} input is ${v === undefined ? 'not given' : 'not one ${…} reference'}; a FORK_DYNAMIC reads its branches (and their inputs) from an earlier task's output or the workflow's input`
      : null;
  const why =
    bad(`${t.dynamicForkTasksParam} (dynamicForkTasksParam)`, list) ??
    (inputsName !== undefined && inputs !== undefined
      ? bad(`${inputsName} (dynamicForkTasksInputParamName)`, inputs)
      : null);
  if (why !== null) {
    flow.ctx.refuse(t, why);
    return [id];
  }
  flow.ctx.note(
    t,
    `FORK_JOIN_DYNAMIC with dynamicForkTasksParam becomes a FORK_DYNAMIC: its branches are the Conductor tasks ${String(list).trim()} gives when it starts (SIMPLE ones run the handler named by their name, SUB_WORKFLOW ones a child run of subWorkflowParam.name; other types fail the task then), each with its input from ${inputsName !== undefined && inputs !== undefined ? String(inputs).trim() : 'its inputParameters'}`,
  );
  flow.emit(t, 'FORK_DYNAMIC', deps, {
    branches: flow.tpl.text(String(list).trim(), t),
    ...(inputsName !== undefined && inputs !== undefined ? { inputs: flow.tpl.text(String(inputs).trim(), t) } : {}),
    ...attemptSettings(t, flow.ctx),
  });
  return [id];
}
