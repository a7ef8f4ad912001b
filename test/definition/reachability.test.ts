import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';

const wf = (tasks: string) => `workflow:\n  id: r\n  name: R\n  version: 1\n  tasks:\n${tasks}`;
const never = (text: string) =>
  parseDefinition(text, 'r.yaml').diagnostics.filter((d) => d.code === 'LF_TASK_NEVER_RUNS');

const gate = `    - { id: check, type: SIMPLE }
    - id: gate
      type: DECISION
      depends_on: [check]
      decision_param: "\${check.output.s}"
      decision_cases:
        A: { next: [a] }
        B: { next: [b, b2] }
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE }
`;

describe('tasks that can never run', () => {
  it('warns, with line and column, when a task needs two cases of one decision at once', () => {
    const text = wf(`${gate}    - { id: b2, type: SIMPLE, depends_on: [a] }\n`);
    const found = never(text);
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toBe(
      'task b2 can never run: decision gate would have to choose one of {B} and one of {A}; check its depends_on and the decision cases that route to it',
    );
    expect(found[0]!.line).toBe(text.split('\n').findIndex((l) => l.includes('id: b2')) + 1);
    expect(found[0]!.severity).toBe('warning');
  });

  it('reports only the root cause, and an all_success join of exclusive branches', () => {
    const text = wf(
      `${gate}    - { id: b2, type: SIMPLE }\n    - { id: both, type: SIMPLE, depends_on: [a, b], trigger_rule: all_success }\n    - { id: after, type: SIMPLE, depends_on: [both], trigger_rule: all_success }\n`,
    );
    expect(never(text).map((d) => d.message.split(':')[0])).toEqual(['task both can never run']);
  });

  it('accepts a join of exclusive branches under the default rule (one branch is enough), and the seed example', () => {
    expect(
      never(wf(`${gate}    - { id: b2, type: SIMPLE }\n    - { id: either, type: SIMPLE, depends_on: [a, b] }\n`)),
    ).toEqual([]);
  });
});
