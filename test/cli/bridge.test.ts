/**
 * `ledgerflow bridge` as docs/bridge.md tells a user to use it, with seed
 * 002's line (`@workflow inventory-validation-v1 target_folder=0UT.3OX`):
 * lines on standard input, each answered with one line; a bad line changes
 * nothing; @status, @approve (as the bridge's --as) and @cancel; and an
 * inbox folder whose files are taken once, answered into done/ or failed/.
 * Real CLI processes on the embedded store.
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, ROOT, spawnCli, storeFiles, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

function project(): string {
  const cwd = tempDir();
  cpSync(join(ROOT, 'definitions', 'samples', '0UT.3OX'), join(cwd, '0UT.3OX'), { recursive: true });
  rmSync(join(cwd, '0UT.3OX', 'VALIDATION.RECEIPT.yaml'), { force: true });
  copyFileSync(join(ROOT, 'definitions', 'samples', 'INVENTORY.POLICY.yaml'), join(cwd, 'INVENTORY.POLICY.yaml'));
  writeFileSync(join(cwd, 'strict.yaml'), 'required_files: [README.md, SECURITY.md]\n');
  return cwd;
}

/** A file dropped in an inbox as docs/bridge.md says: written under a dot name, then moved in whole. */
function drop(inbox: string, name: string, text: string): void {
  writeFileSync(join(inbox, `.${name}.part`), text);
  renameSync(join(inbox, `.${name}.part`), join(inbox, name));
}

/** `ledgerflow --store store bridge [args]` with `lines` on its standard input. */
function bridge(
  cwd: string,
  lines: string,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, '--store', 'store', 'bridge', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', LEDGERFLOW_STATE_FILE: 'off' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr }));
    child.stdin.end(lines);
  });
}

