/**
 * Where each task box and arrow of a workflow graph goes: dagre lays the graph out (ranks top to bottom), the Graph
 * component only draws what this returns. Pure apart from dagre, so it is unit-tested in Node.
 */
import dagre from '@dagrejs/dagre';
import { workflowGraph } from '../../definition/workflow-graph.js';
import type { Definition, Graph } from './types.js';

/** `lines`: the label wrapped to the box's width (every word kept: a label is never cut). */
export interface PlacedNode {
  id: string;
  type: string;
  label: string;
  lines: string[];
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface PlacedEdge {
  from: string;
  to: string;
  label?: string;
  points: Array<{ x: number; y: number }>;
}
export interface Layout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

export const NODE_WIDTH = 168;
export const NODE_HEIGHT = 46;
/** A box grows with its label up to this width; a longer label wraps onto more lines. */
export const NODE_MAX_WIDTH = 264;
/** Roughly how wide a character of the 13 px bold label is (no DOM to measure in: the layout is computed in Node too). */
const CHAR_PX = 7.6;
const PAD_X = 20;
const LINE_PX = 16;
/** Below the label: the type and status line, and (on a run) the duration and attempts line. */
const SUB_PX = 15;

/**
 * `label` in lines of at most `max` characters, broken at spaces (and after `.`, `_`, `-` in a long word); a word
 * longer than a line is split. No character is dropped: the lines joined are the label.
 */
export function wrapLabel(label: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  // Pieces: words with their trailing space, long words cut after . _ - and then every `max` characters.
  const pieces = label
    .split(/(?<=\s)/)
    .flatMap((w) => (w.length <= max ? [w] : w.split(/(?<=[._-])/)))
    .flatMap((w) => {
      const out: string[] = [];
      for (let i = 0; i < w.length; i += max) out.push(w.slice(i, i + max));
      return out;
    });
  for (const piece of pieces) {
    if (line !== '' && (line + piece).trimEnd().length > max) {
      lines.push(line.trimEnd());
      line = '';
    }
    line += piece;
  }
  if (line.trim() !== '' || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/** The small line under a box's label: what kind of task (when not a plain one). */
export const TYPE_MARK: Record<string, string> = {
  HUMAN: 'approval',
  DECISION: 'decision',
  FORK: 'fork',
  JOIN: 'join',
  DO_WHILE: 'loop',
  MAP: 'map',
  SUB_WORKFLOW: 'sub-workflow',
  WAIT: 'wait',
  COMMAND: 'command',
  HTTP: 'http',
  TERMINATE: 'terminate',
  SET: 'set',
  EMIT: 'emit',
  WORKFLOW: 'workflow',
};
/** The 11 px lines under the label; the longest status they may show is "pending approval". */
const SUB_CHAR_PX = 6.4;

/** A box sized to its label: as wide as the label and its type line (within NODE_WIDTH..NODE_MAX_WIDTH), as tall as its lines. */
export function nodeSize(
  label: string,
  opts: { stats?: boolean; type?: string } = {},
): { width: number; height: number; lines: string[] } {
  const maxChars = Math.floor((NODE_MAX_WIDTH - PAD_X) / CHAR_PX);
  const lines = wrapLabel(label, maxChars);
  const widest = Math.max(...lines.map((l) => l.length));
  const sub = `${TYPE_MARK[opts.type ?? ''] ?? 'task'} · pending approval`.length * SUB_CHAR_PX;
  const width = Math.max(NODE_WIDTH, Math.min(NODE_MAX_WIDTH, Math.ceil(Math.max(widest * CHAR_PX, sub) + PAD_X)));
  const height = 12 + lines.length * LINE_PX + SUB_PX + (opts.stats ? SUB_PX : 0) + 4;
  return { width, height: Math.max(NODE_HEIGHT, height), lines };
}

/**
 * The graph the API sent, or (a page given only a definition) the same graph computed here by the same pure function
 * the server uses.
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

/** `stats`: leave room for a line of duration and attempts under each box's type (the run page). */
export function layoutGraph(graph: Graph, opts: { stats?: boolean } = {}): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 44, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(graph.nodes.map((n) => n.id));
  const sizes = new Map(graph.nodes.map((n) => [n.id, nodeSize(n.label || n.id, { ...opts, type: n.type })]));
  for (const n of graph.nodes) {
    const { width, height } = sizes.get(n.id)!;
    g.setNode(n.id, { width, height });
  }
  for (const e of graph.edges) {
    if (!ids.has(e.from) || !ids.has(e.to) || e.from === e.to) continue;
    const label = edgeLabel(e);
    g.setEdge(
      e.from,
      e.to,
      label ? { label, width: Math.min(140, label.length * 7 + 8), height: 16, labelpos: 'c' } : {},
    );
  }
  dagre.layout(g);
  const nodes: PlacedNode[] = graph.nodes.map((n) => {
    const p = g.node(n.id);
    const { width, height, lines } = sizes.get(n.id)!;
    return { id: n.id, type: n.type, label: n.label || n.id, lines, x: p.x, y: p.y, width, height };
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
