/** `timeout:` and `timeout_policy:` on the workflow (docs/language.md, docs/runs.md#run-timeouts): what is taken, what is refused where. */
import { describe, expect, it } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';

const task = '    - { id: a, type: SIMPLE }\n';

describe('workflow timeout', () => {
  it('takes a duration and a policy (default fail), with no "unknown key" warning; absent is absent (older definitions hash as they did)', () => {
    const r = parse(wf(task, '  timeout: 2h\n'));
    expect(r.diagnostics).toEqual([]);
    expect(r.definition).toMatchObject({ timeoutMs: 7_200_000, timeoutPolicy: 'fail' });
    const c = parse(wf(task, '  timeout: PT30M\n  timeout_policy: cancel\n'));
    expect(c.diagnostics).toEqual([]);
    expect(c.definition).toMatchObject({ timeoutMs: 1_800_000, timeoutPolicy: 'cancel' });
    const plain = parse(wf(task)).definition!;
    expect('timeoutMs' in plain || 'timeoutPolicy' in plain).toBe(false);
  });

  it.each([
    ['-1s', 'expected a duration like "30s"'],
    ['banana', 'expected a duration like "30s"'],
    ['0s', 'a run timeout must be longer than 0'],
    ['0', 'a run timeout must be longer than 0'],
    ['400d', 'a duration may be at most 365d'],
  ])('refuses timeout: %s at its line and column, saying what to write', (value, message) => {
    const text = wf(task, `  timeout: ${value}\n`);
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toContain('workflow.timeout');
    expect(d.message).toContain(message);
    expect(d).toMatchObject(pos(text, value, { nth: 0 }));
    expect(parse(text).definition).toBeNull();
  });

  it('refuses timeout_policy: maybe with the values to write', () => {
    const text = wf(task, '  timeout: 2h\n  timeout_policy: maybe\n');
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toBe('workflow.timeout_policy: expected one of fail, cancel, got "maybe"');
    expect(d).toMatchObject(pos(text, 'maybe'));
  });

  it('warns that timeout_policy alone does nothing', () => {
    const text = wf(task, '  timeout_policy: cancel\n');
    const d = only(parse(text), 'LF_FIELD_IGNORED');
    expect(d.severity).toBe('warning');
    expect(d.message).toContain('no timeout');
    expect(d).toMatchObject(pos(text, 'timeout_policy'));
  });
});
