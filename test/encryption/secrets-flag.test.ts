/**
 * docs/security.md, "Turning it on": the data key in a secrets file given with `--secrets` to every command, reads as
 * well as writes (the page's console lines, then the page's run taken on with signal, resume and approve, and forked).
 * A command without the file sees `[encrypted]`, and `resume` without it is refused before it drives anything
 * (LF_DATA_KEY_MISSING), even with nothing due yet.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { HANDLERS, NAME, PAYROLL_YAML, SIGNED } from './docs-page.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');
/** The page's lines that give the key in a file: `secrets set`, `run`, `status`, each with `--secrets secrets.yaml`. */
const LINES = [...PAGE.matchAll(/^\$ (?:openssl rand -base64 32 \| )?(ledgerflow .*--secrets secrets\.yaml)$/gm)].map(
  (m) => m[1]!,
);

describe('--secrets on every command that opens a store (docs/security.md)', () => {
  it("the page's lines, then signal, resume and approve with the file; without it [encrypted] and resume refused", async () => {
    expect(LINES.slice(0, 3).map((l) => l.split(' ')[1])).toEqual(['secrets', 'run', 'status']);
    const dir = tempDir('lf-secrets-flag-');
    writeFileSync(join(dir, 'payroll.yaml'), PAYROLL_YAML);
    writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '', LEDGERFLOW_SECRETS_FILE: '' };
    const words = (line: string, runId = '') =>
      line
        .split(' ')
        .slice(1)
        .flatMap((w) => (w === '"Ada' ? [NAME] : w === 'Lovelace"' ? [] : [w === '<runId>' ? runId : w]));
    const set = await cli(words(LINES[0]!), { cwd: dir, env, stdin: randomBytes(32).toString('base64') });
    expect(set.code, set.stderr).toBe(0);
    const started = await cli(words(LINES[1]!), { cwd: dir, env });
    expect(started.stdout, started.stderr).toContain('WAITING');
    const runId = /run (\S+) /.exec(started.stdout)![1]!;
    const status = await cli([...words(LINES[2]!, runId), '--json'], { cwd: dir, env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).input).toEqual({ employee: NAME });

    const blind = await cli(['status', runId, '--json'], { cwd: dir, env });
    expect(blind.stdout).not.toContain(NAME);
    // The input is a record: --json has it as { "[encrypted]": true }, the history's text as [encrypted].
    expect(JSON.parse(blind.stdout).input).toEqual({ '[encrypted]': true });
    expect((await cli(['history', runId], { cwd: dir, env })).stdout).toMatch(/run\.started\s+input \[encrypted\]/);
    const refused = await cli(['resume', runId, '--json'], { cwd: dir, env });
    expect(refused.code, refused.stdout).toBe(2);
    expect(JSON.parse(refused.stdout).error.code).toBe('LF_DATA_KEY_MISSING');

    const withFile = (...args: string[]) => cli([...args, '--secrets', 'secrets.yaml'], { cwd: dir, env });
    const signalled = await withFile(
      'signal',
      runId,
      'contract_signed',
      '--data',
      JSON.stringify({ signed_by: SIGNED }),
    );
    expect(signalled.code, signalled.stderr).toBe(0);
    const resumed = await withFile('resume', runId);
    expect(resumed.code, resumed.stderr).toBe(3);
    expect(resumed.stdout).toContain('waiting for approval of sign_off');
    const approved = await withFile('approve', runId, 'sign_off', '--comment', 'checked');
    expect(approved.stdout, approved.stderr).toContain('COMPLETED');
    const history = JSON.parse((await withFile('history', runId, '--json')).stdout) as {
      type: string;
      data: Record<string, any>;
    }[];
    expect(history.find((e) => e.type === 'signal.received')!.data.data).toEqual({ signed_by: SIGNED });
    expect(history.find((e) => e.type === 'task.completed')!.data.output.employee).toBe(NAME);

    // The reads that list runs take the file too ("every command that opens a store"): not a filter.
    for (const args of [
      ['list', '--json'],
      ['stats', 'payroll'],
      ['replay', '--all'],
    ]) {
      const r = await withFile(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(
      (JSON.parse((await withFile('list', '--json')).stdout) as { runId: string }[]).map((r) => r.runId),
    ).toContain(runId);
    // fork reads the run before it drives the new one: the file is in effect by then too.
    const forked = await withFile('fork', runId, '--at', 'sign_off', '--json');
    expect(forked.code, forked.stderr).toBe(3);
    const forkId = (JSON.parse(forked.stdout) as { runId: string }).runId;
    const forkStatus = JSON.parse((await withFile('status', forkId, '--json')).stdout);
    expect([forkStatus.input, forkStatus.tasks.sign_off.status]).toEqual([{ employee: NAME }, 'PENDING_APPROVAL']);
  }, 120_000);
});
