/**
 * Encryption at rest on the embedded store (docs/security.md), with the page's workflow and handlers: a run with the
 * key in the environment, its signal and approval, then every byte under the store is read and no value is in it (nor
 * its hex or base64); with the key `status` and `history --json` show the values, without it `[encrypted]` and `list`
 * still works; replay passes; `keys rotate` as the page writes it; a changed value and a wrong key are typed errors.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { COMMENT, HANDLERS, NAME, PAYROLL_YAML, ROTATE_LINE, SIGNED, everyByte, leaked } from './docs-page.js';

const KEY = randomBytes(32).toString('base64');

function project(): { dir: string; store: string } {
  const dir = tempDir('lf-crypt-');
  writeFileSync(join(dir, 'payroll.yaml'), PAYROLL_YAML);
  writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
  return { dir, store: join(dir, '.ledgerflow') };
}

const runIdOf = (out: string): string => /run (\S+) /.exec(out)![1]!;

/** A run of the page's workflow taken to COMPLETED: run, signal, approve. */
async function payrollRun(dir: string, env: Record<string, string>): Promise<string> {
  const started = await cli(['run', 'payroll.yaml', '--employee', NAME], { cwd: dir, env });
  expect(started.stdout, started.stderr).toContain('WAITING');
  const runId = runIdOf(started.stdout);
  const s = await cli(['signal', runId, 'contract_signed', '--data', JSON.stringify({ signed_by: SIGNED })], {
    cwd: dir,
    env,
  });
  expect(s.code, s.stderr).toBe(0);
  const a = await cli(['approve', runId, 'sign_off', '--comment', COMMENT], { cwd: dir, env });
  expect(a.stdout, a.stderr).toContain('COMPLETED');
  return runId;
}

