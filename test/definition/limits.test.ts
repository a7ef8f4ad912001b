import { describe, it, expect } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';

describe('durations are bounded, so every due time is a valid date', () => {
  it('refuses a timeout longer than 365 days, at its place', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      timeout: 99999999999999999999d\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_SCHEMA');
    expect(d.message).toBe('workflow.tasks[0].timeout: a duration may be at most 365d (31536000000 ms), got "99999999999999999999d"');
    expect(d).toMatchObject(pos(text, '99999999999999999999d'));
  });

  it('refuses a numeric retry delay beyond the limit (initial_delay: 1e300)', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      retry_policy: { max_attempts: 3, initial_delay: 1e300 }\n');
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toMatch(/^workflow\.tasks\[0\]\.retry_policy\.initial_delay: a duration may be at most 365d/);
    expect(d).toMatchObject(pos(text, '1e300'));
  });

  it('bounds max_delay, an approval deadline and a WAIT duration alike', () => {
    const text = wf([
      '    - { id: a, type: SIMPLE, retry_policy: { max_attempts: 2, max_delay: P400D } }',
      '    - { id: h, type: HUMAN, timeout: 53w, depends_on: a }',
      '    - { id: w, type: WAIT, duration: 366d, depends_on: h }',
      '',
    ].join('\n'));
    const found = parse(text).diagnostics.filter((d) => d.code === 'LF_SCHEMA');
    expect(found.map((d) => d.path.join('.'))).toEqual([
      'workflow.tasks.0.retry_policy.max_delay', 'workflow.tasks.1.timeout', 'workflow.tasks.2.duration',
    ]);
  });

  it('accepts exactly 365 days', () => {
    const r = parse(wf('    - { id: a, type: HUMAN, timeout: 365d }\n'));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.definition!.tasks[0]!.timeoutMs).toBe(365 * 86_400_000);
  });

  it('refuses a backoff whose last delay would exceed the limit, and says how to fix it', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      retry_policy: { max_attempts: 40, backoff: exponential, initial_delay: 1s }\n');
    const d = only(parse(text), 'LF_RETRY_DELAY_TOO_LONG');
    expect(d.message).toBe('retry_policy of task a: the exponential delay before attempt 40 would exceed 365d; set max_delay (at most 365d) or lower max_attempts');
    expect(d).toMatchObject(pos(text, '40'));
    const capped = parse(wf('    - id: a\n      type: SIMPLE\n      retry_policy: { max_attempts: 40, backoff: exponential, initial_delay: 1s, max_delay: 1h }\n'));
    expect(capped.definition).not.toBeNull();
  });

  it('bounds max_attempts', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      retry_policy: { max_attempts: 100000, max_delay: 1s }\n');
    expect(only(parse(text), 'LF_SCHEMA').message).toBe('workflow.tasks[0].retry_policy.max_attempts: expected at most 1000 attempts, got 100000');
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
      'input "constructor"', 'input "__proto__"', 'workflow output "valueOf"', 'output "toString" of task a', 'decision case "__proto__" of d',
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
