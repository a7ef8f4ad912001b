/** failure_workflow steps that name no task: refused in the inline form, said (what runs: nothing) in the seeds' form. */
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/errors/index.js';
import { parse, pos, wf } from './helpers.js';

const tasks = [
  '    - { id: work, type: SIMPLE }',
  '    - { id: log_to_incident, type: SIMPLE }',
  '',
].join('\n');

describe('failure_workflow steps', () => {
  it('a step naming a task of the workflow loads with no finding', () => {
    const r = parse(wf(tasks, '  failure_workflow: { steps: [log_to_incident] }\n'));
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.failureWorkflow!.steps).toEqual(['log_to_incident']);
  });

  it('steps alone: a step naming no task is refused at its line:col with the fix and the closest task id', () => {
    const text = wf(tasks, '  failure_workflow:\n    steps:\n      - log_to_incidnet\n      - log_to_incident\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    expect(r.diagnostics).toHaveLength(1);
    const at = pos(text, 'log_to_incidnet');
    expect(r.diagnostics[0]).toMatchObject({ severity: 'error', code: 'LF_FAILURE_STEP_UNKNOWN', line: at.line, col: at.col });
    expect(formatDiagnostic(r.diagnostics[0]!)).toBe(`test.yaml:${at.line}:${at.col}: error: failure_workflow step "log_to_incidnet" names no task of this workflow, so nothing would run for it when the run fails; add a task with id log_to_incidnet (e.g. \`- { id: log_to_incidnet, type: SIMPLE }\`, run by the handler of that name) or remove the step; did you mean "log_to_incident"?`);
  });

  it('the seeds\' form (an id beside the steps) loads, with one warning (at the first) for the steps naming no task, saying nothing runs for them', () => {
    const text = wf(tasks, '  failure_workflow:\n    id: "on-failure"\n    steps:\n      - notify_commander\n      - log_to_incident\n');
    const r = parse(text);
    expect(r.definition).not.toBeNull();
    const at = pos(text, 'notify_commander');
    expect(r.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'LF_FAILURE_STEP_UNKNOWN', line: at.line, col: at.col })]);
    expect(r.diagnostics[0]!.message).toBe('failure_workflow step notify_commander names no task of this workflow: nothing runs for it when the run fails (add tasks of those ids, or to start workflow on-failure write failure_workflow without steps)');
  });
});
