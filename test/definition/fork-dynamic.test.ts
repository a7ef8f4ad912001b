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

  it('takes HTTP and TRANSFORM branches: the request an HTTP task sends, the program a TRANSFORM runs', () => {
    const r = parseBranches(
      'fan',
      [
        { id: 'get', type: 'HTTP', input: { url: 'https://api.example.com/a', headers: { 'x-n': 1 } } },
        {
          taskReferenceName: 'task2',
          type: 'HTTP',
          inputParameters: { http_request: { uri: 'https://x.example.com', method: 'post', body: { a: 1 } } },
        },
        { id: 'shape', type: 'TRANSFORM', jq: '.a', input: { a: 1 } },
        { taskReferenceName: 'js', type: 'INLINE', inputParameters: { expression: '$.v', evaluatorType: 'graaljs' } },
        { taskReferenceName: 'lam', type: 'LAMBDA', inputParameters: { scriptExpression: 'return 1;' } },
        { taskReferenceName: 'jq', type: 'JSON_JQ_TRANSFORM', inputParameters: { queryExpression: '.n' } },
      ],
      {
        task2: { http_request: { uri: 'https://x.example.com', method: 'POST', accept: 'application/json' } },
        js: { v: 2 },
        jq: { n: 3 },
      },
      5000,
    );
    expect(r).toEqual({
      branches: [
        {
          id: 'get',
          type: 'HTTP',
          input: {
            method: 'GET',
            url: 'https://api.example.com/a',
            headers: { 'x-n': '1' },
            query: {},
            expect: ['2xx'],
            max_response_bytes: 256 * 1024,
            timeout_ms: 5000,
          },
        },
        {
          id: 'task2',
          type: 'HTTP',
          // inputs.task2 is put over the element's inputParameters, key by key (its http_request whole), as in Conductor.
          input: {
            method: 'POST',
            url: 'https://x.example.com',
            headers: { Accept: 'application/json' },
            query: {},
            expect: ['2xx'],
            max_response_bytes: 256 * 1024,
            timeout_ms: 5000,
          },
        },
        { id: 'shape', type: 'TRANSFORM', transform: { jq: '.a' }, input: { a: 1 } },
        { id: 'js', type: 'TRANSFORM', transform: { js: '$.v' }, input: { v: 2 } },
        { id: 'lam', type: 'TRANSFORM', transform: { js: 'function scriptFun(){return 1;} scriptFun();' }, input: {} },
        { id: 'jq', type: 'TRANSFORM', transform: { jq: '.n' }, input: { n: 3 } },
      ],
    });
  });

  it.each([
    [{ a: 1 }, undefined, /gave an object, not a list/],
    [[{ handler: 'h' }], undefined, /element 0 of the branches of FORK_DYNAMIC task fan has no id/],
    [[{ id: 'a' }, { id: 'a' }], undefined, /element 1 .* has id a, which an earlier element has/],
    [[{ id: 'a b' }], undefined, /has id "a b": a branch id starts with a letter/],
    [
      [{ id: 'a', type: 'KAFKA_PUBLISH' }],
      undefined,
      /\(a\) has type KAFKA_PUBLISH; a branch is SIMPLE .* or TRANSFORM/,
    ],
    [[{ id: 'a', type: 'HTTP' }], undefined, /\(a\) is an HTTP branch, and its request has no url \(or uri\)/],
    [
      [{ id: 'a', type: 'HTTP', input: { url: 'https://x', method: 'FETCH' } }],
      undefined,
      /its method FETCH is none of/,
    ],
    [
      [{ id: 'a', type: 'HTTP', input: { url: 'https://x', headers: { h: {} } } }],
      undefined,
      /its header h is not a text/,
    ],
    [
      [{ id: 'a', type: 'TRANSFORM' }],
      undefined,
      /\(a\) is a TRANSFORM branch, and a TRANSFORM branch needs one program/,
    ],
    [
      [{ id: 'a', type: 'INLINE', inputParameters: { evaluatorType: 'value-param' } }],
      undefined,
      /evaluatorType value-param/,
    ],
    [[{ id: 'a', type: 'JSON_JQ_TRANSFORM' }], undefined, /has no queryExpression/],
    [[{ id: 'a', type: 'SUB_WORKFLOW' }], undefined, /is a SUB_WORKFLOW with no workflow/],
    [['a'], undefined, /element 0 .* is not a branch/],
    [[{ id: 'a' }], [1], /inputs of FORK_DYNAMIC task fan gave a list, not a map/],
    [[{ id: 'a' }], { a: 'x' }, /inputs\.a of FORK_DYNAMIC task fan is a string/],
  ])('refuses %j (inputs %j), naming the element', (list, inputs, message) => {
    const r = parseBranches('fan', list, inputs);
    expect('message' in r && r.message).toMatch(message);
  });
});
