/**
 * The execution log as seed 003's `monitoring:` block asks for it
 * (`log_to: ".3ox/workflow.execution.log"`, `report_frequency: per_task`),
 * in seed 000's lines, on the seed's own definition: a scan of a folder that
 * is not there fails three times with the seed's backoff, and the log says
 * each attempt, the error and the retry; `history --format log` prints the
 * same lines from the run's log. Then `per_run`, and a log_to outside the
 * project folder. Real CLI processes on the embedded store.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

const SEED = join(ROOT, 'definitions', 'inventory-validation.yaml');
const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

describe('the execution log (monitoring.log_to)', () => {
  it("the seed's definition: each attempt of scan_files, its error and its retry, in seed 000's words; history --format log prints the same lines", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'policy.yaml'), 'required_files: [README.md]\n');
    const run = await cli(
      ['--store', 'store', 'run', SEED, '--target_folder', 'no-such-folder', '--policy_file', 'policy.yaml', '--json'],
      { cwd },
    );
    expect(run.code, run.stderr).toBe(1);
    const runId = JSON.parse(run.stdout).runId as string;
    const written = readFileSync(join(cwd, '.3ox/workflow.execution.log'), 'utf8');
    const lines = written.trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(new RegExp(`^${TIME} `));
    const text = lines.map((l) => l.replace(new RegExp(`^${TIME} `), ''));
    expect(text[0]).toBe(`Workflow: inventory-validation-v1 run ${runId}`);
    const scan = text.filter((l) => l.includes('scan_files') || l.startsWith('    Error') || l.includes('Retrying'));
    expect(scan).toEqual([
      '  → Starting task: scan_files',
      '  ✗ Task failed: scan_files (attempt 1/3)',
      expect.stringMatching(/^ {4}Error: .*no-such-folder/),
      '  ⟳ Retrying in 1 second...',
      '  → Starting task: scan_files',
      '  ✗ Task failed: scan_files (attempt 2/3)',
      expect.stringMatching(/^ {4}Error: .*no-such-folder/),
      '  ⟳ Retrying in 2 seconds...',
      '  → Starting task: scan_files',
      '  ✗ Task failed: scan_files (attempt 3/3)',
      expect.stringMatching(/^ {4}Error: .*no-such-folder/),
    ]);
    expect(text.at(-1)).toMatch(/^✗ Workflow failed after \d+(\.\d)?s: /);

    const rebuilt = await cli(['--store', 'store', 'history', runId, '--format', 'log'], { cwd });
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toBe(written);
  }, 60_000);

  it("report_frequency: per_run says the run's start and end only; a log_to outside the project folder is refused with a warning, the run unaffected", async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'quiet.yaml'),
      'workflow:\n  id: quiet\n  tasks:\n    - { id: a, type: COMMAND, command: [echo, a] }\n    - { id: b, type: COMMAND, command: [echo, b], depends_on: [a] }\n  monitoring:\n    report_frequency: per_run\n    log_to: logs/quiet.log\n',
    );
    const run = await cli(['--store', 'store', 'run', 'quiet.yaml', '--json'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const runId = JSON.parse(run.stdout).runId as string;
    const text = readFileSync(join(cwd, 'logs/quiet.log'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.replace(new RegExp(`^${TIME} `), ''));
    expect(text).toEqual([
      `Workflow: quiet run ${runId}`,
      expect.stringMatching(/^✓ Workflow completed in \d+(\.\d)?m?s$/),
    ]);

    writeFileSync(
      join(cwd, 'away.yaml'),
      'workflow:\n  id: away\n  tasks:\n    - { id: a, type: COMMAND, command: [echo, a] }\n  monitoring:\n    log_to: ../away.log\n',
    );
    const away = await cli(['--store', 'store', 'run', 'away.yaml'], { cwd });
    expect(away.code).toBe(0);
    expect(away.stderr).toMatch(
      /warning: away's monitoring\.log_to \.\.\/away\.log is outside the project folder .*: no execution log is written for run \S+/,
    );
    expect(existsSync(join(cwd, '..', 'away.log'))).toBe(false);
  }, 60_000);

  it('a log_to through a symlink to a folder (or file) outside the project is refused as ../x is: the same warning, nothing written outside, the run unaffected', async () => {
    const cwd = tempDir();
    const elsewhere = tempDir('lf-elsewhere-');
    symlinkSync(elsewhere, join(cwd, 'logs'));
    writeFileSync(
      join(cwd, 'linked.yaml'),
      'workflow:\n  id: linked\n  tasks:\n    - { id: a, type: COMMAND, command: [echo, a] }\n  monitoring:\n    log_to: logs/exec.log\n',
    );
    const run = await cli(['--store', 'store', 'run', 'linked.yaml', '--json'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const runId = JSON.parse(run.stdout).runId as string;
    expect(run.stderr).toContain(
      `warning: linked's monitoring.log_to logs/exec.log is outside the project folder ${cwd}: no execution log is written for run ${runId}`,
    );
    expect(readdirSync(elsewhere)).toEqual([]);

    // A file named in the project that is a link to a file elsewhere: not written through either.
    mkdirSync(join(cwd, 'own'));
    writeFileSync(join(elsewhere, 'victim.log'), 'untouched\n');
    symlinkSync(join(elsewhere, 'victim.log'), join(cwd, 'own', 'exec.log'));
    writeFileSync(
      join(cwd, 'file-link.yaml'),
      'workflow:\n  id: file-link\n  tasks:\n    - { id: a, type: COMMAND, command: [echo, a] }\n  monitoring:\n    log_to: own/exec.log\n',
    );
    const second = await cli(['--store', 'store', 'run', 'file-link.yaml', '--json'], { cwd });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(
      /warning: file-link's monitoring\.log_to own\/exec\.log is outside the project folder .*: no execution log is written for run \S+/,
    );
    expect(readFileSync(join(elsewhere, 'victim.log'), 'utf8')).toBe('untouched\n');

    // A folder of the project's own, linked inside it: written, as any path inside.
    mkdirSync(join(cwd, 'real-logs'));
    symlinkSync(join(cwd, 'real-logs'), join(cwd, 'inside'));
    writeFileSync(
      join(cwd, 'inside.yaml'),
      'workflow:\n  id: inside\n  tasks:\n    - { id: a, type: COMMAND, command: [echo, a] }\n  monitoring:\n    log_to: inside/exec.log\n',
    );
    const third = await cli(['--store', 'store', 'run', 'inside.yaml', '--json'], { cwd });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toContain('outside the project folder');
    expect(readFileSync(join(cwd, 'real-logs', 'exec.log'), 'utf8')).toContain(
      `Workflow: inside run ${JSON.parse(third.stdout).runId as string}`,
    );
  }, 60_000);

  it('an approval recorded by another command is logged by the process that records it, after the lines of the run that waited', async () => {
    const cwd = tempDir();
    cpSync(join(ROOT, 'definitions', 'samples', '0UT.3OX'), join(cwd, '0UT.3OX'), { recursive: true });
    writeFileSync(join(cwd, 'strict.yaml'), 'required_files: [README.md, SECURITY.md]\n');
    const run = await cli(
      ['--store', 'store', 'run', SEED, '--target_folder', '0UT.3OX', '--policy_file', 'strict.yaml', '--json'],
      { cwd },
    );
    expect(run.code).toBe(3);
    const runId = JSON.parse(run.stdout).runId as string;
    expect(
      (
        await cli(
          ['--store', 'store', 'approve', runId, 'alert_cmd_bridge', '--as', 'commander', '--comment', 'known gap'],
          { cwd },
        )
      ).code,
    ).toBe(0);
    const written = readFileSync(join(cwd, '.3ox/workflow.execution.log'), 'utf8');
    const text = written
      .trimEnd()
      .split('\n')
      .map((l) => l.replace(new RegExp(`^${TIME} `), ''));
    expect(text).toContain('  ◆ Decision: decision_gate chose FAIL_STRICT → alert_cmd_bridge');
    expect(text).toContain('  ⏸ Waiting for approval: alert_cmd_bridge');
    expect(text.indexOf('  ✓ Approved: alert_cmd_bridge by commander (known gap)')).toBeGreaterThan(
      text.indexOf('  ⏸ Waiting for approval: alert_cmd_bridge'),
    );
    expect(text.at(-1)).toMatch(/^✓ Workflow completed in /);
    expect((await cli(['--store', 'store', 'history', runId, '--format', 'log'], { cwd })).stdout).toBe(written);
  }, 60_000);
});
