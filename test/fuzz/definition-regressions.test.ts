/**
 * Cases the definition fuzzer found, kept as plain regression tests (each
 * names the fuzzer seed that found it). Each failed before its fix.
 */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { assertClearDiagnostic } from './definition-oracle.js';

const errorsOf = (text: string) => {
  const r = parseDefinition(text, 'fuzz.yaml');
  for (const d of r.diagnostics) assertClearDiagnostic(d);
  return r.diagnostics.filter((d) => d.severity === 'error');
};

describe('definition fuzzer regressions', () => {
  // seed 20261122: `agent_level: [..]` was refused with zod's "Invalid input", which names no expectation.
  it.each([
    ['agent_level: [1]', 'workflow.tasks[0].agent_level: expected a string or a number, got a list'],
    ['approvers: { alice: 1 }', 'workflow.tasks[0].approvers: expected a user name or a list of user names'],
    [
      'fork_tasks: [{ b: 1 }]',
      'workflow.tasks[0].fork_tasks[0]: expected a task id or a list of task ids (one branch)',
    ],
  ])('every schema error says what was expected: %s', (field, message) => {
    const errors = errorsOf(`workflow:\n  id: w\n  tasks:\n    - id: a\n      type: SIMPLE\n      ${field}\n`);
    expect(errors.map((d) => d.message)).toContain(message);
  });

  it('an input declaration of the wrong shape says what was expected', () => {
    const errors = errorsOf(
      'workflow:\n  id: w\n  input:\n    required: [[x]]\n    optional: [7]\n  tasks:\n    - { id: a, type: SIMPLE }\n',
    );
    expect(errors.map((d) => d.message)).toEqual([
      'workflow.input.required[0]: expected an input name or a map of name: { type, default, description }, got a list',
      'workflow.input.optional[0]: expected an input name or a map of name: default, got 7',
    ]);
  });
});

describe("handlers are the module's own exports", () => {
  // seed 2 (LEDGERFLOW_FUZZ_RUNS=1500): a task whose handler is named `constructor` ran Object() from the prototype of the handlers object.
  it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'a task whose handler is named %s, with no such export, is refused before it starts',
    async (name) => {
      const { definition } = parseDefinition(
        `workflow:\n  id: w\n  tasks:\n    - { id: a, type: SIMPLE, handler: ${name} }\n`,
        'fuzz.yaml',
      );
      const store = new MemoryEventStore();
      await expect(new Engine({ store }).run(definition!, {}, { handlers: {} })).rejects.toMatchObject({
        code: 'LF_HANDLER_NOT_FOUND',
      });
      expect(await store.listRuns()).toEqual([]);
    },
  );

  it('a handler that is exported under such a name runs', async () => {
    const { definition } = parseDefinition(
      'workflow:\n  id: w\n  tasks:\n    - { id: a, type: SIMPLE, handler: constructor }\n',
      'fuzz.yaml',
    );
    const handlers = Object.defineProperty({}, 'constructor', { value: async () => ({ ok: true }), enumerable: true });
    const view = await new Engine({ store: new MemoryEventStore() }).run(definition!, {}, { handlers });
    expect(view.tasks.a).toMatchObject({ status: 'COMPLETED', output: { ok: true } });
  });
});

describe('deep nesting is refused plainly', () => {
  // seed 20261122 (text mutation deepFlow): past ~800 levels the yaml package ran out of stack, and every level
  // was reported as "YAML: Maximum call stack size exceeded" (once per bracket, at a place that moved with the caller's stack).
  it.each([150, 900, 20_000])('a value nested %i levels deep is one LF_YAML_TOO_DEEP error at its place', (depth) => {
    const text = `workflow:\n  id: w\n  tasks:\n    - id: a\n      type: SIMPLE\n      input: { deep: ${'['.repeat(depth)}${']'.repeat(depth)} }\n`;
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'LF_YAML_TOO_DEEP', line: 6 });
    expect(errors[0]!.message).toBe(
      'YAML: maps and lists nest more than 100 levels deep here; a workflow definition needs a few levels: flatten it',
    );
  });

  it('100 levels still load', () => {
    const text = `workflow:\n  id: w\n  tasks:\n    - id: a\n      type: SIMPLE\n      input: { deep: ${'['.repeat(94)}${']'.repeat(94)} }\n`;
    expect(errorsOf(text)).toEqual([]);
  });
});
