/**
 * FORK_DYNAMIC at load (docs/language.md#fork_dynamic-branches-chosen-at-run-time): what it needs and ignores, at its
 * line:col; and the run-time check of its list (parseBranches), which names the element and the fix.
 */
import { describe, expect, it } from 'vitest';
import { parseBranches, parseDefinition } from '../../src/definition/index.js';

const text = (fork: string) => `workflow:
  id: fan
  tasks:
    - id: plan
      type: SIMPLE
    - id: fan
      type: FORK_DYNAMIC
      depends_on: [plan]
${fork}    - id: gather
      type: JOIN
      join_on: [fan]
`;

describe('FORK_DYNAMIC at load', () => {
  it('loads as a MAP over its branches, with the inputs template kept', () => {
    const r = parseDefinition(
      text('      branches: "${plan.output.branches}"\n      inputs: "${plan.output.inputs}"\n'),
      'f.yaml',
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.definition!.tasks[1]).toMatchObject({
      id: 'fan',
      type: 'MAP',
      items: '${plan.output.branches}',
      fork: { inputs: '${plan.output.inputs}' },
    });
  });

  it('refuses one without branches, or with branches that are no template, at its line:col', () => {
    const none = parseDefinition(text('      handler: x\n'), 'f.yaml');
    expect(none.definition).toBeNull();
    expect(none.diagnostics.find((d) => d.code === 'LF_MISSING_FIELD')).toMatchObject({ line: 6, col: 7 });
    expect(none.diagnostics.find((d) => d.code === 'LF_FIELD_IGNORED')).toMatchObject({ line: 9, col: 7 });
    const list = parseDefinition(text('      branches: [a, b]\n'), 'f.yaml');
    expect(list.definition).toBeNull();
    const e = list.diagnostics.filter((d) => d.severity === 'error');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ line: 9, col: 17 });
    const unknown = parseDefinition(text('      branches: "${nope.output.x}"\n'), 'f.yaml');
    expect(unknown.diagnostics.find((d) => d.severity === 'error')!.message).toMatch(/names unknown task "nope"/);
  });
});

describe('a FORK_DYNAMIC list at run time', () => {
  it('takes ledgerflow elements and Conductor tasks, each input from inputs by id over its own', () => {
    const r = parseBranches(
      'fan',
      [
        { id: 'a', handler: 'h', input: { x: 1 } },
        { taskReferenceName: 'b', name: 'price', type: 'simple', inputParameters: { y: 2 } },
        { taskReferenceName: 'c', type: 'SUB_WORKFLOW', subWorkflowParam: { name: 'child', version: 2 } },
      ],
      { b: { y: 3 } },
    );
    expect(r).toEqual({
      branches: [
        { id: 'a', type: 'SIMPLE', handler: 'h', input: { x: 1 } },
        { id: 'b', type: 'SIMPLE', handler: 'price', input: { y: 3 } },
        { id: 'c', type: 'SUB_WORKFLOW', workflow: 'child', version: 2, input: {} },
      ],
    });
  });

  it.each([
    [{ a: 1 }, undefined, /gave an object, not a list/],
    [[{ handler: 'h' }], undefined, /element 0 of the branches of FORK_DYNAMIC task fan has no id/],
    [[{ id: 'a' }, { id: 'a' }], undefined, /element 1 .* has id a, which an earlier element has/],
    [[{ id: 'a b' }], undefined, /has id "a b": a branch id starts with a letter/],
    [[{ id: 'a', type: 'HTTP' }], undefined, /\(a\) has type HTTP; a branch is SIMPLE .* or SUB_WORKFLOW/],
    [[{ id: 'a', type: 'SUB_WORKFLOW' }], undefined, /is a SUB_WORKFLOW with no workflow/],
    [['a'], undefined, /element 0 .* is not a branch/],
    [[{ id: 'a' }], [1], /inputs of FORK_DYNAMIC task fan gave a list, not a map/],
    [[{ id: 'a' }], { a: 'x' }, /inputs\.a of FORK_DYNAMIC task fan is a string/],
  ])('refuses %j (inputs %j), naming the element', (list, inputs, message) => {
    const r = parseBranches('fan', list, inputs);
    expect('message' in r && r.message).toMatch(message);
  });
});
