/** `ledgerflow paths` and `ledgerflow test` through the real CLI: output shapes and exit codes. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

const flaky = [
  'workflow:',
  '  id: flaky',
  '  name: Flaky',
  '  version: 1',
  '  tasks:',
  '    - { id: fetch, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s }, timeout: 10s, output: [count] }',
  '    - { id: sign, type: HUMAN, depends_on: [fetch], approvers: [alice] }',
  '',
].join('\n');

describe('ledgerflow paths', () => {
  it('--json prints the paths with their events and outcome, coverage and what is not covered, with why', async () => {
    const r = await cli(['paths', 'definitions/inventory-validation.yaml', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['paths', 'coverage', 'uncovered', 'tasks', 'excluded']);
    expect(out.coverage).toEqual({
      states: { covered: 37, total: 37 },
      transitions: { covered: 32, total: 32 },
      decisionCases: { covered: 2, total: 3 },
    });
    expect(out.paths[0]).toMatchObject({ name: 'decision_gate=PASS → generate_receipt ✓', outcome: 'COMPLETED' });
    expect(out.paths[0].events[0]).toEqual({
      type: 'task.started',
      time: '2026-01-01T00:00:00.000Z',
      data: { task: 'scan_files', attempt: 1 },
    });
    expect(out.paths.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining([
        'scan_files retries then succeeds',
        'scan_files fails after 3 attempts → run FAILED',
        'scan_files times out on all 3 attempts → run FAILED',
      ]),
    );
    expect(out.uncovered).toEqual([
      expect.objectContaining({
        kind: 'decisionCase',
        task: 'decision_gate',
        item: 'FAIL_SOFT',
        code: 'LF_UNKNOWN_CASE_TARGET',
      }),
    ]);
    // The same problem, in the same words, as the validation warning printed on stderr.
    expect(r.stderr).toContain(out.uncovered[0].reason.split(' (path ')[0]);
  });

  it('prints a readable list with coverage per task', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'flaky.yaml'), flaky);
    const r = await cli(['paths', join(dir, 'flaky.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('flaky (');
    expect(r.stdout).toMatch(/fetch times out, then succeeds on retry {2}→ COMPLETED/);
    expect(r.stdout).toContain('sign rejected → run FAILED');
    expect(r.stdout).toMatch(/coverage: states \d+\/\d+ · transitions \d+\/\d+ · decision cases -/);
  });
});

describe('ledgerflow test', () => {
  it('runs every path and expectation of the bundled definitions: exit 0', async () => {
    const r = await cli([
      'test',
      'definitions/inventory-validation.yaml',
      'definitions/lead_qualification.yaml',
      'definitions/revenue_milestone.yaml',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 definitions: 32 paths, 17 expectations — all passed \(\d+\.\ds\)/);
    expect(r.stdout).toContain(
      '✓ expectation: a strict failure waits for the commander, whose approval completes the run',
    );
  });

  it('exit 1 when an expectation does not hold, naming it and how the run differs; --json for scripts', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'flaky.yaml'), flaky);
    mkdirSync(join(dir, 'expectations'));
    writeFileSync(
      join(dir, 'expectations', 'flaky.yaml'),
      [
        'expectations:',
        '  - name: two failures are one too many',
        '    attempts: { fetch: [fail, timeout] }',
        '    expect: { status: COMPLETED, tasks: { fetch: { status: COMPLETED, attempts: 2 } } }',
        '  - name: alice approves',
        '    expect: { status: COMPLETED, tasks: { sign: COMPLETED } }',
        '',
      ].join('\n'),
    );
    const text = await cli(['test', join(dir, 'flaky.yaml')]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('✗ expectation: two failures are one too many');
    expect(text.stdout).toContain('the run ended FAILED, expected COMPLETED');
    expect(text.stdout).toContain('task fetch is TIMED_OUT, expected COMPLETED');
    expect(text.stdout).toContain('✓ expectation: alice approves');
    const json = await cli(['test', join(dir, 'flaky.yaml'), '--json']);
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout);
    expect(out.failed).toBe(1);
    expect(out.files[0].expectations[0]).toMatchObject({
      name: 'two failures are one too many',
      ok: false,
      status: 'FAILED',
    });
    expect(out.files[0].paths.every((p: { ok: boolean }) => p.ok)).toBe(true);
  });

  it("a MAP over the workflow input whose items run its own handler (README's MAP shape): every path passes", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'scan.yaml'),
      [
        'workflow:',
        '  id: scan',
        '  name: Scan folders',
        '  version: 1',
        '  input:',
        '    required: [folders]',
        '  tasks:',
        '    - id: scan_each',
        '      type: MAP',
        '      items: "${workflow.input.folders}"',
        '      handler: scan_folder                 # called once per folder',
        '      input: { path: "${item}", position: "${index}" }',
        '      max_concurrency: 4',
        '      tolerate_failures: 1',
        '      retry_policy: { max_attempts: 3, initial_delay: 2s }',
        '      timeout: 5m',
        '    - id: report',
        '      type: SIMPLE',
        '      depends_on: [scan_each]',
        '      input: { scans: "${scan_each.output.results}" }',
        '',
      ].join('\n'),
    );
    const r = await cli(['test', join(dir, 'scan.yaml')]);
    expect(r.stdout).not.toContain('recorded nothing');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/1 definition: \d+ paths, 0 expectations — all passed/);
  });

  it('exit 2 for an invalid definition or expectations file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'workflow:\n  id: bad\n  tasks: []\n');
    writeFileSync(join(dir, 'flaky.yaml'), flaky);
    mkdirSync(join(dir, 'expectations'));
    writeFileSync(
      join(dir, 'expectations', 'flaky.yaml'),
      'expectations:\n  - name: x\n    outputs: { fetsh: {} }\n    expect: {}\n',
    );
    const r = await cli(['test', join(dir, 'bad.yaml'), join(dir, 'flaky.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.yaml');
    expect(r.stderr).toMatch(
      /expectations\/flaky\.yaml:3:16: expectations\[0\]\.outputs\.fetsh: flaky has no task "fetsh"/,
    );
  });
});
