/**
 * The one-liners as users write them (docs/runs.md, docs/library.md): `start inventory-validation-v1
 * --target_folder 0UT.3OX` with no policy_file, inputs as inline JSON (`--input '{"n": 4}'`) and from stdin
 * (`--input-file -`) on `run` and `start`, a bad one refused naming the flag and the fix, and `start
 * --notifications` taken as `run` takes it. Real CLI processes.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, ROOT, storeFiles, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

/** A folder as a user has it: a delivery folder 0UT.3OX (the sample's files), nothing else. */
function station(): string {
  const dir = tempDir('lf-oneliner-');
  cpSync(join(ROOT, 'definitions', 'samples', '0UT.3OX'), join(dir, '0UT.3OX'), { recursive: true });
  rmSync(join(dir, '0UT.3OX', 'VALIDATION.RECEIPT.yaml'), { force: true });
  return dir;
}

const COUNT = `workflow:
  id: count
  version: 1
  input:
    required:
      - n: { type: number }
    optional:
      - label: none
  tasks:
    - id: say
      type: COMMAND
      command: [echo, "n=\${workflow.input.n} label=\${workflow.input.label}"]
`;

/** A project with definitions/count.yaml (start finds it by its id). */
function project(): string {
  const dir = tempDir('lf-oneliner-');
  mkdirSync(join(dir, 'definitions'));
  writeFileSync(join(dir, 'definitions', 'count.yaml'), COUNT);
  return dir;
}

