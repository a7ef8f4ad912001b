/**
 * COMMAND tasks through the CLI (the built bin): the seed's inventory
 * validation as shell scripts gives the compliance result the TypeScript
 * handlers give, a missing program and a flood of output are what history
 * shows, and --command-output-limit sets the cap. The PowerShell variant runs
 * only where `pwsh` is installed (skipped otherwise: Debian does not ship it).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, ROOT, storeFiles, tempDir } from '../helpers/cli.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(3);
});

const hasPwsh =
  spawnSync('pwsh', ['-NoProfile', '-Command', '$PSVersionTable.PSVersion.Major'], { encoding: 'utf8' }).status === 0;

interface View {
  runId: string;
  status: string;
  output: Record<string, unknown>;
  tasks: Record<
    string,
    { status: string; output: Record<string, unknown>; error: { code: string; message: string } | null }
  >;
}

/** The compliance result of a run of an inventory validation: what the decision and the receipt are made of. */
function compliance(view: View) {
  const { compliance_status, violations, compliance_score, checked_files } = view.tasks.validate_compliance!.output;
  return {
    compliance_status,
    violations,
    compliance_score,
    checked_files,
    decision: view.tasks.generate_receipt!.status,
    approval: view.tasks.alert_cmd_bridge!.status,
  };
}

/** Runs a bundled inventory validation in a scratch directory (where its receipt goes) against a sample folder and a policy. */
async function validate(
  file: string,
  policy: string,
  folder = join(ROOT, 'definitions/samples/0UT.3OX'),
): Promise<{ view: View; cwd: string; store: string }> {
  const cwd = tempDir('lf-cmd-inv-');
  const store = join(cwd, 'store');
  const r = await cli(
    [
      '--store',
      store,
      'run',
      join(ROOT, 'definitions', file),
      '--target_folder',
      folder,
      '--policy_file',
      policy,
      '--json',
    ],
    { cwd },
  );
  expect([0, 1, 3], r.stderr).toContain(r.code);
  return { view: JSON.parse(r.stdout) as View, cwd, store };
}

