/** failure_workflow steps: a task of the workflow or a built-in step; anything else is refused at its line:col, listing the built-ins. */
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/errors/index.js';
import { failureHandlerDefinition } from '../../src/runtime/index.js';
import { parse, pos, wf } from './helpers.js';

const tasks = ['    - { id: work, type: SIMPLE }', '    - { id: log_to_incident, type: SIMPLE }', ''].join('\n');

describe('failure_workflow steps', () => {
  it('a step naming a task of the workflow loads with no finding, and runs inside the run (no failure handler run)', () => {
    const r = parse(wf(tasks, '  failure_workflow: { steps: [log_to_incident] }\n'));
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.failureWorkflow!.steps).toEqual(['log_to_incident']);
    expect(failureHandlerDefinition(r.definition!)).toBeNull();
  });

  it("the seed's form loads with no finding: its steps are the built-in ones, a run of the named handler of its own", () => {
    const text = wf(
      '    - { id: work, type: SIMPLE }\n',
      '  failure_workflow:\n    id: "inventory-validation-failure-handler"\n    steps:\n      - log_to_incident\n      - notify_commander\n      - preserve_state\n',
    );
    const r = parse(text);
    expect(r.diagnostics).toEqual([]);
    const handler = failureHandlerDefinition(r.definition!)!;
    expect(handler.id).toBe('inventory-validation-failure-handler');
    expect(handler.tasks.map((t) => [t.id, t.handler])).toEqual([
      ['log_to_incident', '_log_to_incident'],
      ['notify_commander', '_notify_commander'],
      ['preserve_state', '_preserve_state'],
    ]);
    // The same definition gives the same handler (and hash): a resume or another engine starts the same run.
    expect(failureHandlerDefinition(parse(text).definition!)).toEqual(handler);
  });

  it('a step that is neither is refused at its line:col, listing the built-ins, with the closest name', () => {
    for (const form of ['  failure_workflow:\n    steps:\n', '  failure_workflow:\n    id: on-failure\n    steps:\n']) {
      const text = wf(tasks, `${form}      - notify_comander\n      - log_to_incident\n`);
      const r = parse(text);
      expect(r.definition).toBeNull();
      expect(r.diagnostics).toHaveLength(1);
      const at = pos(text, 'notify_comander');
      expect(r.diagnostics[0]).toMatchObject({
        severity: 'error',
        code: 'LF_FAILURE_STEP_UNKNOWN',
        line: at.line,
        col: at.col,
      });
      expect(formatDiagnostic(r.diagnostics[0]!)).toBe(
        `test.yaml:${at.line}:${at.col}: error: failure_workflow step "notify_comander" is neither a built-in step nor a task of this workflow, so nothing would run for it when the run fails; name a built-in step (log_to_incident, notify_commander, preserve_state) or a task of this workflow (add \`- { id: notify_comander, type: SIMPLE }\`, run by the handler of that name), or remove the step; did you mean "notify_commander"?`,
      );
    }
  });
});

describe("notifications of role commander (notify_commander's targets)", () => {
  it('a rule may name a role instead of statuses; one naming neither is refused with the fix', () => {
    const ok = parse(
      wf(
        '    - { id: work, type: SIMPLE }\n',
        '  notifications:\n    - role: commander\n      webhook: https://hooks.example/commander\n',
      ),
    );
    expect(ok.diagnostics).toEqual([]);
    expect(ok.definition!.notifications).toEqual([
      { on: [], roles: ['commander'], nats: false, webhook: 'https://hooks.example/commander' },
    ]);
    const text = wf('    - { id: work, type: SIMPLE }\n', '  notifications:\n    - webhook: https://hooks.example/x\n');
    const bad = parse(text);
    expect(bad.definition).toBeNull();
    expect(bad.diagnostics[0]!.message).toBe(
      'workflow.notifications[0]: a notification needs `on:` (when to send: FAILED, WAITING, COMPLETED, CANCELLED, RETRIED) and/or `role:` (who it reaches, e.g. commander)',
    );
  });
});
