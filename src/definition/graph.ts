/**
 * The dependency graph of a definition. A task waits for what it lists in depends_on and also, implicitly, for the
 * decision that routes to it, the fork that starts it, and (for a JOIN) the tasks it joins. parallel_with is a hint,
 * never an edge.
 */
import type { DecisionTask } from './task-types.js';
import type { Definition } from './types.js';

/** Every task a decision may route to: its cases' `next`, then `default_next`. */
export const decisionTargets = (d: DecisionTask): string[] => [
  ...d.cases.flatMap((c) => c.next),
  ...(d.defaultNext ?? []),
];

export type EdgeVia =
  | { via: 'depends_on'; index: number }
  | { via: 'decision'; caseName: string }
  | { via: 'fork'; index: number }
  | { via: 'join_on'; index: number }
  /** A loop-body task waits for its loop (listed at `index` of the loop's loop_over); see loopOwners. */
  | { via: 'loop_over'; index: number }
  /** A task after a loop that reads a body task (its depends_on entry `index`) also waits for the loop to settle. */
  | { via: 'loop_body'; index: number };
export type Edge = { dep: string } & EdgeVia;

/** Every edge with where it comes from, so diagnostics can point at the line that creates it. */
export function dependencyEdges(def: Definition): Map<string, Edge[]> {
  const edges = new Map<string, Edge[]>();
  for (const t of def.tasks) if (!edges.has(t.id)) edges.set(t.id, []);
  const add = (task: string, edge: Edge) => {
    const list = edges.get(task);
    if (list && !list.some((e) => e.dep === edge.dep)) list.push(edge);
  };
  const owners = loopOwners(def);
  for (const t of def.tasks) {
    const loop = owners.get(t.id);
    if (loop !== undefined) {
      const l = def.tasks.find((x) => x.id === loop)!;
      if (l.type === 'DO_WHILE') add(t.id, { dep: loop, via: 'loop_over', index: l.loopOver.indexOf(t.id) });
    }
    t.dependsOn.forEach((dep, index) => {
      add(t.id, { dep, via: 'depends_on', index });
      // Outside the body, a body task's output is final only once its loop has settled.
      const depLoop = owners.get(dep);
      if (depLoop !== undefined && depLoop !== loop && depLoop !== t.id)
        add(t.id, { dep: depLoop, via: 'loop_body', index });
    });
    if (t.type === 'JOIN') t.joinOn.forEach((dep, index) => add(t.id, { dep, via: 'join_on', index }));
  }
  for (const t of def.tasks) {
    if (t.type === 'DECISION') {
      for (const c of t.cases)
        for (const target of c.next) add(target, { dep: t.id, via: 'decision', caseName: c.name });
      for (const target of t.defaultNext ?? []) add(target, { dep: t.id, via: 'decision', caseName: 'default' });
    }
    if (t.type === 'FORK') t.forkTasks.forEach((target, index) => add(target, { dep: t.id, via: 'fork', index }));
  }
  return edges;
}

/**
 * Loop-body task → the DO_WHILE whose loop_over lists it (the first, when validation refuses a definition that lists it
 * twice). A body task runs once per iteration, only while its loop runs.
 */
export function loopOwners(def: Definition): Map<string, string> {
  const owners = new Map<string, string>();
  for (const t of def.tasks) {
    if (t.type !== 'DO_WHILE') continue;
    for (const id of t.loopOver) if (id !== t.id && !owners.has(id)) owners.set(id, t.id);
  }
  return owners;
}

/** taskId → the tasks it waits for, explicit and implicit, in a stable order. */
export function effectiveDependencies(def: Definition): Map<string, string[]> {
  return new Map([...dependencyEdges(def)].map(([id, edges]) => [id, edges.map((e) => e.dep)]));
}

/** Whether `task` waits, directly or through others, for `dep` (a loop's body counts as part of the loop). */
export interface Upstream {
  has(task: string, dep: string): boolean;
}