describe('the inventory validation as COMMAND tasks', () => {
  const written = (file: string, text: string) => {
    writeFileSync(file, text);
    return file;
  };
  const policies = (dir: string) => ({
    sample: join(ROOT, 'definitions/samples/INVENTORY.POLICY.yaml'),
    strict: written(
      join(dir, 'strict.yaml'),
      'required_files: [README.md, SECURITY.md]\nforbidden_files:\n  - "LICENSE"   # for the test\n',
    ),
    soft: written(join(dir, 'soft.yaml'), 'recommended_files:\n  - docs/CHANGELOG.md\n  - CONTRIBUTING.md\n'),
  });

  it('gives the same compliance result as the TypeScript handlers on the sample folder with a strict and a soft policy', async () => {
    const dir = tempDir('lf-cmd-pol-');
    // The sample policy on (a copy of) the sample folder is the next test's: the same two runs, made once.
    const { sample: _sample, ...others } = policies(dir);
    for (const [name, policy] of Object.entries(others)) {
      const ts = await validate('inventory-validation.yaml', policy);
      const sh = await validate('inventory-validation-sh.yaml', policy);
      expect(compliance(sh.view), name).toEqual(compliance(ts.view));
      expect(sh.view.status, name).toBe(ts.view.status);
    }
  }, 120_000);

  it("gives the TypeScript handlers' result on the sample folder and policy, and writes the receipt where they do: <target folder>/VALIDATION.RECEIPT.yaml naming the folder, left out of the next scan", async () => {
    const policy = join(ROOT, 'definitions/samples/INVENTORY.POLICY.yaml');
    const root = tempDir('lf-cmd-rcpt-');
    const [north, south] = [join(root, 'north', '0UT.3OX'), join(root, 'south', '0UT.3OX')];
    for (const f of [north, south]) cpSync(join(ROOT, 'definitions/samples/0UT.3OX'), f, { recursive: true });
    // In north the TypeScript handler first: its receipt is in the folder when the script scans it, and must not be counted.
    // South (a folder of its own) meanwhile.
    const [[ts, tsReceipt, shNorth], shSouth] = await Promise.all([
      (async () => {
        const t = await validate('inventory-validation.yaml', policy, north);
        const receipt = parse(readFileSync(join(north, 'VALIDATION.RECEIPT.yaml'), 'utf8')) as {
          receipt: Record<string, unknown>;
        };
        return [t, receipt, await validate('inventory-validation-sh.yaml', policy, north)] as const;
      })(),
      validate('inventory-validation-sh.yaml', policy, south),
    ]);
    expect(tsReceipt.receipt).toMatchObject({ folder: north, run_id: ts.view.runId });
    expect(compliance(ts.view)).toEqual({
      compliance_status: 'PASS',
      violations: [],
      compliance_score: 100,
      checked_files: 4,
      decision: 'COMPLETED',
      approval: 'SKIPPED',
    });
    for (const [folder, sh] of [
      [north, shNorth],
      [south, shSouth],
    ] as const) {
      expect(compliance(sh.view)).toEqual(compliance(ts.view));
      expect(sh.view.status).toBe(ts.view.status);
      expect(sh.view.tasks.scan_files!.output.file_list).toEqual(
        [...(ts.view.tasks.scan_files!.output.file_list as string[])].sort(),
      );
      expect(sh.view.tasks.scan_files!.output.file_list).not.toContain('VALIDATION.RECEIPT.yaml');
      expect(sh.view.tasks.generate_receipt!.output.receipt_file).toBe(join(folder, 'VALIDATION.RECEIPT.yaml'));
      const receipt = parse(readFileSync(join(folder, 'VALIDATION.RECEIPT.yaml'), 'utf8')) as {
        receipt: Record<string, unknown>;
      };
      expect(receipt.receipt).toMatchObject({
        workflow: 'inventory-validation-sh',
        run_id: sh.view.runId,
        folder,
        compliance_status: 'PASS',
        compliance_score: 100,
        violations: [],
        checked_files: 4,
      });
      // Nothing beside the definitions or where ledgerflow ran.
      expect(existsSync(join(sh.cwd, '0UT.3OX'))).toBe(false);
      expect(existsSync(join(ROOT, 'definitions', '0UT.3OX'))).toBe(false);
    }
    // Each folder kept its own receipt.
    expect(parse(readFileSync(join(north, 'VALIDATION.RECEIPT.yaml'), 'utf8')).receipt.run_id).not.toBe(
      parse(readFileSync(join(south, 'VALIDATION.RECEIPT.yaml'), 'utf8')).receipt.run_id,
    );
    // A relative target folder: from where ledgerflow runs, and the receipt names it as given.
    const rel = await cli(
      [
        '--store',
        join(root, 'store'),
        'run',
        join(ROOT, 'definitions/inventory-validation-sh.yaml'),
        '--target_folder',
        'south/0UT.3OX',
        '--policy_file',
        policy,
        '--json',
      ],
      { cwd: root },
    );
    expect(rel.code, rel.stderr).toBe(0);
    expect(JSON.parse(rel.stdout).tasks.generate_receipt.output.receipt_file).toBe(
      'south/0UT.3OX/VALIDATION.RECEIPT.yaml',
    );
    expect(parse(readFileSync(join(south, 'VALIDATION.RECEIPT.yaml'), 'utf8')).receipt).toMatchObject({
      folder: 'south/0UT.3OX',
      checked_files: 4,
    });
  }, 120_000);

  it.skipIf(!hasPwsh)(
    'gives the same result with the PowerShell scripts (pwsh -File; skipped where pwsh is not installed)',
    async () => {
      const dir = tempDir('lf-cmd-pol-');
      for (const [name, policy] of Object.entries(policies(dir))) {
        const ts = await validate('inventory-validation.yaml', policy);
        const ps = await validate('inventory-validation-ps1.yaml', policy);
        expect(compliance(ps.view), name).toEqual(compliance(ts.view));
      }
    },
    180_000,
  );

  it("fails clearly, and says so in history, when the folder does not exist (the script's stderr)", async () => {
    const { view, store } = await validate(
      'inventory-validation-sh.yaml',
      join(ROOT, 'definitions/samples/INVENTORY.POLICY.yaml'),
      'no/such/folder',
    );
    expect(view.status).toBe('FAILED');
    expect(view.tasks.scan_files!.error).toMatchObject({ code: 'LF_COMMAND_EXIT' });
    const history = (await cli(['--store', store, 'history', view.runId])).stdout;
    expect(history).toContain('target folder no/such/folder does not exist or is not a folder');
  }, 60_000);
});

