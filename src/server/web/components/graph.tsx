/**
 * A workflow drawn as SVG from dagre's layout: one box per task, coloured by its status, its whole label (wrapped), and
 * on a run how long it took and in how many attempts; arrows for dependencies. The drawing takes the width of its card,
 * shrinking a wide graph to 70 % before it scrolls.
 */
import { useMemo } from 'preact/hooks';
import { between, duration } from '../format.js';
import { clickable } from './common.js';
import { graphOf, layoutGraph, pathOf, TYPE_MARK } from '../graph-layout.js';
import { COLOURS, toneOf } from '../status.js';
import type { Definition, Graph as GraphData } from '../types.js';

export function Graph(props: {
  graph?: GraphData | null | undefined;
  definition?: Definition | null | undefined;
  statuses?: Record<string, string | undefined>;
  /** A run's tasks (the page's view, now or in time travel): each box then says how long it took and its attempts. */
  tasks?: Record<string, { startedAt?: string | null; completedAt?: string | null; attempts?: number } | undefined>;
  /** The time the view is of, for how long unfinished work has taken. */
  now?: number;
  selected?: string | null;
  onSelect?: (id: string) => void;
}) {
  const stats = props.tasks !== undefined;
  const layout = useMemo(
    () => layoutGraph(graphOf(props.graph, props.definition), { stats }),
    [props.graph, props.definition, stats],
  );
  if (layout.nodes.length === 0) return <div class="muted">No graph.</div>;
  return (
    <div class="graph-wrap">
      <svg
        class="graph"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-label="workflow graph"
        style={{ maxWidth: '100%', minWidth: `${Math.round(layout.width * 0.7)}px`, height: 'auto' }}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#8792a2" />
          </marker>
        </defs>
        {layout.edges.map((e) => {
          const mid = e.points[Math.floor(e.points.length / 2)];
          return (
            <g key={`${e.from}->${e.to}`} class="edge">
              <path d={pathOf(e.points)} fill="none" stroke="#8792a2" stroke-width="1.4" marker-end="url(#arrow)" />
              {e.label && mid ? (
                <text x={mid.x} y={mid.y} class="edge-label" text-anchor="middle" dominant-baseline="middle">
                  {e.label}
                </text>
              ) : null}
            </g>
          );
        })}
        {layout.nodes.map((n) => {
          const status = props.statuses?.[n.id];
          const c = COLOURS[toneOf(status)];
          const selected = props.selected === n.id;
          return (
            // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>; it takes the keyboard as one does
            <g
              key={n.id}
              class={`node${selected ? ' selected' : ''}`}
              data-task={n.id}
              data-status={status ?? ''}
              transform={`translate(${n.x - n.width / 2},${n.y - n.height / 2})`}
              role="button"
              {...clickable(() => props.onSelect?.(n.id))}
            >
              <rect
                width={n.width}
                height={n.height}
                rx={n.type === 'DECISION' ? 18 : 6}
                fill={n.type === 'WORKFLOW' ? '#fff' : c.fill}
                stroke={selected ? '#111827' : c.stroke}
                stroke-width={selected ? 2.5 : 1.6}
                stroke-dasharray={n.type === 'WORKFLOW' ? '5 4' : undefined}
              />
              <text class="node-label" fill="#111827">
                {n.lines.map((line, i) => (
                  <tspan key={i} x={10} y={19 + i * 16}>
                    {line}
                  </tspan>
                ))}
              </text>
              <text x={10} y={19 + n.lines.length * 16} class="node-sub" fill={c.text}>
                {[TYPE_MARK[n.type], status?.toLowerCase().replace('_', ' ')].filter(Boolean).join(' · ') || 'task'}
              </text>
              {stats && n.type !== 'WORKFLOW' ? (
                <text x={10} y={34 + n.lines.length * 16} class="node-stats" fill="#4b5563">
                  {statsText(props.tasks?.[n.id], props.now)}
                </text>
              ) : null}
              <title>{`${n.label}${n.label !== n.id ? ` [${n.id}]` : ''} (${n.type})${status ? `: ${status}` : ''}`}</title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** "1.20 s · 2 attempts": how long a task took (so far) and how many attempts it made; "not started" before its first. */
export function statsText(
  task: { startedAt?: string | null; completedAt?: string | null; attempts?: number } | undefined,
  now?: number,
): string {
  if (!task?.startedAt) return 'not started';
  const took = duration(between(task.startedAt, task.completedAt ?? null, now ?? Date.now()));
  const n = task.attempts ?? 0;
  return `${took}${task.completedAt ? '' : ' so far'} · ${n} attempt${n === 1 ? '' : 's'}`;
}
