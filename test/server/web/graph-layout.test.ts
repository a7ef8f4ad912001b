import { describe, expect, it } from 'vitest';
import { graphOf, layoutGraph, NODE_MAX_WIDTH, pathOf, wrapLabel } from '../../../src/server/web/graph-layout.js';
import { categoryAxis, CHAR_PX } from '../../../src/server/web/plot-axis.js';
import { grouped } from '../../../src/server/web/run-rows.js';
import type { RunRecord } from '../../../src/server/web/types.js';
import { loadDefinitionFile } from '../../../src/files/definitions.js';

describe('the run page graph layout', () => {
  it('puts every task of a definition in a box, each dependency above what waits for it', () => {
    const def = loadDefinitionFile('definitions/research-coordination.yaml').definition;
    const graph = graphOf(undefined, def);
    const layout = layoutGraph(graph);
    expect(layout.nodes.map((n) => n.id).sort()).toEqual(def.tasks.map((t) => t.id).sort());
    expect(layout.edges.length).toBeGreaterThan(0);
    const y = new Map(layout.nodes.map((n) => [n.id, n.y]));
    for (const e of layout.edges) expect(y.get(e.from)!).toBeLessThan(y.get(e.to)!);
    for (const e of layout.edges) expect(pathOf(e.points)).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+$/);
    expect(layout.width).toBeGreaterThan(0);
  });

  it('uses the graph the API sent when there is one, and ignores edges to unknown tasks', () => {
    const layout = layoutGraph(
      graphOf(
        {
          nodes: [
            { id: 'a', type: 'SIMPLE', label: 'a' },
            { id: 'b', type: 'HUMAN', label: 'b' },
          ],
          edges: [
            { from: 'a', to: 'b', kind: 'case', label: 'yes' },
            { from: 'a', to: 'ghost', kind: 'depends' },
          ],
        },
        undefined,
      ),
    );
    expect(layout.nodes.map((n) => [n.id, n.type])).toEqual([
      ['a', 'SIMPLE'],
      ['b', 'HUMAN'],
    ]);
    expect(layout.edges).toHaveLength(1);
    expect(layout.edges[0]!.label).toBe('yes');
  });

  it('keeps a long label whole: wrapped at spaces and dots onto more lines of a taller box, never cut', () => {
    const label = 'Alert CMD.BRIDGE of Failed compliance checks on every vessel';
    const layout = layoutGraph(
      {
        nodes: [
          { id: 'alert', type: 'SUB_WORKFLOW', label },
          { id: 'b', type: 'SIMPLE', label: 'b' },
        ],
        edges: [],
      },
      { stats: true },
    );
    const node = layout.nodes.find((n) => n.id === 'alert')!;
    expect(node.lines.length).toBeGreaterThan(1);
    expect(node.lines.join(' ')).toBe(label);
    expect(node.lines.join('')).not.toContain('…');
    expect(node.width).toBeLessThanOrEqual(NODE_MAX_WIDTH);
    expect(node.height).toBeGreaterThan(layout.nodes.find((n) => n.id === 'b')!.height);
    // A word longer than a line is split, not dropped.
    expect(wrapLabel('x'.repeat(70), 30).join('')).toBe('x'.repeat(70));
  });
});

describe('the runs table rows', () => {
  const rec = (runId: string, parent?: string): RunRecord => ({
    runId,
    workflowId: 'w',
    version: 1,
    status: 'COMPLETED',
    startedAt: '',
    completedAt: null,
    lastSeq: 1,
    agents: [],
    durationMs: null,
    result: '',
    outputText: null,
    tasks: {},
    waiting: [],
    trigger: parent ? { kind: 'parent', runId: parent } : { kind: 'manual' },
  });
  it('puts each child run under its parent (grandchildren under their child), and keeps a child whose parent is on another page, marked', () => {
    const rows = grouped([rec('c1', 'p'), rec('other'), rec('p'), rec('g', 'c1'), rec('orphan', 'gone')]);
    expect(rows.map((r) => [r.run.runId, r.parent, r.nested])).toEqual([
      ['other', null, false],
      ['p', null, false],
      ['c1', 'p', true],
      ['g', 'c1', true],
      ['orphan', 'gone', false],
    ]);
  });
});

describe('the metrics page category axis', () => {
  it('writes names level when they fit, turns them when they would touch, and never lets two overlap', () => {
    expect(categoryAxis(['review', 'ingest'], 500).rotate).toBe(0);
    const names = Array.from({ length: 14 }, (_, i) => `compliance-review-workflow-${i}`);
    const axis = categoryAxis(names, 520);
    expect(axis.rotate).not.toBe(0);
    expect(axis.labels.every((l) => l.length <= 24)).toBe(true);
    // Turned names need a line's height of their slot: the shown ones are at least that far apart.
    const slot = 520 / names.length;
    const shown = axis.labels.map((l, i) => (l ? i : -1)).filter((i) => i >= 0);
    for (let k = 1; k < shown.length; k++) expect((shown[k]! - shown[k - 1]!) * slot).toBeGreaterThanOrEqual(14);
    expect(axis.size).toBeGreaterThan(24 * CHAR_PX * 0.6);
  });
});
