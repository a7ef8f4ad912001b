/**
 * When a task may run, and when it is skipped: pure functions of the definition's static graph and the run context,
 * used as machine guards.
 *
 * - A target of decision cases runs only if every decision routing to it settled and chose it; otherwise it is SKIPPED,
 *   whatever else it depends on.
 * - Other dependencies are judged by the task's trigger rule (default none_failed_min_one_success: a task whose
 *   dependencies were all skipped is skipped too; one with a failed (optional) dependency is skipped).
 */
import {
  decisionTargets,
  effectiveDependencies,
  loopOwners,
  type Definition,
  type TaskDef,
  type TriggerRule,
} from '../definition/index.js';
import type { RunContext, TaskStatus } from './context.js';

type Outcome = 'success' | 'skipped' | 'failed' | 'unsettled';

interface TaskGraph {
  /** Dependencies that are not decisions routing to the task. */
  deps: Map<string, string[]>;
  /** Decisions whose cases route to the task. */
  gates: Map<string, string[]>;
  rules: Map<string, TriggerRule>;
  /** Loop-body task → its DO_WHILE (graph.ts loopOwners). */
  loops: Map<string, string>;
  /**
   * The same, one record per task: what eligibility reads of a task, in one lookup. In a long run each task's entries
   * are cold when its turn comes, and each lookup in a map of thousands of keys cost a few cache misses: four maps read
   * per task (and one per dependency) were a tenth of a 3,000-task chain's fold.
   */
  nodes: Map<string, TaskNode>;
}

interface TaskNode {
  readonly deps: readonly string[];
  readonly gates: readonly string[];
  readonly rule: TriggerRule;
  readonly loop: string | undefined;
}

export function buildTaskGraph(def: Definition): TaskGraph {
  const effective = effectiveDependencies(def);
  const gates = new Map<string, string[]>();
  for (const task of def.tasks) {
    if (task.type !== 'DECISION') continue;
    const targets = new Set(decisionTargets(task));
    for (const target of targets) gates.set(target, [...(gates.get(target) ?? []), task.id]);
  }
  const loops = loopOwners(def);
  const deps = new Map<string, string[]>();
  for (const task of def.tasks) {
    const gating = new Set(gates.get(task.id) ?? []);
    // A body task does not wait for its loop to settle (it runs while the loop runs): eligibility asks the loop itself.
    const loop = loops.get(task.id);
    deps.set(
      task.id,
      (effective.get(task.id) ?? []).filter((d) => !gating.has(d) && d !== loop),
    );
  }
  const rules = new Map(def.tasks.map((t: TaskDef) => [t.id, t.triggerRule]));
  const nodes = new Map<string, TaskNode>(
    def.tasks.map((t) => [
      t.id,
      {
        deps: deps.get(t.id) ?? [],
        gates: gates.get(t.id) ?? [],
        rule: rules.get(t.id) ?? 'none_failed_min_one_success',
        loop: loops.get(t.id),
      },
    ]),
  );
  return { deps, gates, rules, loops, nodes };
}

/** A task the definition does not have: no dependencies, the default rule. */
const NO_NODE: TaskNode = { deps: [], gates: [], rule: 'none_failed_min_one_success', loop: undefined };

function outcomeOf(status: TaskStatus | undefined): Outcome {
  switch (status) {
    case 'COMPLETED':
      return 'success';
    case 'SKIPPED':
      return 'skipped';
    case 'FAILED':
    case 'TIMED_OUT':
    case 'CANCELLED':
      return 'failed';
    default:
      return 'unsettled';
  }
}

/**
 * A dependency's outcome as task `taskId` sees it. Inside a loop body, another task of the same body counts only in the
 * same iteration: settled in an earlier one, it has not run yet in this one.
 */
function depOutcome(graph: TaskGraph, ctx: RunContext, taskId: string, loop: string | undefined, dep: string): Outcome {
  const d = ctx.tasks[dep];
  if (
    loop !== undefined &&
    graph.loops.get(dep) === loop &&
    (d?.iteration ?? 1) !== (ctx.tasks[taskId]?.iteration ?? 1)
  )
    return 'unsettled';
  return outcomeOf(d?.status);
}

function gateOutcome(graph: TaskGraph, ctx: RunContext, taskId: string, node: TaskNode): Outcome {
  let result: Outcome = 'success';
  for (const decisionId of node.gates) {
    const d = ctx.tasks[decisionId];
    const o = depOutcome(graph, ctx, taskId, node.loop, decisionId);
    if (o === 'unsettled') return 'unsettled';
    if (o !== 'success' || !d?.decision?.next.includes(taskId)) result = 'skipped';
  }
  return result;
}

/**
 * 'run', 'skip' or 'wait' for a PENDING task. Guards ask this of every pending task after every event, so it tallies
 * the outcomes of the dependencies in one pass instead of building a list of them.
 */
export function eligibility(graph: TaskGraph, ctx: RunContext, taskId: string): 'run' | 'skip' | 'wait' {
  const node = graph.nodes.get(taskId) ?? NO_NODE;
  const { loop } = node;
  if (loop !== undefined) {
    // A body task runs only in its loop's current iteration (a loop that settled without running it: loopSettled).
    const l = ctx.tasks[loop];
    if (l?.status !== 'IN_PROGRESS' || (ctx.tasks[taskId]?.iteration ?? 1) !== l.iteration) return 'wait';
  }
  const gate = gateOutcome(graph, ctx, taskId, node);
  if (gate === 'unsettled') return 'wait';
  const { deps } = node;
  let success = 0;
  let failed = 0;
  for (const d of deps) {
    const o = depOutcome(graph, ctx, taskId, loop, d);
    if (o === 'unsettled') return 'wait';
    if (o === 'success') success++;
    else if (o === 'failed') failed++;
  }
  if (gate === 'skipped') return 'skip';
  const { rule } = node;
  const hasGate = node.gates.length > 0;
  switch (rule) {
    case 'all_done':
      return 'run';
    case 'all_success':
      return success === deps.length ? 'run' : 'skip';
    case 'none_failed_min_one_success':
      if (failed > 0) return 'skip';
      if (deps.length === 0 || hasGate) return 'run';
      return success > 0 ? 'run' : 'skip';
  }
}

/**
 * The tasks `failure_workflow: { steps: [...] }` names (the inline form), among the definition's tasks: they run only
 * when the run fails. Empty when there are none (a step naming no task runs nothing: validation refuses it, or warns in
 * the inline form, definition/failure-steps.ts), so a definition without steps compiles exactly as before.
 */
export function failureSteps(def: Definition): ReadonlySet<string> {
  const steps = def.failureWorkflow?.steps ?? [];
  if (steps.length === 0) return new Set();
  const ids = new Set(def.tasks.map((t) => t.id));
  return new Set(steps.filter((s) => ids.has(s)));
}
