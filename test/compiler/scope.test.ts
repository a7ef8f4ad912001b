/**
 * What templates and conditions see of a run's tasks (compiler/scope.ts): each task's view is made when first read,
 * not all of them for every template (a run of 4,900 chained SET tasks spent 70% of its CPU building views). The
 * views must be what the whole object was: the same names in the same order, the same fields, JSON and enumeration
 * alike, on a plain record (few tasks) and on a task table (more than 64); a view set by the scope's maker (a loop's
 * condition sees its loop's output with the iteration in it) is what reads see after.
 */
import { describe, expect, it } from 'vitest';
import { scopeOf } from '../../src/compiler/index.js';
import { initialContext } from '../../src/compiler/machine.js';
import { evaluateCondition, resolveTemplate } from '../../src/expressions/index.js';
import { def } from '../helpers/engine.js';

const workflow = (n: number) =>
  def(
    `workflow:\n  id: wide\n  input:\n    optional: [x]\n  tasks:\n${Array.from(
      { length: n },
      (_, i) => `    - { id: t${i}, type: SET, values: { a: 1 }${i > 0 ? `, depends_on: [t${i - 1}]` : ''} }`,
    ).join('\n')}\n`,
  );

describe('the scope of templates and conditions', () => {
  for (const [n, kind] of [
    [3, 'a plain record'],
    [100, 'a task table'],
  ] as const) {
    it(`shows every task as the whole object did, on ${kind} (${n} tasks)`, () => {
      const d = workflow(n);
      const ctx = initialContext(
        d,
        { runId: 'r1', workflowId: 'wide', version: 1, input: { x: 7 }, time: Date.UTC(2026, 11, 1) },
        n > 64 ? { shape: null } : null,
      );
      const scope = scopeOf(ctx);
      const ids = d.tasks.map((t) => t.id);
      const eager = Object.fromEntries(
        ids.map((id) => [
          id,
          {
            status: ctx.tasks[id]!.status,
            output: ctx.tasks[id]!.output,
            error: ctx.tasks[id]!.error,
            attempts: ctx.tasks[id]!.attempts,
          },
        ]),
      );
      expect(Object.keys(scope.tasks)).toEqual(ids);
      expect(JSON.parse(JSON.stringify(scope.tasks))).toEqual(JSON.parse(JSON.stringify(eager)));
      expect({ ...scope.tasks }).toEqual(eager);
      expect('t1' in scope.tasks).toBe(true);
      expect('nope' in scope.tasks).toBe(false);
      expect(scope.tasks.nope).toBeUndefined();
      expect(scope.tasks.t1).toBe(scope.tasks.t1); // made once a scope
      expect(resolveTemplate('${t1.status} ${workflow.input.x}', scope)).toBe('PENDING 7');
      expect(evaluateCondition('t0.status == "PENDING"', scope)).toBe(true);

      // A view set by the scope's maker is what later reads see; a name that is no task's comes after the tasks.
      scope.tasks.t0 = { ...scope.tasks.t0!, output: { iteration: 3 } };
      scope.tasks.extra = { status: 'COMPLETED' };
      expect(evaluateCondition('t0.output.iteration == 3', scope)).toBe(true);
      expect(Object.keys(scope.tasks)).toEqual([...ids, 'extra']);
      expect(scopeOf(ctx).tasks.t0!.output).toBeNull();
    });
  }
});