const history = async (dir: string, runId: string, env: Record<string, string>) => {
  const r = await cli(['history', runId, '--json'], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { type: string; data: Record<string, any> }[];
};

const serving: ChildProcess[] = [];
afterEach(() => killLeftovers(serving));

describe('encryption at rest on the embedded store (docs/security.md)', () => {
  it('no value of a run is anywhere in the store; with the key every view shows it, without it [encrypted], and list works', async () => {
    const { dir, store } = project();
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: KEY };
    const runId = await payrollRun(dir, env);
    // The index is made too (list), then every byte the store holds is read.
    const listed = await cli(['list', '--json'], { cwd: dir, env });
    expect(listed.code, listed.stderr).toBe(0);
    const files = everyByte(store);
    expect(files.map((f) => f.file.slice(store.length)).sort()).toEqual(
      expect.arrayContaining([`/runs/${runId}.jsonl`, '/index/runs.jsonl']),
    );
    for (const f of files) expect(leaked(f.text), f.file).toBeNull();
    expect(readFileSync(join(store, 'runs', `${runId}.jsonl`), 'utf8')).toContain('"lf:enc"');

    const events = await history(dir, runId, env);
    expect(events[0]!.data.input).toEqual({ employee: NAME });
    expect(events.find((e) => e.type === 'task.failed')!.data.error.message).toBe(`payroll system busy for ${NAME}`);
    expect(events.find((e) => e.type === 'task.completed')!.data.output).toEqual({ employee: NAME, salary: 85000 });
    expect(events.find((e) => e.type === 'signal.received')!.data.data).toEqual({ signed_by: SIGNED });
    expect(events.find((e) => e.type === 'approval.recorded')!.data.comment).toBe(COMMENT);
    const status = await cli(['status', runId, '--json'], { cwd: dir, env });
    expect(JSON.parse(status.stdout).tasks.salary.output).toEqual({ employee: NAME, salary: 85000 });
    const replay = await cli(['replay', runId], { cwd: dir, env });
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);

    // Without the key: [encrypted] in place of each value, the rest as it was; list (the index) as before.
    const none = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };
    const blind = await history(dir, runId, none);
    expect(leaked(JSON.stringify(blind))).toBeNull();
    expect(blind[0]!.data.input).toEqual({ '[encrypted]': true });
    expect(blind.find((e) => e.type === 'task.failed')!.data.error.message).toBe('[encrypted]');
    expect(blind.find((e) => e.type === 'task.completed')!.data.output).toBe('[encrypted]');
    expect(blind.find((e) => e.type === 'signal.received')!.data.data).toBe('[encrypted]');
    expect(blind.find((e) => e.type === 'approval.recorded')!.data).toMatchObject({
      comment: '[encrypted]',
      by: expect.any(String),
    });
    expect(blind.map((e) => e.type)).toEqual(events.map((e) => e.type));
    // The text shows every sealed value the same way: [encrypted], never a quoted "[encrypted]".
    const blindText = await cli(['history', runId], { cwd: dir, env: none });
    expect(blindText.stdout).toMatch(/input \[encrypted\]/);
    expect(blindText.stdout).toMatch(/contract_signed \[encrypted\]/);
    expect(blindText.stdout).not.toContain('"[encrypted]"');
    const blindStatus = await cli(['status', runId, '--json'], { cwd: dir, env: none });
    expect(JSON.parse(blindStatus.stdout)).toMatchObject({
      status: 'COMPLETED',
      tasks: { salary: { output: '[encrypted]' } },
    });
    const blindReplay = await cli(['replay', runId], { cwd: dir, env: none });
    expect(blindReplay.stdout).toContain('the statuses were checked, not the values');
    expect(replay.stdout).not.toContain('the statuses were checked');
    const list = await cli(['list', '--json'], { cwd: dir, env: none });
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ runId, status: 'COMPLETED', workflowId: 'payroll' }),
    ]);
    expect(leaked(list.stdout)).toBeNull();
  }, 120_000);

  it('a changed sealed value is LF_DECRYPT_FAILED, a key that is not the one is LF_DATA_KEY_MISSING, naming no value', async () => {
    const { dir, store } = project();
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: KEY };
    const runId = await payrollRun(dir, env);
    const other = await cli(['history', runId, '--json'], {
      cwd: dir,
      env: { LEDGERFLOW_SECRET_LF_DATA_KEY: randomBytes(32).toString('hex') },
    });
    expect(other.code).toBe(2);
    expect(JSON.parse(other.stdout).error.code).toBe('LF_DATA_KEY_MISSING');
    const file = join(store, 'runs', `${runId}.jsonl`);
    const text = readFileSync(file, 'utf8');
    // One character of the completed output's ciphertext changed, the line still JSON.
    const at = text.indexOf('"output":{"lf:enc":"1:') + 45;
    writeFileSync(file, text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1));
    const changed = await cli(['history', runId, '--json'], { cwd: dir, env });
    expect(changed.code).toBe(1);
    const err = JSON.parse(changed.stdout).error;
    expect(err.code).toBe('LF_DECRYPT_FAILED');
    expect(err.message).toContain('data.output');
    expect(leaked(changed.stdout + changed.stderr)).toBeNull();
  }, 120_000);

  it("keys rotate as the page writes it: new writes use the new key's id, runs sealed before still read", async () => {
    const { dir, store } = project();
    const secrets = join(dir, 'secrets.yaml');
    const env = { LEDGERFLOW_SECRETS_FILE: secrets };
    const rotate = ROTATE_LINE.split(' ')
      .slice(1)
      .map((w) => (w === 'secrets.yaml' ? secrets : w));
    const first = await cli([...rotate, '--json'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const k1 = JSON.parse(first.stdout) as { id: string; previous: string | null };
    expect(k1.previous).toBeNull();
    const before = await payrollRun(dir, env);
    const second = await cli(rotate, { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const id2 = /data key ([0-9a-f]{16}) is LF_DATA_KEY/.exec(second.stdout)![1]!;
    expect(second.stdout).toContain(`kept as LF_DATA_KEY_${k1.id}`);
    const after = await payrollRun(dir, env);
    const raw = (runId: string) => readFileSync(join(store, 'runs', `${runId}.jsonl`), 'utf8');
    expect(raw(before)).toContain(`"1:${k1.id}:`);
    expect(raw(before)).not.toContain(id2);
    expect(raw(after)).toContain(`"1:${id2}:`);
    expect(raw(after)).not.toContain(`1:${k1.id}:`);
    for (const runId of [before, after])
      expect((await history(dir, runId, env)).find((e) => e.type === 'task.completed')!.data.output.employee).toBe(
        NAME,
      );
    for (const f of everyByte(store)) expect(leaked(f.text), f.file).toBeNull();
    // No key is printed.
    expect(readFileSync(secrets, 'utf8')).not.toContain(first.stdout.trim());
  }, 180_000);

  it('keys rotate with nowhere to keep the key names itself and the flags to give, and writes nothing', async () => {
    const { dir } = project();
    const r = await cli(['keys', 'rotate'], { cwd: dir, env: { LEDGERFLOW_SECRETS_FILE: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ledgerflow keys rotate needs a place to keep the secrets: --secrets <file>');
    expect(r.stderr).not.toContain('ledgerflow secrets needs');
  });

  it('a serve running since before the rotation drives the runs sealed with the new key, without a restart', async () => {
    const { dir, store } = project();
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'payroll.yaml'), PAYROLL_YAML);
    writeFileSync(join(dir, 'definitions', 'handlers.mjs'), HANDLERS);
    const secrets = join(dir, 'secrets.yaml');
    const env = { LEDGERFLOW_SECRETS_FILE: secrets };
    const rotate = ROTATE_LINE.split(' ')
      .slice(1)
      .map((w) => (w === 'secrets.yaml' ? secrets : w));
    expect((await cli(rotate, { cwd: dir })).code).toBe(0);
    let out = '';
    const serve = spawnCli(['serve'], { cwd: dir, env });
    serving.push(serve);
    serve.stdout!.on('data', (d) => (out += d));
    serve.stderr!.on('data', (d) => (out += d));
    const salaried = async (who: string) => {
      const started = await cli(['start', 'payroll', '--employee', who, '--detach', '--json'], { cwd: dir, env });
      expect(started.code, started.stderr).toBe(0);
      const runId = (JSON.parse(started.stdout) as { runId: string }).runId;
      await waitFor(
        `serve to run ${runId}'s salary task`,
        async () => {
          const s = await cli(['status', runId, '--json'], { cwd: dir, env });
          return s.code === 0 && JSON.parse(s.stdout).tasks.contract?.status === 'WAITING';
        },
        { timeout: 60_000, detail: () => out },
      );
      return runId;
    };
    const before = await salaried(NAME);
    const second = await cli(rotate, { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const id2 = /data key ([0-9a-f]{16}) is LF_DATA_KEY/.exec(second.stdout)![1]!;
    const after = await salaried(`${NAME}-after`);
    expect(readFileSync(join(store, 'runs', `${after}.jsonl`), 'utf8')).toContain(`"1:${id2}:`);
    expect(out).not.toContain('LF_DATA_KEY_MISSING');
    for (const [runId, who] of [
      [before, NAME],
      [after, `${NAME}-after`],
    ] as const)
      expect((await history(dir, runId, env)).find((e) => e.type === 'task.completed')!.data.output.employee).toBe(who);
  }, 180_000);
});
