import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  definitionHash,
  effectiveDependencies,
  parseDefinition,
  type DecisionTask,
  type HumanTask,
} from '../../src/definition/index.js';
import { formatDiagnostic } from '../../src/errors/index.js';
import { failureHandlerDefinition } from '../../src/runtime/index.js';
import { pos } from './helpers.js';

const file = new URL('../../examples/inventory-validation.workflow.yaml', import.meta.url);
const text = readFileSync(file, 'utf8');

describe('the real inventory-validation example', () => {
  const result = parseDefinition(text, 'inventory-validation.workflow.yaml');

  it('loads despite its banner, with one warning at its place: the FAIL_SOFT case', () => {
    expect(result.definition).not.toBeNull();
    expect(result.diagnostics.map((x) => [x.severity, x.code])).toEqual([['warning', 'LF_UNKNOWN_CASE_TARGET']]);
    const [d] = result.diagnostics;
    const at = pos(text, '"generate_warning_receipt"');
    expect(d).toMatchObject({
      severity: 'warning',
      code: 'LF_UNKNOWN_CASE_TARGET',
      message:
        'decision case FAIL_SOFT of decision_gate routes to unknown task "generate_warning_receipt"; choosing this case at run time fails the run',
      path: ['workflow', 'tasks', 3, 'decision_cases', 'FAIL_SOFT', 'next'],
      file: 'inventory-validation.workflow.yaml',
      line: at.line,
      col: at.col,
    });
    expect(text.split('\n')[at.line - 1]).toContain('next: "generate_warning_receipt"');
    expect(formatDiagnostic(d!)).toBe(
      `inventory-validation.workflow.yaml:${at.line}:${at.col}: warning: ${d!.message}`,
    );
  });

  it('its failure_workflow steps are the built-in ones: a failure handler run of its own, inventory-validation-failure-handler', () => {
    const handler = failureHandlerDefinition(result.definition!)!;
    expect(handler.id).toBe('inventory-validation-failure-handler');
    expect(handler.tasks.map((t) => t.id)).toEqual(['log_to_incident', 'notify_commander', 'preserve_state']);
  });

  it('normalises to the canonical shape', () => {
    const def = result.definition!;
    expect(def).toMatchObject({ id: 'inventory-validation-v1', name: 'Inventory Validation Workflow', version: 1 });
    expect(def.tasks.map((t) => [t.id, t.type, t.index])).toEqual([
      ['scan_files', 'SIMPLE', 0],
      ['load_policy', 'SIMPLE', 1],
      ['validate_compliance', 'SIMPLE', 2],
      ['decision_gate', 'DECISION', 3],
      ['generate_receipt', 'SIMPLE', 4],
      ['alert_cmd_bridge', 'HUMAN', 5],
    ]);
    const scan = def.tasks[0]!;
    expect(scan.retry).toEqual({
      maxAttempts: 3,
      backoff: 'exponential',
      initialDelayMs: 1000,
      maxDelayMs: null,
      jitter: 0,
    });
    expect(scan.timeoutMs).toBe(30_000);
    expect(scan.output).toEqual({ names: ['file_list', 'scan_timestamp'], values: {} });
    expect(def.tasks[1]!.parallelWith).toEqual(['scan_files']);
    const gate = def.tasks[3] as DecisionTask;
    expect(gate.decisionParam).toBe('${validate_compliance.output.compliance_status}');
    expect(gate.cases).toEqual([
      { name: 'PASS', next: ['generate_receipt'] },
      { name: 'FAIL_STRICT', next: ['alert_cmd_bridge'] },
      { name: 'FAIL_SOFT', next: ['generate_warning_receipt'] },
    ]);
    expect(gate.defaultNext).toBeUndefined();
    const human = def.tasks[5] as HumanTask;
    expect(human).toMatchObject({ type: 'HUMAN', timeoutMs: 3_600_000, approvers: [], onTimeout: 'fail' });
    expect(def.tasks[4]!.output).toEqual({ names: [], values: { receipt_file: '0UT.3OX/VALIDATION.RECEIPT.yaml' } });
    expect(def.inputs).toEqual([
      { name: 'target_folder', required: true, type: 'any' },
      { name: 'policy_file', required: true, type: 'any' },
      { name: 'strict_mode', required: false, type: 'boolean', default: false },
    ]);
    expect(def.output.names).toEqual(['validation_receipt', 'compliance_status', 'file_manifest']);
    expect(def.failureWorkflow).toEqual({
      id: 'inventory-validation-failure-handler',
      steps: ['log_to_incident', 'notify_commander', 'preserve_state'],
      input: {},
    });
    expect(def.monitoring).toMatchObject({ report_frequency: 'per_task' });
    expect(def.triggers).toEqual([]);
  });

  it('derives implicit dependencies from the decision', () => {
    const deps = effectiveDependencies(result.definition!);
    expect(deps.get('generate_receipt')).toEqual(['decision_gate']);
    expect(deps.get('alert_cmd_bridge')).toEqual(['decision_gate']);
    expect(deps.get('validate_compliance')).toEqual(['scan_files', 'load_policy']);
    expect(deps.get('load_policy')).toEqual([]);
  });

  it('is plain JSON with a stable hash', () => {
    const def = result.definition!;
    expect(JSON.parse(JSON.stringify(def))).toEqual(def);
    expect(definitionHash(def)).toMatch(/^[0-9a-f]{64}$/);
    expect(definitionHash(parseDefinition(text).definition!)).toBe(definitionHash(def));
  });
});

describe('the bundled copy (definitions/inventory-validation.yaml)', () => {
  it('is the seed example unchanged but for its handlers line and an optional policy_file (and the comment saying so)', () => {
    const bundled = readFileSync(new URL('../../definitions/inventory-validation.yaml', import.meta.url), 'utf8');
    const comment =
      /^# (Bundled copy of examples\/inventory-validation\.workflow\.yaml|unchanged but for the `handlers:` line|and policy_file being optional|folder's \.3ox\.index\/POLICY\/ file)/;
    const added = (l: string) =>
      /^\s*handlers: "\.\/handlers\/inventory\.ts"$/.test(l) || comment.test(l) || l === '      - policy_file: ""';
    // The example's `policy_file` under required: moved to optional (with "" for "find it"), nothing else changed.
    expect(bundled.split('\n').filter((l) => !added(l))).toEqual(
      text.split('\n').filter((l) => l !== '      - policy_file'),
    );
    expect(bundled.split('\n').filter(added)).toHaveLength(6);
  });
});
