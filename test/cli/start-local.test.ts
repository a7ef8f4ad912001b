/**
 * `ledgerflow start <id>` on the embedded store, as seeds 000 and 002 write
 * it (`workflow start inventory-validation-v1 --target_folder "0UT.3OX"
 * --policy_file …`, with ledgerflow for `workflow`): the definition found by
 * its id in the project's definitions/, else among the bundled ones, and run
 * here; `--detach` leaves it to serve (or resume); an id defined twice, or
 * by nothing, is refused naming the files. Real CLI processes, no NATS.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, storeFiles, tempDir } from '../helpers/cli.js';

function project(): string {
  const cwd = tempDir();
  cpSync(join(ROOT, 'definitions', 'samples', '0UT.3OX'), join(cwd, '0UT.3OX'), { recursive: true });
  // A receipt an earlier run wrote into the clone's sample folder is not this test's.
  rmSync(join(cwd, '0UT.3OX', 'VALIDATION.RECEIPT.yaml'), { force: true });
  copyFileSync(join(ROOT, 'definitions', 'samples', 'INVENTORY.POLICY.yaml'), join(cwd, 'INVENTORY.POLICY.yaml'));
  return cwd;
}

describe('start <id> on the embedded store', () => {
  it("the seed's line: start inventory-validation-v1 --target_folder 0UT.3OX runs the bundled definition here; status and list show it", async () => {
    const cwd = project();
    const r = await cli(
      [
        '--store',
        'store',
        'start',
        'inventory-validation-v1',
        '--target_folder',
        '0UT.3OX',
        '--policy_file',
        'INVENTORY.POLICY.yaml',
        '--json',
      ],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view).toMatchObject({
      workflowId: 'inventory-validation-v1',
      status: 'COMPLETED',
      tasks: { generate_receipt: { status: 'COMPLETED' } },
    });
    expect(existsSync(join(cwd, '0UT.3OX', 'VALIDATION.RECEIPT.yaml'))).toBe(true);
    const status = await cli(['--store', 'store', 'status', view.runId], { cwd });
    expect(status.stdout).toContain('COMPLETED');
    const list = await cli(['--store', 'store', 'list'], { cwd });
    expect(list.stdout).toContain(view.runId);
  }, 60_000);

  it("the project's definitions/ comes first (its newest version), @version picks one; an id nobody defines is refused", async () => {
    const cwd = project();
    mkdirSync(join(cwd, 'definitions'));
    const flow = (v: number, word: string) =>
      `workflow:\n  id: greet\n  version: ${v}\n  tasks:\n    - { id: say, type: COMMAND, command: [echo, ${word}] }\n`;
    writeFileSync(join(cwd, 'definitions', 'greet-1.yaml'), flow(1, 'one'));
    writeFileSync(join(cwd, 'definitions', 'greet-2.yaml'), flow(2, 'two'));
    const newest = JSON.parse((await cli(['--store', 'store', 'start', 'greet', '--json'], { cwd })).stdout);
    expect(newest).toMatchObject({ version: 2, status: 'COMPLETED', tasks: { say: { output: { stdout: 'two\n' } } } });
    const first = JSON.parse((await cli(['--store', 'store', 'start', 'greet@1', '--json'], { cwd })).stdout);
    expect(first).toMatchObject({ version: 1, tasks: { say: { output: { stdout: 'one\n' } } } });
    // A file's name finds it too (the seed's file is inventory-validation.yaml, its id inventory-validation-v1).
    expect(JSON.parse((await cli(['--store', 'store', 'start', 'greet-1', '--json'], { cwd })).stdout)).toMatchObject({
      version: 1,
    });

    const none = await cli(['--store', 'store', 'start', 'nobody'], { cwd });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no definition of nobody in \.\/definitions or among the bundled ones/);
    const noVersion = await cli(['--store', 'store', 'start', 'greet@9'], { cwd });
    expect(noVersion.code).toBe(2);
  }, 60_000);

  it('two files with one id and version are refused naming both, and nothing is started', async () => {
    const cwd = project();
    mkdirSync(join(cwd, 'definitions'));
    const flow = 'workflow:\n  id: twice\n  tasks:\n    - { id: a, type: COMMAND, command: [echo, a] }\n';
    writeFileSync(join(cwd, 'definitions', 'a.yaml'), flow);
    writeFileSync(join(cwd, 'definitions', 'b.yaml'), flow);
    const r = await cli(['--store', 'store', 'start', 'twice'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/twice is defined by 2 files in definitions: definitions\/a\.yaml, definitions\/b\.yaml/);
    expect(storeFiles(join(cwd, 'store'))).toEqual([]);
  }, 60_000);

  it('--detach records the start and prints the id; resume runs it here', async () => {
    const cwd = project();
    const r = await cli(
      [
        '--store',
        'store',
        'start',
        'inventory-validation-v1',
        '--target_folder',
        '0UT.3OX',
        '--policy_file',
        'INVENTORY.POLICY.yaml',
        '--detach',
        '--json',
      ],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    const { runId, status } = JSON.parse(r.stdout);
    expect(status).toBe('RUNNING');
    expect(existsSync(join(cwd, '0UT.3OX', 'VALIDATION.RECEIPT.yaml'))).toBe(false);
    const resumed = await cli(['--store', 'store', 'resume', runId, '--json'], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe('COMPLETED');
    expect(readFileSync(join(cwd, '0UT.3OX', 'VALIDATION.RECEIPT.yaml'), 'utf8')).toContain('PASS');
  }, 60_000);
});
