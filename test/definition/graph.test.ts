import { describe, it, expect } from 'vitest';
import {
  definitionHash,
  definitionJsonSchema,
  effectiveDependencies,
  parseDuration,
  upstreamOf,
} from '../../src/definition/index.js';
import { parse, wf } from './helpers.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1h 30m 15s', 5_415_000],
    ['1.5s', 1500],
    ['0s', 0],
    ['PT30S', 30_000],
    ['PT1H30M', 5_400_000],
    ['P1D', 86_400_000],
    ['P1DT1H', 90_000_000],
    ['pt2m', 120_000],
    [250, 250],
    ['250', 250],
  ] as const)('%s → %s ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '1x', '1h-30m', 'P', 'PT', 'P1M2', 'P1Y', 'h1', '-5s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('rejects negative and non-finite numbers', () => {
    expect(parseDuration(-1)).toBeNull();
    expect(parseDuration(Number.POSITIVE_INFINITY)).toBeNull();
  });
});

describe('dependencies', () => {
  const text = wf(
    [
      '    - { id: start, type: SIMPLE }',
      '    - { id: gate, type: DECISION, depends_on: start, decision_param: "${start.output.kind}",',
      '        decision_cases: { A: { next: [fan] }, DEFAULT: { next: [other] } } }',
      '    - { id: fan, type: FORK, fork_tasks: [[left], [right]] }',
      '    - { id: left, type: SIMPLE }',
      '    - { id: right, type: SIMPLE, parallel_with: left }',
      '    - { id: join, type: JOIN, join_on: [left, right], depends_on: [start] }',
      '    - { id: other, type: SIMPLE }',
      '',
    ].join('\n'),
  );
  const r = parse(text);

  it('loads cleanly', () => {
    expect(r.diagnostics).toEqual([]);
  });

  it('adds decision, fork and join edges; parallel_with is not an edge', () => {
    const deps = effectiveDependencies(r.definition!);
    expect(Object.fromEntries(deps)).toEqual({
      start: [],
      gate: ['start'],
      fan: ['gate'],
      left: ['fan'],
      right: ['fan'],
      join: ['start', 'left', 'right'],
      other: ['gate'],
    });
  });

  it('computes the transitive upstream of each task', () => {
    const up = upstreamOf(r.definition!);
    const ids = r.definition!.tasks.map((t) => t.id);
    const upstream = (id: string) => ids.filter((other) => up.has(id, other)).sort();
    expect(upstream('join')).toEqual(['fan', 'gate', 'left', 'right', 'start']);
    expect(upstream('other')).toEqual(['gate', 'start']);
    expect(upstream('start')).toEqual([]);
  });
});

describe('upstream of a loop', () => {
  const r = parse(
    wf(
      [
        '    - { id: loop, type: DO_WHILE, loop_over: [count, double], loop_condition: "count.output.n < 3" }',
        '    - { id: count, type: SIMPLE }',
        '    - { id: double, type: SIMPLE, depends_on: [count] }',
        '    - { id: after, type: SIMPLE, depends_on: [loop], input: { last: "${count.output.n}" } }',
        '    - { id: later, type: SIMPLE, depends_on: [after] }',
        '',
      ].join('\n'),
    ),
  );

  it("a task that waits for the loop (directly or not) has the loop's body upstream, and may read it", () => {
    expect(r.diagnostics).toEqual([]);
    const up = upstreamOf(r.definition!);
    const ids = r.definition!.tasks.map((t) => t.id);
    const upstream = (id: string) => ids.filter((other) => up.has(id, other)).sort();
    expect(upstream('after')).toEqual(['count', 'double', 'loop']);
    expect(upstream('later')).toEqual(['after', 'count', 'double', 'loop']);
    // Inside the body only its own depends_on is upstream: a sibling it does not wait for may not have run this iteration.
    expect(upstream('count')).toEqual(['loop']);
    expect(upstream('double')).toEqual(['count', 'loop']);
  });
});

describe('definitionHash', () => {
  it('ignores key order and alias spelling', () => {
    const a = parse(
      'workflow:\n  id: h\n  tasks:\n    - { id: t, type: SIMPLE, retry_policy: { max_attempts: 2, backoff: fixed } }\n',
    );
    const b = parse(
      'workflow:\n  tasks:\n    - { retry_policy: { backoff_strategy: fixed, max_attempts: 2 }, type: simple, id: t }\n  id: h\n',
    );
    expect(definitionHash(a.definition!)).toBe(definitionHash(b.definition!));
    const c = parse(
      'workflow:\n  id: h\n  tasks:\n    - { id: t, type: SIMPLE, retry_policy: { max_attempts: 3, backoff: fixed } }\n',
    );
    expect(definitionHash(c.definition!)).not.toBe(definitionHash(a.definition!));
  });
});

describe('definitionJsonSchema', () => {
  it('describes the YAML language for editors', () => {
    const schema = definitionJsonSchema() as {
      properties: { workflow: { properties: Record<string, unknown>; required: string[] } };
    };
    const wfSchema = schema.properties.workflow;
    expect(wfSchema.required).toEqual(expect.arrayContaining(['id', 'tasks']));
    expect(Object.keys(wfSchema.properties)).toEqual(
      expect.arrayContaining(['input', 'tasks', 'failure_workflow', 'triggers']),
    );
    expect(JSON.stringify(schema)).toContain('"backoff_strategy"');
  });
});
