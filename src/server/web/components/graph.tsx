/** A workflow drawn as SVG from dagre's layout: one box per task, coloured by its status, arrows for dependencies. */
import { useMemo } from 'preact/hooks';
import { graphOf, layoutGraph, pathOf } from '../graph-layout.js';
import { COLOURS, toneOf } from '../status.js';
import type { Definition, Graph as GraphData } from '../types.js';

const TYPE_MARK: Record<string, string> = {
  HUMAN: 'approval', DECISION: 'decision', FORK: 'fork', JOIN: 'join', DO_WHILE: 'loop', MAP: 'map',
  SUB_WORKFLOW: 'sub-workflow', WAIT: 'wait', COMMAND: 'command', TERMINATE: 'terminate', SET: 'set', EMIT: 'emit', WORKFLOW: 'workflow',
};

export function Graph(props: {
  graph?: GraphData | null | undefined;
  definition?: Definition | null | undefined;
  statuses?: Record<string, string | undefined>;
  selected?: string | null;
  onSelect?: (id: string) => void;
}) {
  const layout = useMemo(() => layoutGraph(graphOf(props.graph, props.definition)), [props.graph, props.definition]);
  if (layout.nodes.length === 0) return <div class="muted">No graph.</div>;
  return (
    <div class="graph-wrap">
      <svg class="graph" width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`} role="img" aria-label="workflow graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#8792a2" />
          </marker>
        </defs>
        {layout.edges.map((e) => {
          const mid = e.points[Math.floor(e.points.length / 2)];
          return (
            <g key={`${e.from}->${e.to}`} class="edge">
              <path d={pathOf(e.points)} fill="none" stroke="#8792a2" stroke-width="1.4" marker-end="url(#arrow)" />
              {e.label && mid ? <text x={mid.x} y={mid.y} class="edge-label" text-anchor="middle" dominant-baseline="middle">{e.label}</text> : null}
            </g>
          );
        })}
        {layout.nodes.map((n) => {
          const status = props.statuses?.[n.id];
          const c = COLOURS[toneOf(status)];
          const selected = props.selected === n.id;
          return (
            <g
              key={n.id}
              class={`node${selected ? ' selected' : ''}`}
              data-task={n.id}
              data-status={status ?? ''}
              transform={`translate(${n.x - n.width / 2},${n.y - n.height / 2})`}
              onClick={() => props.onSelect?.(n.id)}
              tabIndex={0}
              onKeyDown={(e) => { if (e.key === 'Enter') props.onSelect?.(n.id); }}
            >
              <rect width={n.width} height={n.height} rx={n.type === 'DECISION' ? 18 : 6} fill={n.type === 'WORKFLOW' ? '#fff' : c.fill} stroke={selected ? '#111827' : c.stroke} stroke-width={selected ? 2.5 : 1.6} stroke-dasharray={n.type === 'WORKFLOW' ? '5 4' : undefined} />
              <text x={10} y={19} class="node-label" fill="#111827">{n.label.length > 22 ? `${n.label.slice(0, 21)}…` : n.label}</text>
              <text x={10} y={36} class="node-sub" fill={c.text}>{[TYPE_MARK[n.type], status?.toLowerCase().replace('_', ' ')].filter(Boolean).join(' · ') || 'task'}</text>
              <title>{`${n.id} (${n.type})${status ? `: ${status}` : ''}`}</title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
