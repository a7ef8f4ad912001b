import { describe, it, expect } from 'vitest';
import {
  definitionLimitProblem,
  MAX_DEFINITION_BYTES,
  MAX_DEFINITION_JSON_BYTES,
  MAX_TASKS,
  parseDefinition,
} from '../../src/definition/index.js';
import { only, parse, pos, wf } from './helpers.js';

describe('durations are bounded, so every due time is a valid date', () => {
  it('refuses a timeout longer than 365 days, at its place', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      timeout: 99999999999999999999d\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_SCHEMA');
    expect(d.message).toBe(
      'workflow.tasks[0].timeout: a duration may be at most 365d (31536000000 ms), got "99999999999999999999d"',
    );
    expect(d).toMatchObject(pos(text, '99999999999999999999d'));
  });

  it('refuses a numeric retry delay beyond the limit (initial_delay: 1e300)', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      retry_policy: { max_attempts: 3, initial_delay: 1e300 }\n');
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toMatch(/^workflow\.tasks\[0\]\.retry_policy\.initial_delay: a duration may be at most 365d/);
    expect(d).toMatchObject(pos(text, '1e300'));
  });

  it('bounds max_delay, an approval deadline and a WAIT duration alike', () => {
    const text = wf(
      [
        '    - { id: a, type: SIMPLE, retry_policy: { max_attempts: 2, max_delay: P400D } }',
        '    - { id: h, type: HUMAN, timeout: 53w, depends_on: a }',
        '    - { id: w, type: WAIT, duration: 366d, depends_on: h }',
        '',
      ].join('\n'),
    );
    const found = parse(text).diagnostics.filter((d) => d.code === 'LF_SCHEMA');
    expect(found.map((d) => d.path.join('.'))).toEqual([
      'workflow.tasks.0.retry_policy.max_delay',
      'workflow.tasks.1.timeout',
      'workflow.tasks.2.duration',
    ]);
  });

  it('accepts exactly 365 days', () => {
    const r = parse(wf('    - { id: a, type: HUMAN, timeout: 365d }\n'));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.definition!.tasks[0]!.timeoutMs).toBe(365 * 86_400_000);
  });

  it('refuses a backoff whose last delay would exceed the limit, and says how to fix it', () => {
    const text = wf(
      '    - id: a\n      type: SIMPLE\n      retry_policy: { max_attempts: 40, backoff: exponential, initial_delay: 1s }\n',
    );
    const d = only(parse(text), 'LF_RETRY_DELAY_TOO_LONG');
    expect(d.message).toBe(
      'retry_policy of task a: the exponential delay before attempt 40 would exceed 365d; set max_delay (at most 365d) or lower max_attempts',
    );
    expect(d).toMatchObject(pos(text, '40'));
    const capped = parse(
      wf(
        '    - id: a\n      type: SIMPLE\n      retry_policy: { max_attempts: 40, backoff: exponential, initial_delay: 1s, max_delay: 1h }\n',
      ),
    );
    expect(capped.definition).not.toBeNull();
  });

  it('bounds max_attempts', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      retry_policy: { max_attempts: 100000, max_delay: 1s }\n');
    expect(only(parse(text), 'LF_SCHEMA').message).toBe(
      'workflow.tasks[0].retry_policy.max_attempts: expected at most 1000 attempts, got 100000',
    );
  });
});

