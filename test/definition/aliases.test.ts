import { describe, it, expect } from 'vitest';
import type { DecisionTask, ForkTask, HumanTask, TaskDef } from '../../src/definition/index.js';
import { parse, wf } from './helpers.js';

function load(text: string): TaskDef[] {
  const r = parse(text);
  expect(
    r.diagnostics.filter((d) => d.severity === 'error'),
    JSON.stringify(r.diagnostics, null, 1),
  ).toEqual([]);
  return r.definition!.tasks;
}

describe('seed aliases normalise to one shape', () => {
  it('accepts backoff_strategy for backoff, with retry defaults', () => {
    const [a, b] = load(
      wf(
        [
          '    - id: a',
          '      type: simple',
          '      timeout: "2m"',
          '      retry_policy:',
          '        max_attempts: 3',
          '        backoff_strategy: "linear"',
          '        max_delay: PT1M',
          '        jitter: 0.2',
          '      output_to: ".3ox/workflow-data/scan_results.yaml"',
          '    - id: b',
          '      type: SIMPLE',
          '',
        ].join('\n'),
      ),
    );
    expect(a).toMatchObject({ type: 'SIMPLE', timeoutMs: 120_000, outputTo: '.3ox/workflow-data/scan_results.yaml' });
    expect(a!.retry).toEqual({
      maxAttempts: 3,
      backoff: 'linear',
      initialDelayMs: 1000,
      maxDelayMs: 60_000,
      jitter: 0.2,
    });
    expect(b!.retry).toEqual({
      maxAttempts: 1,
      backoff: 'exponential',
      initialDelayMs: 1000,
      maxDelayMs: null,
      jitter: 0,
    });
  });

  it('accepts next_tasks and next, as a string or a list, and a default case', () => {
    const [d] = load(
      wf(
        [
          '    - id: d',
          '      type: DECISION',
          '      decision_param: "${workflow.input.folder}"',
          '      decision_cases:',
          '        PASS:',
          '          next_tasks: ["ok"]',
          '        PARTIAL:',
          '          condition: "${workflow.input.strict_mode} == false"',
          '          next: warn',
          '        FAIL:',
          '          next_tasks: [warn, ok]',
          '        Default:',
          '          next: ok',
          '    - { id: ok, type: SIMPLE }',
          '    - { id: warn, type: SIMPLE }',
          '',
        ].join('\n'),
      ),
    ) as [DecisionTask];
    expect(d.cases).toEqual([
      { name: 'PASS', next: ['ok'] },
      { name: 'PARTIAL', next: ['warn'], condition: '${workflow.input.strict_mode} == false' },
      { name: 'FAIL', next: ['warn', 'ok'] },
    ]);
    expect(d.defaultNext).toEqual(['ok']);
  });

  it('accepts parallel_with and depends_on as a string or a list', () => {
    const [, b, c] = load(
      wf(
        [
          '    - { id: a, type: SIMPLE }',
          '    - { id: b, type: SIMPLE, parallel_with: a }',
          '    - { id: c, type: SIMPLE, parallel_with: [a, b], depends_on: "d" }',
          '    - { id: d, type: SIMPLE }',
          '',
        ].join('\n'),
      ),
    );
    expect(b!.parallelWith).toEqual(['a']);
    expect(c!.parallelWith).toEqual(['a', 'b']);
    expect(c!.dependsOn).toEqual(['d']);
  });

  it('accepts output as a list of names or a map of values', () => {
    const [a, b] = load(
      wf(
        [
          '    - id: a',
          '      type: SIMPLE',
          '      output: [file_list]',
          '    - id: b',
          '      type: SIMPLE',
          '      depends_on: a',
          '      output:',
          '        receipt_file: "out/${workflow.runId}.yaml"',
          '        count: 3',
          '',
        ].join('\n'),
      ),
    );
    expect(a!.output).toEqual({ names: ['file_list'], values: {} });
    expect(b!.output).toEqual({ names: [], values: { receipt_file: 'out/${workflow.runId}.yaml', count: 3 } });
  });

  it('reads every input declaration form and infers types from defaults', () => {
    const r = parse(
      [
        'workflow:',
        '  id: inputs',
        '  input:',
        '    required:',
        '      - folder',
        '      - policy: { type: string, description: "policy path" }',
        '    optional:',
        '      - strict_mode: false',
        '      - limit: 10',
        '      - tags: [a]',
        '      - opts: { type: object, default: { deep: true } }',
        '      - raw: { deep: true }',
        '      - anything',
        '  tasks:',
        '    - { id: a, type: SIMPLE }',
      ].join('\n'),
    );
    expect(r.definition!.inputs).toEqual([
      { name: 'folder', required: true, type: 'any' },
      { name: 'policy', required: true, type: 'string', description: 'policy path' },
      { name: 'strict_mode', required: false, type: 'boolean', default: false },
      { name: 'limit', required: false, type: 'number', default: 10 },
      { name: 'tags', required: false, type: 'array', default: ['a'] },
      { name: 'opts', required: false, type: 'object', default: { deep: true } },
      { name: 'raw', required: false, type: 'object', default: { deep: true } },
      { name: 'anything', required: false, type: 'any' },
    ]);
  });

  it('normalises HUMAN, FORK, JOIN and the other task types', () => {
    const tasks = load(
      wf(
        [
          '    - { id: h, type: HUMAN, assigned_to: commander, wait_for_approval: true, timeout: 1h, on_timeout: reject }',
          '    - { id: h2, type: human, approvers: [a, b] }',
          '    - { id: f, type: FORK, fork_tasks: [[x1, x2], [y1]] }',
          '    - { id: x1, type: SIMPLE }',
          '    - { id: x2, type: SIMPLE }',
          '    - { id: y1, type: SIMPLE }',
          '    - { id: j, type: JOIN, join_on: [x2, y1] }',
          '    - { id: w, type: WAIT, duration: 1d }',
          '    - { id: s, type: SET, depends_on: j, values: { total: "${x2.output.n}" } }',
          '    - { id: e, type: EMIT, depends_on: s, event: done, data: { v: "${s.output}" } }',
          '    - { id: t, type: TERMINATE, depends_on: e, status: FAILED, reason: "stop" }',
          '',
        ].join('\n'),
      ),
    );
    const byId = Object.fromEntries(tasks.map((t) => [t.id, t]));
    expect(byId.h as HumanTask).toMatchObject({ approvers: ['commander'], onTimeout: 'reject', timeoutMs: 3_600_000 });
    expect((byId.h2 as HumanTask).approvers).toEqual(['a', 'b']);
    expect((byId.f as ForkTask).forkTasks).toEqual(['x1', 'x2', 'y1']);
    expect(byId.j).toMatchObject({ type: 'JOIN', joinOn: ['x2', 'y1'] });
    expect(byId.w).toMatchObject({ type: 'WAIT', durationMs: 86_400_000 });
    expect(byId.s).toMatchObject({ type: 'SET', values: { total: '${x2.output.n}' } });
    expect(byId.e).toMatchObject({ type: 'EMIT', event: 'done' });
    expect(byId.t).toMatchObject({ type: 'TERMINATE', status: 'FAILED', reason: 'stop' });
  });

  it('reads event and schedule triggers', () => {
    const r = parse(
      wf(
        '    - { id: a, type: SIMPLE }\n',
        [
          '  triggers:',
          '    - event: revenue_milestone',
          '      filter: "event.data.revenue >= ${event.data.target}"',
          '      input: { folder: "/data/${event.data.month}" }',
          '    - schedule: "0 9 * * *"',
          '      timezone: Europe/Paris',
          '      input: { folder: "/data/daily" }',
          '',
        ].join('\n'),
      ),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.triggers).toEqual([
      {
        kind: 'event',
        event: 'revenue_milestone',
        filter: 'event.data.revenue >= ${event.data.target}',
        input: { folder: '/data/${event.data.month}' },
      },
      {
        kind: 'schedule',
        cron: '0 9 * * *',
        timezone: 'Europe/Paris',
        catchUp: 'latest',
        input: { folder: '/data/daily' },
      },
    ]);
  });

  it('resolves YAML anchors and merge keys', () => {
    const tasks = load(
      wf(
        [
          '    - id: a',
          '      type: SIMPLE',
          '      retry_policy: &retry { max_attempts: 4, backoff: linear }',
          '    - id: b',
          '      type: SIMPLE',
          '      retry_policy: { <<: *retry, initial_delay: 2s }',
          '',
        ].join('\n'),
      ),
    );
    expect(tasks[1]!.retry).toMatchObject({ maxAttempts: 4, backoff: 'linear', initialDelayMs: 2000 });
  });
});
