/**
 * Tasks that can never run. Each task gets the decision cases it needs: a map decision → cases that let it run. A
 * decision target needs one of the cases routing to it; an all_success task needs what every dependency needs; a
 * default-rule task needs only what all its dependencies agree on (any one of them succeeding is enough). A task whose
 * needs exclude each other (one decision would have to choose two cases at once) can never run.
 */
import type { CheckContext } from './context.js';
import { decisionTargets, effectiveDependencies, findCycles } from './graph.js';
import type { DecisionTask, TaskDef } from './task-types.js';
import type { Definition } from './types.js';

type Needs = Map<string, Set<string>>;
type Result = { needs: Needs } | { never: string };

function intersect(a: Needs, b: Needs): Needs | string {
  const out: Needs = new Map(a);
  for (const [d, cases] of b) {
    const prev = out.get(d);
    if (!prev) {
      out.set(d, cases);
      continue;
    }
    const both = new Set([...prev].filter((c) => cases.has(c)));
    if (both.size === 0)
      return `decision ${d} would have to choose one of {${[...prev].join(', ')}} and one of {${[...cases].join(', ')}}`;
    out.set(d, both);
  }
  return out;
}

/** What every alternative needs: decisions constrained by all of them, with the union of their cases. */
function agreement(all: Needs[]): Needs {
  const [first, ...rest] = all;
  if (!first) return new Map();
  const out: Needs = new Map();
  for (const [d, cases] of first) {
    if (rest.every((n) => n.has(d))) out.set(d, new Set([cases, ...rest.map((n) => n.get(d)!)].flatMap((s) => [...s])));
  }
  return out;
}

function casesRouting(decision: DecisionTask, target: string): Set<string> {
  const cases = new Set(decision.cases.filter((c) => c.next.includes(target)).map((c) => c.name));
  if (decision.defaultNext?.includes(target)) cases.add('default');
  return cases;
}

/**
 * Tasks that can never run, each with why: the root cause (a decision that would have to choose two cases at once), or
 * null when it only waits for another task that can never run. Pure; shared by the validation warning below and by path
 * coverage (src/coverage), so both explain it alike.
 */
export function tasksThatNeverRun(def: Definition): Map<string, string | null> {
  const never = new Map<string, string | null>();
  if (findCycles(def).length > 0) return never; // reported elsewhere; needs a DAG
  const byId = new Map<string, TaskDef>(def.tasks.map((t) => [t.id, t]));
  const deps = effectiveDependencies(def);
  const results = new Map<string, Result>();
  // The decisions routing to each task, found once (scanning every task for each task was quadratic).
  const gatesOf = new Map<string, DecisionTask[]>();
  for (const d of def.tasks) {
    if (d.type !== 'DECISION') continue;
    const targets = new Set(decisionTargets(d));
    for (const target of targets) (gatesOf.get(target) ?? gatesOf.set(target, []).get(target)!).push(d);
  }

  const visit = (t: TaskDef): Result => {
    const known = results.get(t.id);
    if (known) return known;
    let needs: Needs = new Map();
    let result: Result | null = null;
    const gates = gatesOf.get(t.id) ?? [];
    const gateIds = new Set(gates.map((g) => g.id));
    for (const gate of gates) {
      const g = visit(gate);
      if ('never' in g) {
        result = { never: '' };
        break;
      }
      const withGate = intersect(needs, g.needs);
      const merged =
        typeof withGate === 'string' ? withGate : intersect(withGate, new Map([[gate.id, casesRouting(gate, t.id)]]));
      if (typeof merged === 'string') {
        result = { never: merged };
        break;
      }
      needs = merged;
    }
    if (!result) {
      const upstream = (deps.get(t.id) ?? [])
        .filter((d) => !gateIds.has(d) && byId.has(d))
        .map((d) => visit(byId.get(d)!));
      const runnable = upstream.filter((u): u is { needs: Needs } => 'needs' in u).map((u) => u.needs);
      let fromDeps: Needs | string | null = new Map();
      if (t.triggerRule === 'all_success') {
        if (runnable.length < upstream.length) fromDeps = null;
        else
          for (const n of runnable) {
            fromDeps = intersect(fromDeps as Needs, n);
            if (typeof fromDeps === 'string') break;
          }
      } else if (t.triggerRule === 'none_failed_min_one_success' && upstream.length > 0) {
        fromDeps = runnable.length === 0 ? null : agreement(runnable);
      }
      if (fromDeps === null) result = { never: '' };
      else if (typeof fromDeps === 'string') result = { never: fromDeps };
      else {
        const merged = intersect(needs, fromDeps);
        result = typeof merged === 'string' ? { never: merged } : { needs: merged };
      }
    }
    results.set(t.id, result);
    // An empty reason means "because something upstream can never run".
    if ('never' in result) never.set(t.id, result.never || null);
    return result;
  };
  for (const t of def.tasks) visit(t);
  return never;
}

/** The warning text for a task that can never run (also the explanation path coverage gives). */
export function neverRunsMessage(taskId: string, reason: string): string {
  return `task ${taskId} can never run: ${reason}; check its depends_on and the decision cases that route to it`;
}

export function checkReachability(ctx: CheckContext): void {
  // Only the root causes are reported: a task downstream of one would repeat it.
  for (const [id, reason] of tasksThatNeverRun(ctx.def)) {
    const t = ctx.task(id)!;
    if (reason) ctx.warn('LF_TASK_NEVER_RUNS', neverRunsMessage(id, reason), [...ctx.taskPath(t), 'id']);
  }
}