describe('names used as object keys cannot be Object.prototype names', () => {
  it.each(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'])('refuses the task id %s', (id) => {
    const text = wf(`    - id: ${id}\n      type: SIMPLE\n`);
    const r = parse(text);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_RESERVED_NAME');
    expect(d.message).toBe(`task id "${id}" is reserved (it names a property every JavaScript object has); rename it`);
    expect(d).toMatchObject(pos(text, id));
  });

  it('refuses reserved input, output and decision case names, each at its place', () => {
    const text = `workflow:
  id: w
  input:
    required: [constructor]
    optional:
      - __proto__: 1
  output: { valueOf: "\${a.status}" }
  tasks:
    - { id: a, type: SIMPLE, output: [toString] }
    - id: d
      type: DECISION
      depends_on: a
      decision_param: "\${a.status}"
      decision_cases: { __proto__: { next: b }, default: { next: b } }
    - { id: b, type: SIMPLE }
`;
    const found = parse(text).diagnostics.filter((d) => d.code === 'LF_RESERVED_NAME');
    expect(found.map((d) => d.message.replace(/ is reserved.*/, ''))).toEqual([
      'input "constructor"',
      'input "__proto__"',
      'workflow output "valueOf"',
      'output "toString" of task a',
      'decision case "__proto__" of d',
    ]);
    expect(found[0]).toMatchObject(pos(text, 'constructor'));
    expect(found[1]).toMatchObject(pos(text, '__proto__'));
    expect(found[4]).toMatchObject(pos(text, '__proto__', { nth: 1 }));
  });

  it('still accepts names that merely contain them', () => {
    const r = parse(wf('    - { id: my_constructor, type: SIMPLE, output: [proto] }\n'));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});

describe('a definition has a size limit and a task limit, refused at once with the limit named', () => {
  const tasks = (n: number) => Array.from({ length: n }, (_, i) => `    - { id: t${i}, type: SIMPLE }\n`).join('');

  it('refuses text over 1 MiB before parsing it: one diagnostic at 1:1, not the YAML errors it holds', () => {
    // Unclosed flow lists all the way down: parsed, this would be YAML syntax errors.
    const text = `workflow:\n  id: big\n  tasks: [${'['.repeat(100)}\n${'#'.repeat(2 * 1024 * 1024)}\n`;
    const r = parseDefinition(text, 'big.yaml');
    expect(r.definition).toBeNull();
    expect(r.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'LF_DEFINITION_TOO_LARGE',
        path: [],
        line: 1,
        col: 1,
        file: 'big.yaml',
        message: expect.stringMatching(
          /^definition is at least 2,097,[0-9]{3} bytes, over the limit of 1 MiB \(1,048,576 bytes\); split it into workflows that call each other/,
        ),
      },
    ]);
  });

  it('counts bytes of UTF-8, not characters: 400,000 three-byte characters are over 1 MiB', () => {
    const text = wf('    - { id: a, type: SIMPLE }\n', `  description: "${'€'.repeat(400_000)}"\n`);
    expect(text.length).toBeLessThan(MAX_DEFINITION_BYTES);
    const d = only(parseDefinition(text), 'LF_DEFINITION_TOO_LARGE');
    expect(d.message).toMatch(/^definition is 1,200,[0-9]{3} bytes, over the limit of 1 MiB/);
  });

  it('accepts exactly 5,000 tasks and refuses 5,001, at the tasks key, naming the limit and the fix', () => {
    expect(parse(wf(tasks(MAX_TASKS))).definition!.tasks).toHaveLength(5000);
    const text = wf(tasks(MAX_TASKS + 1));
    const r = parse(text);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_TOO_MANY_TASKS');
    expect(r.diagnostics).toHaveLength(1);
    expect(d.message).toBe(
      'workflow has 5,001 tasks, over the limit of 5,000; split it into workflows that call each other (SUB_WORKFLOW, or a MAP with `workflow:`), or run one task per item with a MAP',
    );
    expect(d).toMatchObject(pos(text, 'tasks:'));
  });

  it('refuses a small file whose aliases expand past what a run may record (4 MiB), without writing it out', () => {
    const tasksSharing = Array.from(
      { length: 3000 },
      (_, i) => `    - { id: t${i}, type: SIMPLE, description: *d }\n`,
    ).join('');
    const text = wf(tasksSharing, `  description: &d "${'x'.repeat(400_000)}"\n`);
    expect(text.length).toBeLessThan(MAX_DEFINITION_BYTES);
    const r = parse(text);
    expect(r.definition).toBeNull();
    expect(only(r, 'LF_DEFINITION_TOO_LARGE').message).toMatch(
      /^definition expands to more than 4 MiB as stored \(aliases written out, defaults filled in\)/,
    );
  });

  it('the same limits hold for a definition object that was not parsed here (a deploy, one read back)', () => {
    const def = parse(wf(tasks(2))).definition!;
    expect(definitionLimitProblem(def)).toBeNull();
    expect(definitionLimitProblem({ ...def, tasks: Array.from({ length: 5001 }, () => def.tasks[0]!) })?.code).toBe(
      'LF_TOO_MANY_TASKS',
    );
    const named = { ...def, name: 'x'.repeat(MAX_DEFINITION_JSON_BYTES) };
    expect(definitionLimitProblem(named)?.code).toBe('LF_DEFINITION_TOO_LARGE');
  });
});
