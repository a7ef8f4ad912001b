import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { machineJson } from '../../src/compiler/index.js';
import { cli, EXAMPLE, ROOT, tempDir } from '../helpers/cli.js';

const DEFINITIONS = join(ROOT, 'definitions');
const bundled = readdirSync(DEFINITIONS).filter((f) => f.endsWith('.yaml'));

describe('bundled definitions and their machines', () => {
  it('ships at least the inventory validation workflow', () => {
    expect(bundled).toContain('inventory-validation.yaml');
  });

  for (const file of bundled) {
    it(`machines/ is fresh for definitions/${file} (run \`ledgerflow compile definitions/*.yaml\` if not)`, () => {
      const { definition } = parseDefinition(readFileSync(join(DEFINITIONS, file), 'utf8'), file);
      expect(definition).not.toBeNull();
      const machine = readFileSync(join(ROOT, 'machines', `${definition!.id}.json`), 'utf8');
      expect(machine).toBe(machineJson(definition!));
    });
  }
});

describe('ledgerflow validate / compile / schema', () => {
  it('validates the example (unchanged, from the shared examples) with its warnings, and --strict turns them into errors', async () => {
    const ok = await cli(['validate', EXAMPLE]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/inventory-validation\.workflow\.yaml:\d+:\d+: warning: decision case FAIL_SOFT/);
    // Its failure_workflow steps are the built-in ones (a failure handler run of their own): nothing to warn about.
    expect(ok.stderr).not.toMatch(/failure_workflow/);
    const strict = await cli(['validate', '--strict', EXAMPLE]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/:\d+:\d+: error: decision case FAIL_SOFT/);
  });

  it('type: HUMANN: one error naming HUMAN, no "approvers is ignored on SIMPLE task" warning', async () => {
    const dir = tempDir();
    const file = join(dir, 'sign.yaml');
    writeFileSync(
      file,
      'workflow:\n  id: sign\n  name: Sign\n  version: 1\n  tasks:\n    - id: sign\n      type: HUMANN\n      approvers: [alice]\n',
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${file}:7:13: error: workflow.tasks[0].type: expected one of SIMPLE, DECISION, HUMAN, FORK, JOIN, DO_WHILE, WAIT, SUB_WORKFLOW, MAP, TERMINATE, SET, EMIT, COMMAND, HTTP, TRANSFORM, FORK_DYNAMIC, got "HUMANN"; did you mean "HUMAN"?`,
    ]);
  });

  it('reports every problem of a file at once with its line and column', async () => {
    const dir = tempDir();
    const file = join(dir, 'many.yaml');
    writeFileSync(
      file,
      [
        'workflow:',
        '  id: many',
        '  name: Many problems',
        '  version: 1',
        '  tasks:',
        '    - id: a',
        '      type: SIMPLE',
        '      depends_on: [ghost]',
        '    - id: a',
        '      type: SIMPLE',
        '    - id: c',
        '      type: SIMPLE',
        '      retry_policy: { max_attempts: 2, backoff: sometimes }',
        '',
      ].join('\n'),
    );
    const r = await cli(['validate', file, '--json']);
    expect(r.code).toBe(2);
    const [result] = JSON.parse(r.stdout);
    const where = result.diagnostics
      .filter((d: { severity: string }) => d.severity === 'error')
      .map((d: { line: number }) => d.line)
      .sort((a: number, b: number) => a - b);
    expect(where).toEqual([8, 9, 13]);
  });

  it('compile writes machines/<id>.json and --check fails when it is stale', async () => {
    const out = tempDir();
    const r = await cli(['compile', EXAMPLE, '--out', out]);
    expect(r.code).toBe(0);
    const machine = JSON.parse(readFileSync(join(out, 'inventory-validation-v1.json'), 'utf8'));
    expect(machine.id).toBe('inventory-validation-v1');
    expect(Object.keys(machine.states.running.states)).toEqual([
      'scan_files',
      'load_policy',
      'validate_compliance',
      'decision_gate',
      'generate_receipt',
      'alert_cmd_bridge',
    ]);
    expect((await cli(['compile', EXAMPLE, '--out', out, '--check'])).code).toBe(0);
    writeFileSync(join(out, 'inventory-validation-v1.json'), '{}\n');
    const stale = await cli(['compile', EXAMPLE, '--out', out, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/✗ stale/);
  });

  it('schema prints a JSON Schema an editor can use', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(JSON.stringify(schema)).toContain('decision_cases');
  });
});
