/**
 * `monitoring.metrics:` (docs/metrics.md#per-workflow-figures): seed 003's
 * block validates as written; a figure ledgerflow does not know is an error
 * at its own line and column that lists the figures it knows.
 */
import { describe, expect, it } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';

const TASKS = '    - id: a\n      type: SIMPLE\n';
const SEED_003 = `  monitoring:
    report_frequency: "per_task"
    log_to: ".3ox/workflow.execution.log"
    metrics:
      - execution_time
      - task_success_rate
      - retry_count
`;

describe('monitoring.metrics', () => {
  it("takes seed 003's block as written and keeps its list", () => {
    const r = parse(wf(TASKS, SEED_003));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.definition!.monitoring!.metrics).toEqual(['execution_time', 'task_success_rate', 'retry_count']);
  });

  it('takes failure_rate too', () => {
    const r = parse(wf(TASKS, '  monitoring:\n    metrics: [failure_rate, execution_time]\n'));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('refuses a figure it does not know, at its file:line:col, naming the known ones and the likely one', () => {
    const text = wf(TASKS, SEED_003.replace('      - retry_count\n', '      - retry_counts\n      - p99_latency\n'));
    const r = parse(text);
    expect(r.definition).toBeNull();
    const [misspelt, unknown] = r.diagnostics.filter((d) => d.code === 'LF_SCHEMA');
    expect(misspelt!.message).toBe(
      'workflow.monitoring.metrics[2]: expected one of execution_time, task_success_rate, retry_count, failure_rate, got "retry_counts"; did you mean "retry_count"?',
    );
    expect(misspelt).toMatchObject({ file: 'test.yaml', severity: 'error', ...pos(text, 'retry_counts') });
    expect(unknown!.message).toBe(
      'workflow.monitoring.metrics[3]: expected one of execution_time, task_success_rate, retry_count, failure_rate, got "p99_latency"',
    );
    expect(unknown).toMatchObject(pos(text, 'p99_latency'));
  });

  it('refuses a metrics: that is not a list', () => {
    const text = wf(TASKS, '  monitoring:\n    metrics: execution_time\n');
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toContain('workflow.monitoring.metrics');
    expect(d).toMatchObject(pos(text, 'execution_time'));
  });
});
