import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, EXAMPLE, ROOT, storeFiles, tempDir } from '../helpers/cli.js';
import { expectEveryRunReplays } from '../helpers/cli.js';

const BUNDLED = join(ROOT, 'definitions', 'inventory-validation.yaml');
const SAMPLES = join(ROOT, 'definitions', 'samples');

/** A copy of a sample folder in `dir` (the receipt is written into the folder it covers; the repository's samples stay as they are). */
function sample(dir: string, name = '0UT.3OX', from = '0UT.3OX'): string {
  cpSync(join(SAMPLES, from), join(dir, name), { recursive: true });
  return join(dir, name);
}

afterAll(async () => {
  // Replay equals the live state for every run these tests made.
  expect(await expectEveryRunReplays()).toBeGreaterThan(3);
});

describe('ledgerflow run: the seed inventory validation, as a new user runs it', () => {
  it('scans the folder, checks the policy, writes VALIDATION.RECEIPT.yaml and exits 0', async () => {
    const cwd = tempDir();
    const store = join(cwd, 'store');
    sample(cwd);
    const r = await cli(
      [
        '--store',
        store,
        'run',
        BUNDLED,
        '--target_folder',
        '0UT.3OX',
        '--policy_file',
        join(SAMPLES, 'INVENTORY.POLICY.yaml'),
      ],
      { cwd },
    );
    // The bundled copy keeps the example's flaw, reported as a warning with its place: a case naming no task (its failure steps are the built-in ones).
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/inventory-validation\.yaml:\d+:\d+: warning: decision case FAIL_SOFT/),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ scan_files/);
    expect(r.stdout).toMatch(/◆ decision_gate chose PASS → generate_receipt/);
    expect(r.stdout).toMatch(/⊘ alert_cmd_bridge skipped/);
    const receipt = parse(readFileSync(join(cwd, '0UT.3OX', 'VALIDATION.RECEIPT.yaml'), 'utf8'));
    expect(receipt.receipt).toMatchObject({
      folder: '0UT.3OX',
      workflow: 'inventory-validation-v1',
      compliance_status: 'PASS',
      violations: [],
    });
  });

  it('writes each folder its own receipt, naming it, and a second run sees the same files (the receipt is not scanned)', async () => {
    const cwd = tempDir();
    const store = join(cwd, 'store');
    const [a, b] = [sample(cwd, 'depot-a'), sample(cwd, 'depot-b')];
    writeFileSync(join(b, 'EXTRA.md'), 'only in b\n');
    const run = async (folder: string) => {
      const r = await cli(
        [
          '--store',
          store,
          'run',
          BUNDLED,
          '--target_folder',
          folder,
          '--policy_file',
          join(SAMPLES, 'INVENTORY.POLICY.yaml'),
          '--json',
        ],
        { cwd },
      );
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const [ra, rb] = [await run(a), await run(b)];
    const receiptOf = (folder: string) => parse(readFileSync(join(folder, 'VALIDATION.RECEIPT.yaml'), 'utf8')).receipt;
    expect(receiptOf(a)).toMatchObject({ folder: a, run_id: ra.runId, checked_files: 4 });
    expect(receiptOf(b)).toMatchObject({ folder: b, run_id: rb.runId, checked_files: 5 });
    expect(ra.tasks.generate_receipt.output.receipt_file).toBe(join(a, 'VALIDATION.RECEIPT.yaml'));
    // Nothing was written where the seed's declared path would have put it.
    expect(existsSync(join(cwd, '0UT.3OX'))).toBe(false);
    // Again over a: its receipt is there now, and left out of the scan.
    expect(readdirSync(a)).toContain('VALIDATION.RECEIPT.yaml');
    const again = await run(a);
    expect(again.tasks.scan_files.output.file_list).toEqual(ra.tasks.scan_files.output.file_list);
    expect(receiptOf(a)).toMatchObject({ folder: a, run_id: again.runId, checked_files: 4 });
  });

  it('with --commit-window, the same run lands in fewer commits and replays the same', async () => {
    const cwd = tempDir();
    const store = join(cwd, 'store');
    const args = (extra: string[]) => [
      '--store',
      store,
      'run',
      BUNDLED,
      '--target_folder',
      sample(cwd, `0UT.3OX-${extra.length}`),
      '--policy_file',
      join(SAMPLES, 'INVENTORY.POLICY.yaml'),
      '--json',
      ...extra,
    ];
    const strict = await cli(args([]), { cwd });
    const grouped = await cli(args(['--commit-window', '2s']), { cwd });
    expect([strict.code, grouped.code]).toEqual([0, 0]);
    const [a, b] = [JSON.parse(strict.stdout), JSON.parse(grouped.stdout)];
    expect(b.status).toBe('COMPLETED');
    expect(Object.fromEntries(Object.entries(b.tasks).map(([k, t]) => [k, (t as { status: string }).status]))).toEqual(
      Object.fromEntries(Object.entries(a.tasks).map(([k, t]) => [k, (t as { status: string }).status])),
    );
    const commits = (runId: string) =>
      readFileSync(join(store, 'runs', `${runId}.jsonl`), 'utf8')
        .trim()
        .split('\n').length;
    const eventsOf = async (runId: string) => (await cli(['--store', store, 'history', runId, '--json'])).stdout;
    expect(JSON.parse(await eventsOf(b.runId)).map((e: { type: string }) => e.type)).toEqual(
      JSON.parse(await eventsOf(a.runId)).map((e: { type: string }) => e.type),
    );
    // The handlers finish at once: after the start commit, one group holds the rest.
    expect(commits(b.runId)).toBe(2);
    expect(commits(a.runId)).toBeGreaterThan(4);
  });

  it('runs the example file unchanged with --handlers, and a failing policy waits for approval (exit 3)', async () => {
    const cwd = tempDir();
    const store = join(cwd, 'store');
    const policy = join(cwd, 'policy.yaml');
    await import('node:fs').then((fs) => fs.writeFileSync(policy, 'required_files: [README.md, SECURITY.md]\n'));
    const r = await cli(
      [
        '--store',
        store,
        'run',
        EXAMPLE,
        '--handlers',
        join(ROOT, 'definitions/handlers/inventory.ts'),
        '--target_folder',
        join(SAMPLES, '0UT.3OX'),
        '--policy_file',
        policy,
        '--json',
      ],
      { cwd },
    );
    expect(r.code).toBe(3);
    // The only warning of the example: its FAIL_SOFT case names a task that does not exist.
    expect(r.stderr).toMatch(
      /inventory-validation\.workflow\.yaml:\d+:\d+: warning: .*FAIL_SOFT.*generate_warning_receipt/,
    );
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('WAITING');
    expect(view.tasks.validate_compliance.output).toMatchObject({
      compliance_status: 'FAIL_STRICT',
      violations: ['SECURITY.md missing'],
    });
    expect(view.tasks.alert_cmd_bridge.status).toBe('PENDING_APPROVAL');
    expect(existsSync(join(cwd, '0UT.3OX'))).toBe(false);

    // As docs/getting-started.md's tour says: the approval is recorded and moves the run on in the same command,
    // and it says how the run ended (the approval of its last task settles it: no drive prints that line).
    const approve = await cli([
      '--store',
      store,
      'approve',
      view.runId,
      'alert_cmd_bridge',
      '--as',
      'commander',
      '--comment',
      'known gap',
    ]);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toMatch(/✓ approved alert_cmd_bridge for run \S+ as commander \(event \d+\)/);
    expect(approve.stdout).toContain(`run ${view.runId} COMPLETED`);
    const status = await cli(['--store', store, 'status', view.runId, '--json']);
    expect(JSON.parse(status.stdout).tasks.alert_cmd_bridge).toMatchObject({
      status: 'COMPLETED',
      output: { by: 'commander', comment: 'known gap' },
    });
    const again = await cli(['--store', store, 'resume', view.runId]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already COMPLETED; nothing to resume/);
  });
});