/**
 * Answers each question with a walk up from `task`, instead of building every task's full upstream set (quadratic in
 * time and memory: a 3,000-task chain held 4.5 million entries). Depth (longest path from a task that waits for
 * nothing) prunes the walk: only a deeper task can wait for `dep`.
 */
export function upstreamOf(def: Definition): Upstream {
  const deps = readableDependencies(def);
  const depth = depths(deps);
  // Per dep, tasks already known to wait for it: the tasks of a chain that all read its first task stop at once.
  const reachers = new Map<string, Set<string>>();
  return {
    has(task, dep) {
      const known = reachers.get(dep) ?? reachers.set(dep, new Set()).get(dep)!;
      if (known.has(task)) return true;
      const floor = depth.get(dep);
      const cameFrom = new Map<string, string | null>([[task, null]]);
      const stack = [task];
      while (stack.length > 0) {
        const at = stack.pop()!;
        for (const d of deps.get(at) ?? []) {
          if (d === dep || known.has(d)) {
            for (let x: string | null = at; x !== null; x = cameFrom.get(x)!) known.add(x);
            return true;
          }
          if (cameFrom.has(d)) continue;
          cameFrom.set(d, at);
          // In a cycle depths are unknown: walk on without pruning.
          const dd = depth.get(d);
          if (floor === undefined || dd === undefined || dd > floor) stack.push(d);
        }
      }
      return false;
    },
  };
}

/**
 * effectiveDependencies plus, for a task outside a loop that waits for the loop, the loop's body tasks: the loop
 * settles only after its last iteration's body has, so whatever waits for the loop runs after (and reads the last
 * iteration's output of) every body task. Body tasks already wait for their loop (loop_over): no cycle is added.
 */
function readableDependencies(def: Definition): Map<string, string[]> {
  const deps = effectiveDependencies(def);
  const owners = loopOwners(def);
  const bodies = new Map<string, string[]>();
  for (const [body, loop] of owners) (bodies.get(loop) ?? bodies.set(loop, []).get(loop)!).push(body);
  if (bodies.size === 0) return deps;
  for (const [id, ds] of deps) {
    const extra = ds.flatMap((d) => (owners.get(id) === d ? [] : (bodies.get(d) ?? [])));
    if (extra.length > 0) deps.set(id, [...new Set([...ds, ...extra])]);
  }
  return deps;
}

/** Longest path from a root, for tasks outside cycles (Kahn's order). */
function depths(deps: Map<string, string[]>): Map<string, number> {
  const dependents = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  for (const [id, ds] of deps) {
    const known = ds.filter((d) => deps.has(d));
    waiting.set(id, known.length);
    for (const d of known) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(id);
  }
  const depth = new Map<string, number>();
  const ready = [...waiting].filter(([, n]) => n === 0).map(([id]) => id);
  for (const id of ready) depth.set(id, 0);
  while (ready.length > 0) {
    const id = ready.pop()!;
    for (const next of dependents.get(id) ?? []) {
      depth.set(next, Math.max(depth.get(next) ?? 0, depth.get(id)! + 1));
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  // Tasks on or behind a cycle never became ready: leave them without a depth.
  for (const [id, n] of waiting) if (n > 0) depth.delete(id);
  return depth;
}

/**
 * Dependency cycles, each as a path that returns to its start (a → b → a, read "a waits for b, which waits for a"),
 * each cycle reported once.
 */
export function findCycles(def: Definition): string[][] {
  const deps = effectiveDependencies(def);
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const cycles: string[][] = [];
  const visit = (id: string) => {
    state.set(id, 'active');
    stack.push(id);
    for (const d of deps.get(id) ?? []) {
      if (!deps.has(d)) continue;
      if (state.get(d) === 'active') {
        const cycle = stack.slice(stack.indexOf(d));
        const key = [...cycle].sort().join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...cycle, d]);
        }
      } else if (!state.has(d)) {
        visit(d);
      }
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of deps.keys()) if (!state.has(id)) visit(id);
  return cycles;
}
