import { describe, it, expect } from 'vitest';
import {
  conditionRefs,
  evaluateCondition,
  evaluateExpression,
  parseCondition,
  type Scope,
} from '../../src/expressions/index.js';
import { thrown } from '../helpers/errors.js';

const scope: Scope = {
  input: { strict_mode: false, threshold: '80', tags: ['a', 'b'] },
  workflow: { id: 'wf', runId: 'r1', version: 1 },
  tasks: {
    validate_compliance: {
      status: 'COMPLETED',
      output: { score: '85', status: 'PASS', violations: [], name: 'Report.PDF' },
    },
    scan: { status: 'COMPLETED', attempts: 2, output: { files: ['x', 'y', 'z'], meta: { a: 1, b: [1, 2] } } },
  },
};

const cond = (text: string) => evaluateCondition(text, scope);

describe('conditions', () => {
  it('compares ${} refs with booleans', () => {
    expect(cond('${workflow.input.strict_mode} == false')).toBe(true);
    expect(cond('${workflow.input.strict_mode} == true')).toBe(false);
    expect(cond('!${workflow.input.strict_mode}')).toBe(true);
  });

  it('compares numbers and numeric strings as numbers', () => {
    expect(cond('validate_compliance.output.score > 80')).toBe(true);
    expect(cond('validate_compliance.output.score >= workflow.input.threshold')).toBe(true);
    expect(cond('validate_compliance.output.score == 85')).toBe(true);
    expect(cond("'10' > '9'")).toBe(true);
    expect(cond("'b' > 'a'")).toBe(true);
    expect(cond('validate_compliance.output.status > 3')).toBe(false);
  });

  it('compares strings, arrays and objects', () => {
    expect(cond("${validate_compliance.output.status} == 'PASS'")).toBe(true);
    expect(cond("validate_compliance.output.status != 'FAIL'")).toBe(true);
    expect(cond('scan.output.files == ["x", "y", "z"]')).toBe(true);
    expect(cond('validate_compliance.output.violations == []')).toBe(true);
    expect(cond("'85' === 85")).toBe(false);
    expect(cond("true == 'true'")).toBe(true);
    expect(cond('nobody.output.x == null')).toBe(true);
  });

  it('combines with && || ! and the conditional operator', () => {
    expect(cond("workflow.input.strict_mode == false && validate_compliance.output.status == 'PASS'")).toBe(true);
    expect(cond('workflow.input.strict_mode || scan.attempts > 1')).toBe(true);
    expect(cond('workflow.input.strict_mode && scan.attempts > 1')).toBe(false);
    expect(evaluateExpression("scan.attempts > 1 ? 'retried' : 'first'", scope)).toBe('retried');
    expect(evaluateExpression('-scan.attempts * 2 + 1', scope)).toBe(-3);
    expect(evaluateExpression('7 % 4', scope)).toBe(3);
    expect(evaluateExpression('1 / 0', scope)).toBeNull();
  });

  it('offers a small set of pure functions', () => {
    expect(cond('len(scan.output.files) == 3')).toBe(true);
    expect(cond("contains(scan.output.files, 'y')")).toBe(true);
    expect(cond("contains(workflow.input.tags, 'c')")).toBe(false);
    expect(cond("lower(validate_compliance.output.name) == 'report.pdf'")).toBe(true);
    expect(
      cond(
        "upper('a') == 'A' && startsWith(validate_compliance.output.name, 'Rep') && endsWith(validate_compliance.output.name, '.PDF')",
      ),
    ).toBe(true);
    expect(evaluateExpression('len(scan.output.meta)', scope)).toBe(2);
  });

  it('reads members of a ${} value and literal indexes', () => {
    expect(evaluateExpression('${scan.output}.meta.b[1]', scope)).toBe(2);
    expect(evaluateExpression("scan.output.files[0] + '!'", scope)).toBe('x!');
  });

  it('can be compiled once and evaluated many times', () => {
    const c = parseCondition('scan.attempts > 1');
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
    expect(evaluateCondition(c, scope)).toBe(true);
    expect(evaluateCondition(c, { ...scope, tasks: {} })).toBe(false);
  });

  it('lists the refs a condition reads', () => {
    expect(
      conditionRefs(
        '${workflow.input.strict_mode} == false && validate_compliance.output.score > 80 && len(scan.output.files) > 0',
      ),
    ).toEqual([
      { kind: 'input', name: 'strict_mode', path: [] },
      { kind: 'task', task: 'validate_compliance', field: 'output', path: ['score'] },
      { kind: 'task', task: 'scan', field: 'output', path: ['files'] },
    ]);
  });
});

describe('condition safety and errors', () => {
  it('rejects constructor, __proto__ and prototype', () => {
    expect(thrown(() => parseCondition('scan.output.constructor')).message).toBe(
      'property "constructor" is not allowed at column 13 in condition "scan.output.constructor"',
    );
    expect(thrown(() => parseCondition("scan.output['__proto__'] == 1")).message).toContain(
      'property "__proto__" is not allowed',
    );
    expect(thrown(() => parseCondition('${scan.output}.prototype')).message).toContain(
      'property "prototype" is not allowed',
    );
    expect(thrown(() => parseCondition('${scan.output.constructor}')).message).toContain(
      'property "constructor" is not allowed',
    );
  });

  it('calls only whitelisted functions', () => {
    const err = thrown(() => parseCondition('eval("1") == 1'));
    expect(err.message).toBe(
      'only these functions can be called: len, contains, lower, upper, startsWith, endsWith at column 1 in condition "eval("1") == 1"',
    );
    expect(thrown(() => parseCondition('scan.output.files.push(1)')).message).toContain(
      'only these functions can be called',
    );
    expect(thrown(() => parseCondition('len(1, 2)')).message).toContain('len() takes 1 argument, got 2');
  });

  it('points at a single = with the column and the fix', () => {
    const err = thrown(() => parseCondition('${workflow.input.strict_mode} = false'));
    expect(err.message).toBe(
      'unexpected "=" at column 31 in condition "${workflow.input.strict_mode} = false"; use == to compare',
    );
    expect(err.meta.column).toBe(31);
  });

  it('reports other syntax errors with their column', () => {
    expect(thrown(() => parseCondition('scan.attempts >')).meta.column).toBe(16);
    const inErr = thrown(() => parseCondition('x.output.a in scan.output.files'));
    expect(inErr.message).toBe(
      'unexpected "in" at column 12 in condition "x.output.a in scan.output.files"; use contains(list, value) for membership',
    );
    expect(thrown(() => parseCondition('a.output | b.output')).message).toContain(
      'operator "|" is not supported; use || for "or"',
    );
    expect(thrown(() => parseCondition('')).message).toBe('empty condition');
  });

  it('applies the reference grammar to bare names', () => {
    const err = thrown(() => parseCondition('strict_mode == false'));
    expect(err.message).toMatch(/^"strict_mode" alone is not a reference; expected/);
    expect(err.meta.column).toBe(1);
    expect(thrown(() => parseCondition('scan.outputs.x > 1')).message).toContain('"scan.outputs" is not a reference');
    expect(thrown(() => parseCondition('scan.output[scan.attempts]')).message).toContain(
      'a computed property must be a literal',
    );
  });
});
