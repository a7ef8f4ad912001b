import { describe, expect, it } from 'vitest';
import { graphOf, layoutGraph, pathOf } from '../../../src/server/web/graph-layout.js';
import { loadDefinitionFile } from '../../../src/api/definitions.js';

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
    const layout = layoutGraph(graphOf({ nodes: [{ id: 'a', type: 'SIMPLE', label: 'a' }, { id: 'b', type: 'HUMAN', label: 'b' }], edges: [{ from: 'a', to: 'b', kind: 'case', label: 'yes' }, { from: 'a', to: 'ghost', kind: 'depends' }] }, undefined));
    expect(layout.nodes.map((n) => [n.id, n.type])).toEqual([['a', 'SIMPLE'], ['b', 'HUMAN']]);
    expect(layout.edges).toHaveLength(1);
    expect(layout.edges[0]!.label).toBe('yes');
  });
});
