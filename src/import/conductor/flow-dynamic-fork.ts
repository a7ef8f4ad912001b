/**
 * Conductor's FORK_JOIN_DYNAMIC in its first form, `dynamicForkTasksParam` (+ `dynamicForkTasksInputParamName`): the
 * tasks it forks are a list of Conductor tasks an earlier task computes, each with its input in a map by reference
 * name. It becomes a FORK_DYNAMIC (docs/language.md#fork_dynamic-branches-chosen-at-run-time), which reads such
 * elements as they are (taskReferenceName, name, type, subWorkflowParam, inputParameters); the JOIN after it (flow.ts)
 * joins on it and outputs each branch's output by its taskReferenceName, as Conductor's does. Its second form,
 * `forkTaskType` (every fork the same task type), is sameTaskForks below.
 */
import { attemptSettings } from './common.js';
import { integrationNote, isIntegration } from './types.js';
import type { Ctx, LfTask } from './context.js';
import type { ConductorTask } from './schema.js';
import type { Templates } from './templates.js';

/** What of flow.ts's Flow this needs (flow-loops.ts does the same): its context, templates, emit and add. */
interface FlowEmit {
  readonly ctx: Ctx;
  readonly tpl: Templates;
  emit(t: ConductorTask, type: string, deps: string[], fields: LfTask): LfTask;
  add(id: string, deps: string[], fields: LfTask): void;
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
    `FORK_JOIN_DYNAMIC with dynamicForkTasksParam becomes a FORK_DYNAMIC: its branches are the Conductor tasks ${String(list).trim()} gives when it starts (SIMPLE ones run the handler named by their name, SUB_WORKFLOW ones a child run of subWorkflowParam.name, HTTP ones their http_request, INLINE, LAMBDA and JSON_JQ_TRANSFORM ones their script or jq in a TRANSFORM; other types fail the task then), each with its input from ${inputsName !== undefined && inputs !== undefined ? `${String(inputs).trim()} over its inputParameters` : 'its inputParameters'}`,
  );
  flow.emit(t, 'FORK_DYNAMIC', deps, {
    branches: flow.tpl.text(String(list).trim(), t),
    ...(inputsName !== undefined && inputs !== undefined ? { inputs: flow.tpl.text(String(inputs).trim(), t) } : {}),
    ...attemptSettings(t, flow.ctx),
  });
  return [id];
}

/**
 * The element types a forkTaskType may name, as FORK_DYNAMIC branches read them (definition/fork-dynamic-branch.ts);
 * Orkes' integrations (and --as-simple types) become SIMPLE branches whose handler makes the call.
 */
const BRANCH_TYPES = new Set(['SIMPLE', 'HTTP', 'INLINE', 'LAMBDA', 'JSON_JQ_TRANSFORM']);

/**
 * Conductor's elements for "every fork runs the same task" (ForkJoinDynamicTaskMapper.getDynamicTasksSimple): one per
 * element of `.inputs`, reference name `_<name>_<i>`, its inputParameters the element (a map) or `{ input: element }`,
 * plus `__index: i`. Anything but a list is passed on as it is, for the FORK_DYNAMIC to refuse by name.
 */
const SAME_TASK_JQ =
  '.name as $name | .prefix as $prefix | .type as $type | .inputs as $list | if ($list | type) == "array" then [$list | to_entries[] | {taskReferenceName: ("_" + $prefix + "_" + (.key | tostring)), name: $name, type: $type, inputParameters: ((if (.value | type) == "object" then .value else {input: .value} end) + {__index: .key})}] else $list end';

/**
 * FORK_JOIN_DYNAMIC with `forkTaskType` (+ `forkTaskName`, `forkTaskInputs`): every fork runs the same task type, one
 * per element of forkTaskInputs. It becomes a TRANSFORM (`<id>_branches`, jq) that writes Conductor's forked tasks
 * (`_<name>_<i>`, as Conductor names them) and the FORK_DYNAMIC over them, so the JOIN after it outputs each fork's
 * output by that name, as Conductor's does. The name is forkTaskName, else the type (a system task's, as Conductor
 * does), else the fork's reference name.
 */
export function sameTaskForks(flow: FlowEmit, t: ConductorTask, deps: string[]): string[] {
  const { ctx } = flow;
  const id = ctx.id(t);
  const ip = t.inputParameters ?? {};
  const given = String(ip.forkTaskType).trim();
  const written = given.toUpperCase();
  const nameGiven =
    typeof ip.forkTaskName === 'string' && ip.forkTaskName.trim() !== '' ? ip.forkTaskName.trim() : undefined;
  const asSimple = ctx.asSimple.has(written) || (ctx.integrations && isIntegration(written));
  if (given.includes('${') || (nameGiven ?? '').includes('${')) {
    ctx.refuse(
      t,
      'its forkTaskType (or forkTaskName) is a reference: the forked task type is chosen at run time, and the import decides what each type becomes',
    );
    return [id];
  }
  if (!BRANCH_TYPES.has(written) && !asSimple) {
    ctx.refuse(
      t,
      `its forkTaskType ${given} is no type a FORK_DYNAMIC branch runs (SIMPLE, HTTP, INLINE, LAMBDA, JSON_JQ_TRANSFORM; an Orkes integration, or a type given to --as-simple, as a SIMPLE task whose handler does the work)`,
    );
    return [id];
  }
  if (ip.forkTaskInputs === undefined) {
    ctx.refuse(t, 'it has forkTaskType but no forkTaskInputs: the list with one input per fork');
    return [id];
  }
  const name = nameGiven ?? (written === 'SIMPLE' ? t.taskReferenceName : written);
  const type = asSimple ? 'SIMPLE' : written;
  if (asSimple)
    ctx.note(
      t,
      `each fork's task (${written}): ${
        ctx.asSimple.has(written)
          ? `imported as a SIMPLE task (--as-simple ${written}): a handler named ${name} does its work`
          : integrationNote(written, name)
      }`,
    );
  const listId = ctx.freshId(`${id}_branches`);
  flow.add(listId, deps, {
    type: 'TRANSFORM',
    input: {
      name,
      prefix: name.replace(/[^A-Za-z0-9_-]/g, '_'),
      type,
      inputs: flow.tpl.value(ip.forkTaskInputs, t),
    },
    jq: SAME_TASK_JQ,
  });
  ctx.entries.set(t.taskReferenceName, listId);
  ctx.note(
    t,
    `FORK_JOIN_DYNAMIC with forkTaskType ${given} becomes a TRANSFORM ${listId} that lists one ${type} task per element of forkTaskInputs (named _${name}_0, _${name}_1, … as Conductor names them; its input the element, with __index) and a FORK_DYNAMIC over that list`,
  );
  flow.emit(t, 'FORK_DYNAMIC', [listId], {
    branches: `\${${listId}.output.result}`,
    ...attemptSettings(t, ctx),
  });
  return [id];
}
