/**
 * One version as the diff reads it. The task list is read from the compiled statechart (a region per task) and each
 * task's handler from the compiled task plans: what runs, not how the YAML spelled it.
 */
import { workflowOf } from '../compiler/index.js';
import { decisionTargets, effectiveDependencies, type Definition, type TaskDef } from '../definition/index.js';

export interface Side {
  def: Definition;
  /** Task id → task, in the order of the chart's regions. */
  tasks: ReadonlyMap<string, TaskDef>;
  /** Task id → the handler its attempts run (`<command>`, `<http>`… for the built-in ones). */
  handlers: ReadonlyMap<string, string>;
  /**
   * Task id → what it waits for, explicitly and implicitly (a fork, a join, a loop), except the decisions that route to
   * it: a case's targets are compared as the case's own change.
   */
  deps: ReadonlyMap<string, readonly string[]>;
}

export function sideOf(def: Definition): Side {
  const workflow = workflowOf(def);
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  const tasks = new Map<string, TaskDef>();
  for (const id of Object.keys(workflow.config.states.running.states)) {
    const t = byId.get(id);
    if (t) tasks.set(id, t);
  }
  const handlers = new Map([...workflow.taskPlans].map(([id, plan]) => [id, plan.handler]));
  const routed = new Set<string>();
  for (const t of def.tasks) {
    if (t.type !== 'DECISION') continue;
    for (const target of decisionTargets(t)) routed.add(`${target}\n${t.id}`);
  }
  const deps = new Map(
    [...effectiveDependencies(def)].map(([id, ds]) => [
      id,
      ds.filter((d) => !routed.has(`${id}\n${d}`) || byId.get(id)?.dependsOn.includes(d)),
    ]),
  );
  return { def, tasks, handlers, deps };
}

/** The handler a task names (its `handler:`, its `assigned_to:`, a built-in one), not the one its id gives it. */
export function namedHandler(side: Side, t: TaskDef): string | undefined {
  const h = side.handlers.get(t.id);
  return h === undefined || (h === t.id && t.handler === undefined && t.assignedTo === undefined) ? undefined : h;
}
