/**
 * A bridge inbox attacked by whoever can drop a file in it, as issue 60 found it: a link to a file outside (a
 * users file) is refused and its content appears nowhere; a link planted under a result's name or its `.part`
 * is never written through (its target unchanged); a line holding terminal escapes is answered escaped, on
 * stdout and in the result file. Real CLI processes on the embedded store (docs/bridge.md#an-inbox-folder).
 */
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

/** Every file under `root`, read (links not followed), joined: where a secret must not appear. */
function everything(root: string): string {
  let all = '';
  if (!existsSync(root)) return all;
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const st = lstatSync(path);
    if (st.isDirectory()) all += everything(path);
    else if (st.isFile()) all += readFileSync(path, 'latin1');
  }
  return all;
}

function drop(inbox: string, name: string, text: string): void {
  writeFileSync(join(inbox, `.${name}.part`), text);
  renameSync(join(inbox, `.${name}.part`), join(inbox, name));
}

describe('bridge --inbox: what a dropper cannot make it read or write', () => {
  it('a link is refused unread; a planted .part or result link is not written through; escapes are answered escaped', async () => {
    const cwd = tempDir('lf-bridge-inbox-');
    const outside = join(cwd, 'elsewhere');
    mkdirSync(outside);
    const secret = 'alice:\n    level: L0\n    password: scrypt$15$8$1$SECRET-HASH-0123456789';
    writeFileSync(join(outside, 'users.yaml'), `users:\n  ${secret}\n`);
    writeFileSync(join(outside, 'target.txt'), 'kept as it was\n');
    const inbox = join(cwd, 'inbox');
    for (const d of ['inbox', 'inbox/failed']) mkdirSync(join(cwd, d));
    // Planted before the bridge runs: the result of x.txt and its .part, each a link to a file outside.
    symlinkSync(join(outside, 'target.txt'), join(inbox, 'failed', 'x.txt.result.part'));
    symlinkSync(join(outside, 'target.txt'), join(inbox, 'failed', 'x.txt.result'));

    const child = spawnCli(['--store', 'store', 'bridge', '--inbox', 'inbox', '--detach'], { cwd });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    try {
      await waitFor('the bridge watching', () => stderr.includes('watching'), { timeout: 20_000 });
      symlinkSync(join(outside, 'users.yaml'), join(inbox, 'link.txt'));
      // A run id holding an OSC (a window title) and CSI (U+009B): its refusal quotes it.
      drop(inbox, 'x.txt', '@status ab\x1b]0;owned\x07\u009b2Jcd\n');
      await waitFor(
        'both answered',
        () =>
          existsSync(join(inbox, 'failed', 'link.txt.result')) &&
          lstatSync(join(inbox, 'failed', 'x.txt.result')).isFile(),
        { timeout: 20_000 },
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await closed).toBe(0);

    const refused = readFileSync(join(inbox, 'failed', 'link.txt.result'), 'utf8');
    expect(refused).toBe(
      'error: link.txt is a symbolic link, which the bridge does not follow (its target is not a file dropped here): nothing of it was read; drop the file itself (written elsewhere, then moved in)\n',
    );
    expect(lstatSync(join(inbox, 'failed', 'link.txt')).isSymbolicLink()).toBe(true); // moved as the link it is
    // The users file's content is nowhere: not in the inbox, not in the store, not said.
    for (const where of [everything(inbox), everything(join(cwd, 'store')), stderr]) {
      expect(where).not.toContain('SECRET-HASH');
      expect(where).not.toContain('scrypt$');
    }

    // The planted links were replaced, not written through: their target is unchanged, the result a file of its own.
    expect(readFileSync(join(outside, 'target.txt'), 'utf8')).toBe('kept as it was\n');
    expect(existsSync(join(inbox, 'failed', 'x.txt.result.part'))).toBe(false);
    const answer = readFileSync(join(inbox, 'failed', 'x.txt.result'), 'utf8');
    expect(answer).toBe(
      String.raw`line 1:9: error: a run id is letters, digits, _ and - only, not "ab\x1b]0;owned\x07\x9b2Jcd"; nothing was done` +
        '\n',
    );
    expect(answer).not.toMatch(/[\u001b\u009b]/);
    expect(stderr).not.toMatch(/[\u001b\u009b]/);
  }, 60_000);

  it('a line with terminal escapes is answered escaped on stdout, and in --json as escapes that parse back to the line', async () => {
    const cwd = tempDir('lf-bridge-escape-');
    const line = '@status ab\x1b]0;owned\x07\u009b2Jcd\u202e\n';
    const text = await cli(['--store', 'store', 'bridge'], { cwd, stdin: line });
    expect(text.code).toBe(1);
    expect(text.stdout).toBe(
      'line 1:9: error: a run id is letters, digits, _ and - only, not "ab\\x1b]0;owned\\x07\\x9b2Jcd\\u202e"; nothing was done\n',
    );
    const json = await cli(['--store', 'store', 'bridge', '--json'], { cwd, stdin: line });
    expect(json.stdout.trimEnd()).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/u);
    expect(JSON.parse(json.stdout).error.message).toBe(
      'a run id is letters, digits, _ and - only, not "ab\x1b]0;owned\x07\u009b2Jcd\u202e"',
    );
  }, 60_000);

  it('a hard link to a file outside is refused unread; done/ replaced by a link gets nothing written through it', async () => {
    const cwd = tempDir('lf-bridge-hardlink-');
    const outside = join(cwd, 'elsewhere');
    mkdirSync(outside);
    writeFileSync(join(outside, 'users.yaml'), 'users:\n  alice: { level: L0, password: scrypt$15$8$1$HARD-SECRET }\n');
    const inbox = join(cwd, 'inbox');
    mkdirSync(inbox);
    const child = spawnCli(['--store', 'store', 'bridge', '--inbox', 'inbox', '--detach'], { cwd });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    try {
      await waitFor('the bridge watching', () => stderr.includes('watching'), { timeout: 20_000 });
      linkSync(join(outside, 'users.yaml'), join(inbox, 'hard.txt'));
      await waitFor('the hard link answered', () => existsSync(join(inbox, 'failed', 'hard.txt.result')), {
        timeout: 20_000,
      });
      expect(readFileSync(join(inbox, 'failed', 'hard.txt.result'), 'utf8')).toContain(
        'hard.txt has other names (a hard link to a file kept elsewhere): nothing of it was read',
      );
      // done/ swapped for a link to a folder outside while the bridge runs: the next good file's answer does not land there.
      rmSync(join(inbox, 'done'), { recursive: true });
      symlinkSync(outside, join(inbox, 'done'));
      drop(inbox, 'ok.txt', '# a comment: every line ok\n');
      await waitFor('the file refused its answer', () => stderr.includes('ok.txt: not answered'), { timeout: 20_000 });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await closed).toBe(0);
    expect(stderr).toContain('is a symbolic link: the bridge writes only into a folder of its own there');
    expect(readdirSync(outside)).toEqual(['users.yaml']);
    expect(existsSync(join(inbox, '.processing', 'ok.txt'))).toBe(true); // kept for the next start
    expect(readFileSync(join(inbox, 'failed', 'hard.txt.result'), 'utf8') + stderr).not.toContain('HARD-SECRET');
  }, 60_000);
});
