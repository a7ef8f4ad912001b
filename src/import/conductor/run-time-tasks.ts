/**
 * Conductor tasks whose work is chosen or delivered at run time, in ledgerflow's terms: DYNAMIC (the task named by an
 * input) as a SIMPLE task whose `handler` is a template; START_WORKFLOW as a SUB_WORKFLOW with `wait: false`; YIELD and
 * PULL_WORKFLOW_MESSAGES (a message sent to the run) as a WAIT on a signal named after the task, which the sender sends
 * with `ledgerflow signal`; BLOCKING_SYSTEM_TASK (Conductor's test harness: in progress until a client completes it) the
 * same. Undefined for any other type.
 */
import { attemptSettings } from './common.js';
import type { Ctx, LfTask } from './context.js';
import type { ConductorTask } from './schema.js';
import type { Templates } from './templates.js';

const ONE_REF = /^\s*\$\{([^{}]*)\}\s*$/;

export function mapRunTime(t: ConductorTask, ctx: Ctx, tpl: Templates): LfTask | null | undefined {
  const ip = t.inputParameters ?? {};
  switch (t.type) {
    case 'DYNAMIC': {
      const param = typeof t.dynamicTaskNameParam === 'string' ? t.dynamicTaskNameParam : 'taskToExecute';
      const given = ip[param];
      if (typeof given !== 'string' || given.trim() === '') {
        ctx.refuse(t, `its dynamicTaskNameParam ${param} is no input of the task that names a task`);
        return null;
      }
      ctx.note(
        t,
        `the task to run is chosen at run time: a SIMPLE task whose handler is ${given.trim()}, resolved when its attempt starts (the handler of that name runs; Conductor could also name a system task there)`,
      );
      return {
        type: 'SIMPLE',
        handler: tpl.text(given.trim(), t),
        input: tpl.value(ip, t),
        ...attemptSettings(t, ctx),
      };
    }
    case 'START_WORKFLOW':
      return startWorkflow(t, ctx, tpl);
    case 'BLOCKING_SYSTEM_TASK':
      // Conductor's test harness: an asynchronous system task that stays IN_PROGRESS until a client completes it.
      ctx.note(
        t,
        `BLOCKING_SYSTEM_TASK (a system task of Conductor's test harness that stays in progress until a client completes it) is a WAIT on the signal ${ctx.id(t)}: \`ledgerflow signal <runId> ${ctx.id(t)} --data '{...}'\` completes it (the data is its output); --as-simple BLOCKING_SYSTEM_TASK makes it a SIMPLE task instead`,
      );
      return { type: 'WAIT', event: ctx.id(t) };
    case 'YIELD':
    case 'PULL_WORKFLOW_MESSAGES': {
      const what =
        t.type === 'YIELD'
          ? 'YIELD waits for a signal to the run'
          : "PULL_WORKFLOW_MESSAGES reads the run's message queue";
      const data = t.type === 'YIELD' ? "'{...}'" : `'{"messages": [{"id": "m1", "payload": {...}}]}'`;
      ctx.note(
        t,
        `${what}: a WAIT on the signal ${ctx.id(t)}; a sender sends it with \`ledgerflow signal <runId> ${ctx.id(t)} --data ${data}\` (the data is the task's output${t.type === 'PULL_WORKFLOW_MESSAGES' ? ', as the pulled messages were' : ''})`,
      );
      return { type: 'WAIT', event: ctx.id(t) };
    }
    default:
      return undefined;
  }
}

/**
 * START_WORKFLOW: `startWorkflow: { name, version, input }` (or one reference giving that request) as a SUB_WORKFLOW
 * that does not wait for its child (`wait: false`): the task completes with `{ runId, workflow }` once the child has
 * started.
 */
function startWorkflow(t: ConductorTask, ctx: Ctx, tpl: Templates): LfTask | null {
  const req = t.inputParameters?.startWorkflow;
  const one = typeof req === 'string' ? ONE_REF.exec(req) : null;
  if (one) {
    const ref = one[1]!.trim();
    ctx.note(
      t,
      `starts the workflow the request \${${ref}} names without waiting for it: a SUB_WORKFLOW with wait: false (its output is { runId, workflow }); the request's input is given to the child as input.input (ledgerflow's input is a map of named values), and its version is not read (the newest is started)`,
    );
    return {
      type: 'SUB_WORKFLOW',
      workflow: tpl.text(`\${${ref}.name}`, t),
      wait: false,
      input: { input: tpl.value(`\${${ref}.input}`, t) },
      ...attemptSettings(t, ctx),
    };
  }
  if (req === null || typeof req !== 'object' || Array.isArray(req)) {
    ctx.refuse(t, 'its inputParameters.startWorkflow is no request { name, version, input }');
    return null;
  }
  const r = req as Record<string, unknown>;
  if (typeof r.name !== 'string' || r.name.trim() === '') {
    ctx.refuse(t, 'its startWorkflow request names no workflow');
    return null;
  }
  const workflow = r.name.includes('${') ? tpl.text(r.name, t) : ctx.subWorkflowId(r.name);
  ctx.note(
    t,
    `starts ${r.name} without waiting for it: a SUB_WORKFLOW with wait: false (its output is { runId, workflow }); import that workflow too, into the same folder`,
  );
  const input = r.input !== null && typeof r.input === 'object' && !Array.isArray(r.input) ? r.input : {};
  return {
    type: 'SUB_WORKFLOW',
    workflow,
    ...(typeof r.version === 'number' && Number.isInteger(r.version) && r.version >= 1 ? { version: r.version } : {}),
    wait: false,
    ...(Object.keys(input).length > 0 ? { input: tpl.value(input, t) } : {}),
    ...attemptSettings(t, ctx),
  };
}