describe('COMMAND tasks from the CLI', () => {
  it('a program that does not exist fails the task, not retried, and history names the program', async () => {
    const dir = tempDir('lf-cmd-cli-');
    writeFileSync(
      join(dir, 'wf.yaml'),
      'workflow:\n  id: cmd-missing\n  tasks:\n    - id: convert\n      type: COMMAND\n      command: [magick-not-installed, in.png, out.jpg]\n      retry_policy: { max_attempts: 3 }\n',
    );
    const r = await cli(['--store', join(dir, 'store'), 'run', join(dir, 'wf.yaml'), '--json']);
    expect(r.code).toBe(1);
    const view = JSON.parse(r.stdout) as View;
    expect(view.tasks.convert).toMatchObject({ status: 'FAILED', error: { code: 'LF_COMMAND_NOT_FOUND' } });
    const history = (await cli(['--store', join(dir, 'store'), 'history', view.runId])).stdout;
    expect(history).toMatch(/program "magick-not-installed" was not found on PATH/);
  });

  it("a failing command's stderr of several lines is quoted on one readable line (⏎ between lines), not with a literal \\n", async () => {
    const dir = tempDir('lf-cmd-cli-');
    writeFileSync(
      join(dir, 'wf.yaml'),
      'workflow:\n  id: cmd-stderr\n  tasks:\n    - { id: boom, type: COMMAND, command: [sh, -c, "echo first line >&2; echo second line >&2; exit 3"] }\n',
    );
    const r = await cli(['--store', join(dir, 'store'), 'run', join(dir, 'wf.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ boom failed: command sh exited with code 3; stderr (last 2000 bytes at most): first line ⏎ second line\n',
    );
    expect(r.stdout).not.toContain('\\n');
  });

  it('a command printing 200 MB finishes with its output capped, and history shows the cap', async () => {
    const dir = tempDir('lf-cmd-cli-');
    writeFileSync(
      join(dir, 'wf.yaml'),
      `workflow:\n  id: cmd-flood\n  tasks:\n    - id: flood\n      type: COMMAND\n      command: [sh, -c, 'head -c ${200 * 1024 * 1024} /dev/zero | tr "\\\\0" x']\n`,
    );
    const r = await cli([
      '--store',
      join(dir, 'store'),
      'run',
      join(dir, 'wf.yaml'),
      '--command-output-limit',
      '64KiB',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as View;
    expect(view.tasks.flood!.output).toMatchObject({
      exit_code: 0,
      truncated: { stdout: 200 * 1024 * 1024 - 64 * 1024 },
    });
    expect((view.tasks.flood!.output.stdout as string).length).toBe(64 * 1024);
    expect(r.stderr).toContain(
      `output capped (stdout: ${200 * 1024 * 1024 - 64 * 1024} bytes past the 65536-byte cap dropped)`,
    );
    const history = JSON.parse(
      (await cli(['--store', join(dir, 'store'), 'history', view.runId, '--json'])).stdout,
    ) as { type: string; data: { output?: { truncated?: unknown } } }[];
    expect(history.find((e) => e.type === 'task.completed')?.data.output?.truncated).toEqual({
      stdout: 200 * 1024 * 1024 - 64 * 1024,
    });
    // The plain audit trail says it too: a reader of `history` must not take the kept 64 KiB for the whole output.
    const text = (await cli(['--store', join(dir, 'store'), 'history', view.runId])).stdout;
    expect(text).toMatch(
      new RegExp(
        `task\\.completed +flood attempt 1 +output capped: stdout ${200 * 1024 * 1024 - 64 * 1024} bytes dropped`,
      ),
    );
  }, 120_000);

  it('refuses a --command-output-limit that is not a size, before anything is written', async () => {
    const dir = tempDir('lf-cmd-cli-');
    cpSync(join(ROOT, 'definitions/inventory-validation-sh.yaml'), join(dir, 'wf.yaml'));
    const r = await cli([
      '--store',
      join(dir, 'store'),
      'run',
      join(dir, 'wf.yaml'),
      '--target_folder',
      '.',
      '--policy_file',
      'p.yaml',
      '--command-output-limit',
      'lots',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--command-output-limit lots is not a size; give bytes, e.g. 65536, 64KiB or 1MiB');
    expect(storeFiles(join(dir, 'store'))).toEqual([]);
  });

  it('a worker needs --handlers or --commands (or both)', async () => {
    const r = await cli(['--nats', 'nats://127.0.0.1:1', 'worker']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'a worker needs something to run: --handlers <module>, --commands (COMMAND tasks), --http (HTTP tasks), or several',
    );
  });
});
