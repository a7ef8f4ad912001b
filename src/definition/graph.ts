/**
 * The dependency graph of a definition. A task waits for what it lists in
 * depends_on and also, implicitly, for the decision that routes to it, the
 * fork that starts it, and (for a JOIN) the tasks it joins. parallel_with is a
 * hint, never an edge.
 */
import type { Definition } from './types.js';

export type EdgeVia =
  | { via: 'depends_on'; index: number }
  | { via: 'decision'; caseName: string }
  | { via: 'fork'; index: number }
  | { via: 'join_on'; index: number };
export type Edge = { dep: string } & EdgeVia;

/** Every edge with where it comes from, so diagnostics can point at the line that creates it. */
export function dependencyEdges(def: Definition): Map<string, Edge[]> {
  const edges = new Map<string, Edge[]>();
  for (const t of def.tasks) if (!edges.has(t.id)) edges.set(t.id, []);
  const add = (task: string, edge: Edge) => {
    const list = edges.get(task);
    if (list && !list.some((e) => e.dep === edge.dep)) list.push(edge);
  };
  for (const t of def.tasks) {
    t.dependsOn.forEach((dep, index) => add(t.id, { dep, via: 'depends_on', index }));
    if (t.type === 'JOIN') t.joinOn.forEach((dep, index) => add(t.id, { dep, via: 'join_on', index }));
  }
  for (const t of def.tasks) {
    if (t.type === 'DECISION') {
      for (const c of t.cases) for (const target of c.next) add(target, { dep: t.id, via: 'decision', caseName: c.name });
      for (const target of t.defaultNext ?? []) add(target, { dep: t.id, via: 'decision', caseName: 'default' });
    }
    if (t.type === 'FORK') t.forkTasks.forEach((target, index) => add(target, { dep: t.id, via: 'fork', index }));
  }
  return edges;
}

/** taskId → the tasks it waits for, explicit and implicit, in a stable order. */
export function effectiveDependencies(def: Definition): Map<string, string[]> {
  return new Map([...dependencyEdges(def)].map(([id, edges]) => [id, edges.map((e) => e.dep)]));
}

/** taskId → every task it transitively waits for. */
export function upstreamOf(def: Definition): Map<string, Set<string>> {
  const deps = effectiveDependencies(def);
  const memo = new Map<string, Set<string>>();
  const visit = (id: string, onPath: Set<string>): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const up = new Set<string>();
    onPath.add(id);
    for (const d of deps.get(id) ?? []) {
      up.add(d);
      // A cycle is reported by findCycles; here it only must not recurse forever.
      if (!onPath.has(d)) for (const x of visit(d, onPath)) up.add(x);
    }
    onPath.delete(id);
    memo.set(id, up);
    return up;
  };
  for (const id of deps.keys()) visit(id, new Set());
  return memo;
}

/**
 * Dependency cycles, each as a path that returns to its start (a → b → a,
 * read "a waits for b, which waits for a"), each cycle reported once.
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