describe('ledgerflow run: bad usage exits 2, names the problem and writes nothing', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'a missing required input',
      ['--strict_mode', 'true'],
      /missing required input target_folder .*--target_folder <value>/,
    ],
    [
      'an unknown flag',
      ['--target_folder', 'x', '--policy_file', 'p', '--colour', 'red'],
      /unknown option --colour.*declared inputs: --target_folder, --policy_file, --strict_mode/,
    ],
    [
      'a value of the wrong type',
      ['--target_folder', 'x', '--policy_file', 'p', '--strict_mode', 'maybe'],
      /input strict_mode must be true or false, got "maybe"/,
    ],
    [
      'a --commit-window that is not a duration',
      ['--target_folder', 'x', '--policy_file', 'p', '--commit-window', 'soon'],
      /--commit-window soon is not a duration; use e\.g\. 20ms/,
    ],
    [
      'a --max-wait that is not a duration',
      ['--target_folder', 'x', '--policy_file', 'p', '--max-wait', 'a while'],
      /--max-wait a while is not a duration/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what}`, async () => {
      const store = tempDir();
      const r = await cli(['--store', store, 'run', BUNDLED, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(storeFiles(store)).toEqual([]);
    });
  }

  it('refuses a run id that does not exist, on every command that takes one', async () => {
    const store = tempDir();
    for (const args of [
      ['status', 'nope'],
      ['resume', 'nope'],
      ['history', 'nope'],
      ['replay', 'nope'],
      ['cancel', 'nope'],
      ['approve', 'nope', 't', '--as', 'a'],
    ]) {
      const r = await cli(['--store', store, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/run nope does not exist in this store/);
    }
    expect(storeFiles(store)).toEqual([]);
  });

  it('refuses an invalid definition with file:line:col and exit 2', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    await import('node:fs').then((fs) =>
      fs.writeFileSync(
        file,
        'workflow:\n  id: bad\n  name: Bad\n  version: 1\n  tasks:\n    - id: a\n      type: SIMPLE\n      depends_on: [ghost]\n',
      ),
    );
    const r = await cli(['--store', dir, 'run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:8:\d+: error: .*ghost/);
  });
});

describe('ledgerflow run: other ways in', () => {
  it('takes inputs from --input-file, the store from LEDGERFLOW_STORE, and fails a MAP over something that is not a list, with the error in its history', async () => {
    const cwd = tempDir();
    const fs = await import('node:fs');
    fs.writeFileSync(
      join(cwd, 'inputs.json'),
      JSON.stringify({ target_folder: sample(cwd), policy_file: join(SAMPLES, 'INVENTORY.POLICY.yaml') }),
    );
    const env = { LEDGERFLOW_STORE: join(cwd, 'envstore') };
    const r = await cli(['run', BUNDLED, '--input-file', join(cwd, 'inputs.json'), '--json'], { cwd, env });
    expect(r.code).toBe(0);
    expect(storeFiles(join(cwd, 'envstore'))).toEqual([`${JSON.parse(r.stdout).runId}.jsonl`]);

    fs.writeFileSync(
      join(cwd, 'later.yaml'),
      'workflow:\n  id: later\n  name: Later\n  version: 1\n  input: { optional: [list] }\n  tasks:\n    - { id: each, type: MAP, items: "${workflow.input.list}", iterator: body }\n    - { id: body, type: SIMPLE, handler: first }\n',
    );
    const w = await cli(['run', join(cwd, 'later.yaml'), '--handlers', join(ROOT, 'test/fixtures/handlers.mjs')], {
      cwd,
      env,
    });
    expect(w.code).toBe(1);
    expect(w.stdout + w.stderr).toMatch(/items of MAP task each .* not a list/);
    expect(storeFiles(join(cwd, 'envstore'))).toHaveLength(2);
  });

  it('replay --definition tells whether a new version can take over a recorded run', async () => {
    const cwd = tempDir();
    const fs = await import('node:fs');
    const v1 =
      'workflow:\n  id: evolve\n  name: E\n  version: 1\n  handlers: ' +
      join(ROOT, 'test/fixtures/handlers.mjs') +
      '\n  tasks:\n    - { id: first, type: SIMPLE }\n    - { id: last, type: SIMPLE, depends_on: [first] }\n';
    fs.writeFileSync(join(cwd, 'v1.yaml'), v1);
    fs.writeFileSync(
      join(cwd, 'v2.yaml'),
      v1.replace('version: 1', 'version: 2') + '    - { id: extra, type: SIMPLE, depends_on: [last] }\n',
    );
    fs.writeFileSync(
      join(cwd, 'v3.yaml'),
      v1
        .replace('version: 1', 'version: 3')
        .replace('{ id: first, type: SIMPLE }', '{ id: first, type: SIMPLE, depends_on: [last] }')
        .replace('{ id: last, type: SIMPLE, depends_on: [first] }', '{ id: last, type: SIMPLE }'),
    );
    const { runId } = JSON.parse((await cli(['--store', cwd, 'run', join(cwd, 'v1.yaml'), '--json'])).stdout);
    const ok = await cli(['--store', cwd, 'replay', runId, '--definition', join(cwd, 'v2.yaml')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/✓ evolve v2 could take over this run/);
    const bad = await cli(['--store', cwd, 'replay', runId, '--definition', join(cwd, 'v3.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ evolve v3 could not take over this run: event \d+/);
    // A definition of another workflow: said so, whatever its tasks (the same ones here).
    fs.writeFileSync(join(cwd, 'other.yaml'), v1.replace('id: evolve', 'id: another'));
    const other = await cli(['--store', cwd, 'replay', runId, '--definition', join(cwd, 'other.yaml')]);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain(
      '✗ another v1 could not take over this run: event 1 (run.started): it is workflow another and the run is of workflow evolve',
    );
  });
});
