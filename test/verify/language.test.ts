/**
 * `properties:` and `wait_forever` in the language: validated (unknown task names are errors at their place), in the
 * JSON Schema, and `check`'s property findings pointing at the declaration or the task.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { propertyFindings } from '../../src/check/index.js';
import { definitionJsonSchema, parseDefinition } from '../../src/definition/index.js';
import { ROOT } from '../helpers/cli.js';

const yaml = `workflow:
  id: refund
  properties:
    at_most_once: [pay_refund, pay_refnd]
    always_before:
      pay_refund: [approve_refund]
      ship: [pay_refund]
    never_together: [[pay_refund, cancel]]
    eventually: notify
  tasks:
    - { id: approve_refund, type: HUMAN, approvers: [finance] }
    - { id: pay_refund, type: SIMPLE }
`;

describe('properties: in a definition', () => {
  it('names only tasks of the workflow: each unknown one is an error at its file:line:col, with a did-you-mean', () => {
    const errors = parseDefinition(yaml, 'refund.yaml').diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => [d.code, d.line, d.col, d.message])).toEqual([
      [
        'LF_UNKNOWN_TASK',
        4,
        32,
        expect.stringMatching(/^unknown task "pay_refnd" in properties.at_most_once.*pay_refund/),
      ],
      ['LF_UNKNOWN_TASK', 7, 7, expect.stringMatching(/unknown task "ship" in properties.always_before/)],
      ['LF_UNKNOWN_TASK', 8, 35, expect.stringMatching(/unknown task "cancel" in properties.never_together\[0\]/)],
      ['LF_UNKNOWN_TASK', 9, 17, expect.stringMatching(/unknown task "notify" in properties.eventually/)],
    ]);
  });

  it('is checked by its schema: a key it does not know, a group of one', () => {
    const bad = parseDefinition(`workflow:
  id: w
  properties:
    allways_before: { a: [b] }
    never_together: [[a]]
  tasks:
    - { id: a, type: SIMPLE }
`).diagnostics.filter((d) => d.severity === 'error');
    expect(bad.map((d) => d.message).join('\n')).toMatch(/allways_before/);
    expect(bad.map((d) => d.message).join('\n')).toMatch(/at least two tasks/);
  });

  it('is normalised (a bare task id is a list) and leaves definitions without it as they were', () => {
    const ok = parseDefinition(
      yaml
        .replace(', pay_refnd', '')
        .replace(/\n {6}ship.*/, '')
        .replace(', cancel', ', approve_refund')
        .replace('notify', 'pay_refund'),
    );
    expect(ok.definition!.properties).toEqual({
      atMostOnce: ['pay_refund'],
      alwaysBefore: { pay_refund: ['approve_refund'] },
      neverTogether: [['pay_refund', 'approve_refund']],
      eventually: ['pay_refund'],
    });
    const plain = parseDefinition('workflow:\n  id: w\n  tasks:\n    - { id: a, type: HUMAN }\n').definition!;
    expect('properties' in plain).toBe(false);
    expect('waitForever' in plain.tasks[0]!).toBe(false);
  });

  it('wait_forever is a field of HUMAN and WAIT only, and the JSON Schema has it and properties:', () => {
    const warned = parseDefinition('workflow:\n  id: w\n  tasks:\n    - { id: a, type: SIMPLE, wait_forever: true }\n');
    expect(warned.diagnostics.map((d) => d.message).join('\n')).toMatch(/wait_forever/);
    const schema = JSON.stringify(definitionJsonSchema());
    for (const key of ['wait_forever', 'at_most_once', 'always_before', 'never_together', 'eventually'])
      expect(schema).toContain(`"${key}"`);
  });
});

describe('check: property findings', () => {
  it('each broken property is an error finding at its declaration (declared) or its task (built-in), with its path', () => {
    const text = `workflow:
  id: refund
  properties:
    always_before:
      pay_refund: [approve_refund]
  tasks:
    - { id: approve_refund, type: HUMAN, approvers: [finance] }
    - { id: pay_refund, type: SIMPLE }
`;
    const definition = parseDefinition(text).definition!;
    const findings = propertyFindings({ definition, file: 'refund.yaml', text });
    expect(findings).toEqual([
      {
        section: 'properties',
        rule: 'property-wait-times-out',
        level: 'error',
        message: expect.stringMatching(/^approve_refund waits for its approval with no timeout/),
        location: { file: 'refund.yaml', line: 7, col: 13 },
        task: 'approve_refund',
        path: [expect.stringMatching(/^approve_refund waits/)],
      },
      {
        section: 'properties',
        rule: 'property-always-before',
        level: 'error',
        message: 'pay_refund runs before approve_refund completed',
        location: { file: 'refund.yaml', line: 5, col: 7 },
        task: 'pay_refund',
        path: ['pay_refund runs before approve_refund completed'],
      },
    ]);
  });
});

describe('src/verify', () => {
  it('is pure: no node: import, no clock, no timers, no process', () => {
    const dir = join(ROOT, 'src', 'verify');
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/from 'node:|Date\.now\(|new Date\(\)|performance\.now\(|setTimeout\(|\bprocess\./);
    }
  });
});
