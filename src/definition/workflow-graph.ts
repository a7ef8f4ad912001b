/**
 * The workflow as a graph to draw (the dashboard's run and definition pages): a node per task and an edge per
 * dependency, each edge saying what makes it (depends_on, a decision case, a fork, a join, a loop, a MAP's iterator, a
 * sub-workflow). Pure; built on dependencyEdges so it says what the runtime waits for, nothing more.
 */
import { dependencyEdges, loopOwners } from './graph.js';
import { iteratorMap, type TaskType } from './task-types.js';
import type { Definition } from './types.js';

export interface GraphNode {
  id: string;
  /** The task's type; `WORKFLOW` for a workflow a SUB_WORKFLOW or MAP starts (id `workflow:<id>`). */
  type: TaskType | 'WORKFLOW';
  label: string;
  assignedTo?: string;
  /** The DO_WHILE whose body this task is. */
  loop?: string;
  /** The MAP whose iterator this task is. */
  map?: string;
  /** The workflow a SUB_WORKFLOW (or a MAP with `workflow:`) starts. */
  subWorkflow?: string;
}

type GraphEdgeKind = 'depends' | 'case' | 'fork' | 'join' | 'loop' | 'map' | 'sub';
/** `from` runs before `to` (for `sub`: the task starts that workflow). */
export interface GraphEdge {
  from: string;
  to: string;
  kind: GraphEdgeKind;
  label?: string;
}
export interface WorkflowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export function workflowGraph(def: Definition): WorkflowGraph {
  const loops = loopOwners(def);
  const maps = iteratorMap(def.tasks);
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const workflows = new Set<string>();
  for (const t of def.tasks) {
    const named = t.type === 'SUB_WORKFLOW' ? t.workflow : t.type === 'MAP' ? t.workflow : undefined;
    // A workflow chosen at run time (`${...}`) is no fixed edge of the map.
    const sub = named?.includes('${') ? undefined : named;
    nodes.push({
      id: t.id,
      type: t.type,
      label: t.name || t.id,
      ...(t.assignedTo !== undefined ? { assignedTo: t.assignedTo } : {}),
      ...(loops.has(t.id) ? { loop: loops.get(t.id)! } : {}),
      ...(maps.has(t.id) ? { map: maps.get(t.id)!.id } : {}),
      ...(sub !== undefined ? { subWorkflow: sub } : {}),
    });
    if (sub !== undefined) {
      workflows.add(sub);
      edges.push({ from: t.id, to: `workflow:${sub}`, kind: 'sub' });
    }
    if (t.type === 'MAP' && t.iterator) edges.push({ from: t.id, to: t.iterator, kind: 'map' });
  }
  for (const [task, list] of dependencyEdges(def)) {
    for (const e of list) {
      switch (e.via) {
        case 'depends_on':
          edges.push({ from: e.dep, to: task, kind: 'depends' });
          break;
        case 'decision':
          edges.push({ from: e.dep, to: task, kind: 'case', label: e.caseName });
          break;
        case 'fork':
          edges.push({ from: e.dep, to: task, kind: 'fork' });
          break;
        case 'join_on':
          edges.push({ from: e.dep, to: task, kind: 'join' });
          break;
        case 'loop_over':
          edges.push({ from: e.dep, to: task, kind: 'loop' });
          break;
        // A task after a loop that reads a body task waits for the loop to settle.
        case 'loop_body':
          edges.push({ from: e.dep, to: task, kind: 'depends', label: 'after loop' });
          break;
      }
    }
  }
  for (const w of workflows) nodes.push({ id: `workflow:${w}`, type: 'WORKFLOW', label: w });
  return { nodes, edges };
}
