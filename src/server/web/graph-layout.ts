/**
 * Where each task box and arrow of a workflow graph goes: dagre lays the
 * graph out (ranks top to bottom), the Graph component only draws what this
 * returns. Pure apart from dagre, so it is unit-tested in Node.
 */
import dagre from '@dagrejs/dagre';
import { workflowGraph } from '../../definition/workflow-graph.js';
import type { Definition, Graph } from './types.js';

export interface PlacedNode { id: string; type: string; label: string; x: number; y: number; width: number; height: number }
export interface PlacedEdge { from: string; to: string; label?: string; points: Array<{ x: number; y: number }> }
export interface Layout { width: number; height: number; nodes: PlacedNode[]; edges: PlacedEdge[] }

export const NODE_WIDTH = 168;
export const NODE_HEIGHT = 46;

/**
 * The graph the API sent, or (a page given only a definition) the same graph
 * computed here by the same pure function the server uses.
 */
export function graphOf(graph: Graph | null | undefined, definition: Definition | null | undefined): Graph {
  if (graph && graph.nodes.length > 0) return graph;
  return definition ? workflowGraph(definition) : { nodes: [], edges: [] };
}

/** What an arrow says: a decision's case, or what kind of link it is when that is not plain "runs after". */
function edgeLabel(e: Graph['edges'][number]): string | undefined {
  if (e.label) return e.label;
  return e.kind === 'loop' || e.kind === 'map' || e.kind === 'sub' ? e.kind : undefined;
}

export function layoutGraph(graph: Graph): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 44, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(graph.nodes.map((n) => n.id));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of graph.edges) {
    if (!ids.has(e.from) || !ids.has(e.to) || e.from === e.to) continue;
    const label = edgeLabel(e);
    g.setEdge(e.from, e.to, label ? { label, width: Math.min(140, label.length * 7 + 8), height: 16, labelpos: 'c' } : {});
  }
  dagre.layout(g);
  const nodes: PlacedNode[] = graph.nodes.map((n) => {
    const p = g.node(n.id);
    return { id: n.id, type: n.type, label: n.label || n.id, x: p.x, y: p.y, width: NODE_WIDTH, height: NODE_HEIGHT };
  });
  // Typed here: under the Node config (tests) dagre's extensionless type imports do not resolve.
  const edges: PlacedEdge[] = g.edges().map((e: { v: string; w: string; name?: string }) => {
    const data = g.edge(e) as { points?: Array<{ x: number; y: number }>; label?: string };
    return { from: e.v, to: e.w, points: data.points ?? [], ...(data.label ? { label: data.label } : {}) };
  });
  const size = g.graph();
  return { width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0), nodes, edges };
}

/** An SVG path through dagre's edge points (straight segments, a rounded feel from dagre's own bends). */
export function pathOf(points: Array<{ x: number; y: number }>): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}