describe('start inventory-validation-v1 --target_folder 0UT.3OX', () => {
  it('runs without a policy_file: the bundled default policy, the receipt in the folder', async () => {
    const dir = station();
    const r = await cli(['start', 'inventory-validation-v1', '--target_folder', '0UT.3OX', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view).toMatchObject({ workflowId: 'inventory-validation-v1', status: 'COMPLETED' });
    expect(view.tasks.load_policy.output).toMatchObject({
      policy_source: 'bundled',
      required_files: ['README.md', 'LICENSE', 'manifest.yaml'],
    });
    expect(parse(readFileSync(join(dir, '0UT.3OX', 'VALIDATION.RECEIPT.yaml'), 'utf8')).receipt).toMatchObject({
      folder: '0UT.3OX',
      compliance_status: 'PASS',
    });
  });

  it("takes the station's .3ox.index/POLICY/ file when there is one: a stricter policy fails strictly and waits for the commander", async () => {
    const dir = station();
    mkdirSync(join(dir, '.3ox.index', 'POLICY'), { recursive: true });
    writeFileSync(
      join(dir, '.3ox.index', 'POLICY', 'INVENTORY.POLICY.yaml'),
      'required_files: [README.md, SIGNED.txt]\n',
    );
    const r = await cli(['start', 'inventory-validation-v1', '--target_folder', '0UT.3OX', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    const view = JSON.parse(r.stdout);
    expect(view.tasks.load_policy.output.policy_source).toBe(join('.3ox.index', 'POLICY', 'INVENTORY.POLICY.yaml'));
    expect(view.tasks.validate_compliance.output).toMatchObject({
      compliance_status: 'FAIL_STRICT',
      violations: ['SIGNED.txt missing'],
    });
    expect(view.tasks.alert_cmd_bridge.status).toBe('PENDING_APPROVAL');
  });
});

describe("docs/bridge.md's first line: @workflow inventory-validation-v1 target_folder=0UT.3OX", () => {
  it('starts the run and answers ok, with no policy_file given', async () => {
    const dir = station();
    const r = await cli(['bridge', '--json'], {
      cwd: dir,
      stdin: '@workflow inventory-validation-v1 target_folder=0UT.3OX\n',
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n')[0]!)).toMatchObject({
      line: 1,
      ok: true,
      workflowId: 'inventory-validation-v1',
    });
    await waitFor('the receipt', () => existsSync(join(dir, '0UT.3OX', 'VALIDATION.RECEIPT.yaml')));
  });
});

describe('inputs as inline JSON and from stdin', () => {
  it('run and start take --input \'{"n": 4}\' and --input-file - (stdin), typed as declared; a --<name> flag wins over both', async () => {
    const dir = project();
    const runInline = await cli(['run', 'definitions/count.yaml', '--input', '{"n": 4}', '--json'], { cwd: dir });
    expect(runInline.code, runInline.stderr).toBe(0);
    expect(JSON.parse(runInline.stdout)).toMatchObject({ status: 'COMPLETED', input: { n: 4, label: 'none' } });
    const startInline = await cli(['start', 'count', '--input', '{"n": 5, "label": "inline"}', '--json'], { cwd: dir });
    expect(startInline.code, startInline.stderr).toBe(0);
    expect(JSON.parse(startInline.stdout)).toMatchObject({ status: 'COMPLETED', input: { n: 5, label: 'inline' } });
    const runStdin = await cli(['run', 'definitions/count.yaml', '--input-file', '-', '--json'], {
      cwd: dir,
      stdin: '{"n": 6}\n',
    });
    expect(runStdin.code, runStdin.stderr).toBe(0);
    expect(JSON.parse(runStdin.stdout)).toMatchObject({ status: 'COMPLETED', input: { n: 6 } });
    const startStdin = await cli(['start', 'count', '--input-file', '-', '--label', 'flag', '--json'], {
      cwd: dir,
      stdin: 'n: 7\nlabel: yaml\n',
    });
    expect(startStdin.code, startStdin.stderr).toBe(0);
    expect(JSON.parse(startStdin.stdout)).toMatchObject({ status: 'COMPLETED', input: { n: 7, label: 'flag' } });
  });

  it('refuses bad JSON, an array and a bad stdin with exit 2, naming the flag and how to write it; nothing is started', async () => {
    const dir = project();
    const store = join(dir, 'store');
    const bad = await cli(['--store', store, 'run', 'definitions/count.yaml', '--input', '{n: 4}'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--input is not JSON: .*; pass the inputs as a JSON object in single quotes, e\.g\. --input '\{"n": 4\}'/,
    );
    const list = await cli(['--store', store, 'start', 'count', '--input', '[4]'], { cwd: dir });
    expect(list.code).toBe(2);
    expect(list.stderr).toMatch(
      /--input must hold an object of input names to values, got an array; pass e\.g\. --input '\{"n": 4\}'/,
    );
    const stdin = await cli(['--store', store, 'run', 'definitions/count.yaml', '--input-file', '-'], {
      cwd: dir,
      stdin: '4\n',
    });
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toMatch(/--input-file - \(stdin\) must hold an object of input names to values, got number/);
    expect(storeFiles(store)).toEqual([]);
  });
});

describe('start --notifications', () => {
  it("is taken as run takes it: the webhook gets the run's COMPLETED; with --detach it is refused, naming serve", async () => {
    const dir = project();
    const got: string[] = [];
    const hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        got.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    try {
      const addr = hooks.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      writeFileSync(
        join(dir, 'notifications.yaml'),
        `notifications:\n  - on: [COMPLETED]\n    webhook: http://127.0.0.1:${port}/done\n`,
      );
      const r = await cli(['start', 'count', '--n', '4', '--notifications', 'notifications.yaml', '--json'], {
        cwd: dir,
      });
      expect(r.code, r.stderr).toBe(0);
      const { runId } = JSON.parse(r.stdout);
      await waitFor('the COMPLETED notification', () =>
        got.some((b) => JSON.parse(b).runId === runId && JSON.parse(b).status === 'COMPLETED'),
      );
      const detached = await cli(['start', 'count', '--n', '4', '--detach', '--notifications', 'notifications.yaml'], {
        cwd: dir,
      });
      expect(detached.code).toBe(2);
      expect(detached.stderr).toContain('ledgerflow serve --notifications <file>');
      expect(existsSync(join(dir, '.ledgerflow', 'runs')) ? storeFiles(join(dir, '.ledgerflow')).length : 0).toBe(1);
    } finally {
      hooks.close();
    }
  });
});
