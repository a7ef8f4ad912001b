/**
 * `ledgerflow run f.yaml | head -1` as a user types it: the reader of stdout goes away after the first line, and the
 * run must not go with it (a durable job: it is driven on to its end, stdout muted), nor need a `resume`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, cli, expectEveryRunReplays, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const HOLD = join(ROOT, 'test', 'fixtures', 'serve', 'hold.yaml');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('a run whose stdout reader goes away', () => {
  it('`ledgerflow run … | head -1` drives the run on to COMPLETED once head has gone; every task once', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const release = join(dir, 'release');
    const gone = join(dir, 'head-gone');
    const markers = join(dir, 'markers');
    // After head exits, the group closes its own copy of the pipe (exec 0<&-) and only then says so: from `gone` on,
    // nothing reads the pipe, so the run's next line (the hold task's end, after the release) meets EPIPE.
    const line = `${quote(process.execPath)} ${quote(BIN)} --store ${quote(store)} run ${quote(HOLD)} --release ${quote(release)} | { head -1; exec 0<&-; : > ${quote(gone)}; }`;
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', LEDGERFLOW_STATE_FILE: 'off', LF_MARKERS: markers };
    delete env.LEDGERFLOW_STORE;
    const sh = spawn('sh', ['-c', line], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    sh.stdout.on('data', (d) => (stdout += d));
    sh.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => sh.on('close', (code) => r(code)));

    await waitFor('head to print the first line and go', () => existsSync(gone), {
      timeout: 30_000,
      detail: () => stdout + stderr,
    });
    const runId = /^run (\S+) started \(serve-hold v1\)\n$/.exec(stdout)?.[1];
    expect(runId, stdout).toBeDefined();
    writeFileSync(release, '');

    // The pipeline ends when `run` does: after the run, not at its first line written to nobody.
    expect(await exited, stderr).toBe(0);
    expect(stderr).toMatch(/stdout closed \(its reader went away\): the run is driven on to its end/);
    const waited = await cli(['--store', store, 'wait', runId!, '--timeout', '30s', '--json']);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout).status).toBe('COMPLETED');
    // Not stopped and resumed: each task ran once, the hold task to its end.
    const ran = readFileSync(markers, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(ran.map((m) => `${m[0]} ${m[3]}`)).toEqual([
      'first start',
      'first end',
      'hold start',
      'hold end',
      'last start',
      'last end',
    ]);
    expect(await expectEveryRunReplays()).toBe(1);
  }, 60_000);
});
