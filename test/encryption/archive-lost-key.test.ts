/**
 * A data key lost (docs/security.md, rotating the key; docs/retention.md): runs sealed with a key no provider has any
 * more are left live by `archive`, each named with the key it needs, and the others are archived all the same (exit
 * 1: not all that was asked was done). With the key put back as LF_DATA_KEY_<id> the next `archive` moves them. The
 * key is given as the page says, in a secrets file passed with `--secrets` to every command, reads included.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { INVOICE_YAML } from '../retention/docs-scenario.js';

const serving: ChildProcess[] = [];
afterEach(() => killLeftovers(serving));

type Archived = { archived: number; runs: { runId: string }[]; left: { runId: string; reason: string }[] };

describe('archive with a data key lost, on the embedded store (docs/retention.md)', () => {
  it('leaves the runs sealed with the lost key live, naming it, archives the others; with the key back it moves them', async () => {
    const dir = tempDir('lf-lost-key-');
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    // Nothing from the environment: the key is only in the files given with --secrets.
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '', LEDGERFLOW_SECRETS_FILE: '' };
    const lf = (...args: string[]) => cli(args, { cwd: dir, env });
    const keyA = randomBytes(32).toString('base64');
    const keyB = randomBytes(32).toString('base64');
    for (const [file, key] of [
      ['a.yaml', keyA],
      ['b.yaml', keyB],
    ] as const) {
      const set = await cli(['secrets', 'set', 'LF_DATA_KEY', '--secrets', file], { cwd: dir, env, stdin: key });
      expect(set.code, set.stderr).toBe(0);
    }
    const runs = async (file: string, amount: string) => {
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const r = await lf('run', 'invoice.yaml', '--amount', amount, '--secrets', file, '--json');
        expect(r.code, r.stderr).toBe(0);
        ids.push((JSON.parse(r.stdout) as { runId: string }).runId);
      }
      return ids;
    };
    const sealedA = await runs('a.yaml', '4711');
    const sealedB = await runs('b.yaml', '4712');

    // Reads take --secrets as run does: the values with the key, `[encrypted]` without it.
    const withKey = await lf('status', sealedA[0]!, '--json', '--secrets', 'a.yaml');
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(JSON.parse(withKey.stdout).input).toEqual({ amount: '4711' });
    const without = await lf('status', sealedA[0]!, '--json');
    expect(without.stdout).not.toContain('4711');
    const history = await lf('history', sealedB[0]!, '--secrets', 'b.yaml');
    expect(history.stdout).toContain('4712');

    // Only key B is given now: A is lost.
    const first = await lf('archive', '--older-than', '0s', '--secrets', 'b.yaml');
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toContain('archived 2 runs');
    expect(first.stdout).toContain('2 runs left live');
    const idA = /LF_DATA_KEY_([0-9a-f]{16})/.exec(first.stderr)![1]!;
    for (const id of sealedA)
      expect(first.stderr).toContain(`left live: run ${id} holds values sealed with data key ${idA}`);
    const listed = JSON.parse((await lf('list', '--json')).stdout) as { runId: string }[];
    expect(listed.map((r) => r.runId).sort()).toEqual([...sealedA].sort());

    const again = await lf('archive', '--older-than', '0s', '--secrets', 'b.yaml', '--json');
    expect(again.code, again.stderr).toBe(1);
    const json = JSON.parse(again.stdout) as Archived;
    expect(json.archived).toBe(0);
    expect(json.left.map((l) => l.runId).sort()).toEqual([...sealedA].sort());
    expect(json.left[0]!.reason).toContain(`LF_DATA_KEY_${idA}`);

    // The fix the message names: the lost key kept as LF_DATA_KEY_<id> beside the current one.
    const putBack = await cli(['secrets', 'set', `LF_DATA_KEY_${idA}`, '--secrets', 'b.yaml'], {
      cwd: dir,
      env,
      stdin: keyA,
    });
    expect(putBack.code, putBack.stderr).toBe(0);
    const last = await lf('archive', '--older-than', '0s', '--secrets', 'b.yaml', '--json');
    expect(last.code, last.stderr).toBe(0);
    const moved = JSON.parse(last.stdout) as Archived;
    expect([moved.runs.map((r) => r.runId).sort(), moved.left]).toEqual([[...sealedA].sort(), []]);
    const read = await lf('status', sealedA[1]!, '--json', '--secrets', 'b.yaml');
    expect(JSON.parse(read.stdout).input).toEqual({ amount: '4711' });
  }, 120_000);

  it("serve's rounds archive the runs past their retention, passing over those sealed with the lost key", async () => {
    const dir = tempDir('lf-lost-key-serve-');
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    writeFileSync(
      join(dir, 'brief.yaml'),
      INVOICE_YAML.replace('id: invoice', 'id: brief').replace('retention: 30d', 'retention: 1s'),
    );
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '', LEDGERFLOW_SECRETS_FILE: '' };
    for (const file of ['a.yaml', 'b.yaml']) {
      const set = await cli(['secrets', 'set', 'LF_DATA_KEY', '--secrets', file], {
        cwd: dir,
        env,
        stdin: randomBytes(32).toString('base64'),
      });
      expect(set.code, set.stderr).toBe(0);
    }
    const run = async (file: string, secrets: string) => {
      const r = await cli(['run', file, '--amount', '7', '--secrets', secrets, '--json'], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { runId: string }).runId;
    };
    // invoice's only runs are sealed with the key that is lost: its retention is read from one of them.
    const lost = await run('invoice.yaml', 'a.yaml');
    const brief = await run('brief.yaml', 'b.yaml');
    let out = '';
    const serve = spawnCli(['serve', '--archive-every', '1s', '--secrets', 'b.yaml'], { cwd: dir, env });
    serving.push(serve);
    serve.stdout!.on('data', (d) => (out += d));
    serve.stderr!.on('data', (d) => (out += d));
    await waitFor(
      "serve's rounds to archive the brief run",
      async () => {
        const listed = JSON.parse((await cli(['list', '--json'], { cwd: dir, env })).stdout) as { runId: string }[];
        return !listed.some((r) => r.runId === brief);
      },
      { timeout: 30_000, detail: () => out },
    );
    const listed = JSON.parse((await cli(['list', '--json'], { cwd: dir, env })).stdout) as { runId: string }[];
    expect(listed.map((r) => r.runId)).toEqual([lost]);
    expect(out).not.toContain('trying again at each round');
  }, 90_000);
});