describe('ledgerflow bridge', () => {
  it("seed 002's line starts the run and the bridge drives it; each line answers one line; a bad line changes nothing", async () => {
    const cwd = project();
    const r = await bridge(
      cwd,
      [
        '@workflow inventory-validation-v1 target_folder=0UT.3OX policy_file=INVENTORY.POLICY.yaml',
        '',
        '# a comment answers nothing',
        '@workflow inventory-validation-v1 target_folder=0UT.3OX policy_file=INVENTORY.POLICY.yaml limit=5',
        '@workflow inventory-validation-v1 target_folder="0UT.3OX',
        'start inventory-validation-v1',
      ].join('\n'),
    );
    expect(r.code).toBe(1); // some line failed
    const answers = r.stdout.trimEnd().split('\n');
    expect(answers).toHaveLength(4);
    expect(answers[0]).toMatch(/^line 1: ok: run (\S+) started \(inventory-validation-v1 v1, RUNNING\)$/);
    expect(answers[1]).toMatch(/^line 4: error: unknown input "limit" for workflow inventory-validation-v1/);
    expect(answers[2]).toBe('line 5:49: error: the double quote here is never closed; nothing was done');
    expect(answers[3]).toBe(
      'line 6:1: error: a bridge line starts with @workflow, @status, @approve or @cancel, not "start"; nothing was done',
    );
    // The one run started, driven to its end before the bridge exits.
    const runId = /run (\S+) started/.exec(answers[0]!)![1]!;
    expect(storeFiles(join(cwd, 'store')).filter((f) => f.endsWith('.jsonl'))).toEqual([`${runId}.jsonl`]);
    expect(JSON.parse((await cli(['--store', 'store', 'status', runId, '--json'], { cwd })).stdout).status).toBe(
      'COMPLETED',
    );
    expect(existsSync(join(cwd, '0UT.3OX', 'VALIDATION.RECEIPT.yaml'))).toBe(true);
  }, 60_000);

  it('@status, @approve as --as, then @cancel of another; --json answers one object a line', async () => {
    const cwd = project();
    const first = await bridge(
      cwd,
      '@workflow inventory-validation-v1 target_folder=0UT.3OX policy_file=strict.yaml\n@workflow inventory-validation-v1 target_folder=0UT.3OX policy_file=strict.yaml\n',
      ['--json'],
    );
    expect(first.code, first.stderr).toBe(0);
    const [a, b] = first.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(a).toMatchObject({
      line: 1,
      ok: true,
      command: 'workflow',
      workflowId: 'inventory-validation-v1',
      version: 1,
    });
    const second = await bridge(
      cwd,
      `@status ${a.runId}\n@approve ${a.runId} alert_cmd_bridge known gap\n@cancel ${b.runId}\n@cancel ${b.runId}\n`,
      ['--as', 'commander'],
    );
    expect(second.code, second.stderr).toBe(0);
    const lines = second.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `line 1: ok: run ${a.runId} inventory-validation-v1 v1 WAITING, waiting for approval of alert_cmd_bridge`,
    );
    expect(lines[1]).toMatch(
      new RegExp(`^line 2: ok: approved alert_cmd_bridge for run ${a.runId} as commander \\(event \\d+\\), COMPLETED$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^line 3: ok: cancelled run ${b.runId} as commander \\(event \\d+\\), CANCELLED$`),
    );
    expect(lines[3]).toBe(`line 4: ok: run ${b.runId} is already CANCELLED: nothing to cancel, CANCELLED`);
    // The approval moved the run on here: COMPLETED, the decision recorded as the bridge's user.
    const history = JSON.parse((await cli(['--store', 'store', 'history', a.runId, '--json'], { cwd })).stdout);
    expect(history.find((e: { type: string }) => e.type === 'approval.recorded').data).toMatchObject({
      task: 'alert_cmd_bridge',
      by: 'commander',
      comment: 'known gap',
    });
    expect(history.at(-1).state.status).toBe('COMPLETED');
  }, 60_000);

  it('--inbox: each file dropped in is taken once, answered into done/ or failed/ with a .result beside it', async () => {
    const cwd = project();
    const inbox = join(cwd, 'inbox');
    mkdirSync(inbox);
    const child = spawnCli(['--store', 'store', 'bridge', '--inbox', 'inbox', '--detach'], { cwd });
    const closed = new Promise<number | null>((r) => child.on('close', r));
    try {
      drop(
        inbox,
        'good.txt',
        '@workflow inventory-validation-v1 target_folder=0UT.3OX policy_file=INVENTORY.POLICY.yaml\n',
      );
      drop(inbox, 'bad.txt', '@workflow nobody\n');
      await waitFor(
        'both files answered',
        () => existsSync(join(inbox, 'done', 'good.txt.result')) && existsSync(join(inbox, 'failed', 'bad.txt.result')),
        { timeout: 20_000 },
      );
      expect(readFileSync(join(inbox, 'done', 'good.txt.result'), 'utf8')).toMatch(
        /^line 1: ok: run bridge-[0-9a-f]{20}-1 started \(inventory-validation-v1 v1, RUNNING; `ledgerflow serve` runs it\)\n$/,
      );
      expect(readFileSync(join(inbox, 'failed', 'bad.txt.result'), 'utf8')).toMatch(
        /^line 1: error: no definition of nobody/,
      );
      expect(
        readdirSync(inbox)
          .filter((f) => !f.startsWith('.'))
          .sort(),
      ).toEqual(['done', 'failed']);
      // The same file dropped again is a new file (a new name): it starts its own run; the same name and lines again start nothing twice.
      drop(
        inbox,
        'good.txt',
        '@workflow inventory-validation-v1 target_folder=0UT.3OX policy_file=INVENTORY.POLICY.yaml\n',
      );
      await waitFor(
        'the repeat answered',
        () => readFileSync(join(inbox, 'done', 'good.txt.result'), 'utf8').includes('exists already'),
        { timeout: 20_000 },
      );
      expect(storeFiles(join(cwd, 'store')).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await closed).toBe(0);
  }, 60_000);
});
