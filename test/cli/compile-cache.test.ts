/**
 * docs/runs.md, "Start-up: the compile cache": a command keeps V8's compiled code of the command in
 * LEDGERFLOW_COMPILE_CACHE (else ~/.cache/ledgerflow) and the next run of that command starts from it. What a
 * user relies on: a command run from the cache does what it did without one, handler modules of every kind
 * load from it (an ES module, TypeScript through tsx: Node 20 loses `import()` in a cached script unless the
 * launcher does it, src/import-module.ts), a cache that is damaged is not used but replaced, and `off` or a
 * folder others may write into means none.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandOf } from '../../src/cli/cached-code.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const WORKFLOW = (handlers: string) => `workflow:
  id: cached
  version: 1
  handlers: ${handlers}
  tasks:
    - id: greet
      type: SIMPLE
      input:
        name: world
`;

function project(): string {
  const dir = tempDir('lf-cc-');
  writeFileSync(join(dir, 'esm.yaml'), WORKFLOW('./h.mjs'));
  writeFileSync(
    join(dir, 'h.mjs'),
    'export default { async greet(input) { return { greeting: `hello ${input.name} from esm` }; } };\n',
  );
  writeFileSync(join(dir, 'ts.yaml'), WORKFLOW('./h.ts'));
  writeFileSync(
    join(dir, 'h.ts'),
    "const greeting: string = 'from ts';\nexport default { async greet(input: { name: string }) { return { greeting: `hello ${input.name} ${greeting}` }; } };\n",
  );
  return dir;
}

/** `run <file> --json` in `dir`: what its handler returned. */
async function runOutput(dir: string, file: string, env: Record<string, string>): Promise<unknown> {
  const r = await cli(['run', file, '--store', join(dir, 'store'), '--json'], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(0);
  const view = JSON.parse(r.stdout) as { status: string; tasks: { greet: { output: unknown } } };
  expect(view.status).toBe('COMPLETED');
  return view.tasks.greet.output;
}

const cacheFiles = (cache: string, command: string) => readdirSync(cache).filter((f) => f.endsWith(`-${command}.v8`));

describe('the compile cache', () => {
  it('is made by the first run of a command and used by the next; ES module and TypeScript handlers load from it', async () => {
    const dir = project();
    const cache = join(dir, 'cache');
    const env = { LEDGERFLOW_COMPILE_CACHE: cache };
    expect(await runOutput(dir, 'esm.yaml', env)).toEqual({ greeting: 'hello world from esm' });
    const [file] = cacheFiles(cache, 'run');
    expect(file).toBeDefined();
    const made = statSync(join(cache, file!));
    expect(made.mode & 0o077).toBe(0);

    // From the cache: the same results, and the file is left as it was (V8 took it: a refused one is rewritten).
    expect(await runOutput(dir, 'esm.yaml', env)).toEqual({ greeting: 'hello world from esm' });
    expect(await runOutput(dir, 'ts.yaml', env)).toEqual({ greeting: 'hello world from ts' });
    const used = statSync(join(cache, file!));
    expect([used.ino, used.mtimeMs]).toEqual([made.ino, made.mtimeMs]);
    expect(cacheFiles(cache, 'run')).toEqual([file]);
    // Another command has a cache of its own.
    const listed = await cli(['list', '--store', join(dir, 'store'), '--json'], { cwd: dir, env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveLength(3);
    expect(cacheFiles(cache, 'list')).toHaveLength(1);
  }, 60_000);

  it('a damaged cache is not used but replaced, and the command does what it does', async () => {
    const dir = project();
    const cache = join(dir, 'cache');
    const env = { LEDGERFLOW_COMPILE_CACHE: cache };
    await runOutput(dir, 'esm.yaml', env);
    const file = join(cache, cacheFiles(cache, 'run')[0]!);
    const good = readFileSync(file);
    // One byte flipped in the middle: V8 itself would take it (it checks no checksum) and run what it holds.
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1]! ^= 0xff;
    writeFileSync(file, flipped);
    expect(await runOutput(dir, 'esm.yaml', env)).toEqual({ greeting: 'hello world from esm' });
    expect(readFileSync(file).equals(flipped)).toBe(false);
    // Cut short, or not a cache at all.
    for (const bad of [good.subarray(0, good.length >> 1), Buffer.from('not a cache')]) {
      writeFileSync(file, bad);
      expect(await runOutput(dir, 'esm.yaml', env)).toEqual({ greeting: 'hello world from esm' });
      expect(readFileSync(file).length).toBeGreaterThan(bad.length);
    }
  }, 60_000);

  it('off, or a folder others may write into: no cache, and the command runs', async () => {
    const dir = project();
    const home = join(dir, 'xdg');
    expect(await runOutput(dir, 'esm.yaml', { XDG_CACHE_HOME: home, LEDGERFLOW_COMPILE_CACHE: 'off' })).toEqual({
      greeting: 'hello world from esm',
    });
    expect(() => readdirSync(home)).toThrow();

    // Unset: $XDG_CACHE_HOME/ledgerflow.
    const env = { XDG_CACHE_HOME: home, LEDGERFLOW_COMPILE_CACHE: '' };
    await runOutput(dir, 'esm.yaml', env);
    expect(cacheFiles(join(home, 'ledgerflow'), 'run')).toHaveLength(1);

    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(await runOutput(dir, 'esm.yaml', { LEDGERFLOW_COMPILE_CACHE: shared })).toEqual({
      greeting: 'hello world from esm',
    });
    expect(readdirSync(shared)).toEqual([]);
  }, 60_000);
});

describe('the caches of other builds', () => {
  it('are removed as a new cache is written, all but the two last, with temporaries a killed writer left', async () => {
    const dir = project();
    const cache = join(dir, 'cache');
    mkdirSync(cache, { mode: 0o700 });
    const hour = 3_600_000;
    // Four other builds, the newest last; a temporary an hour and a half old, and one being written now.
    const others = ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc', 'dddddddddddddddd'];
    others.forEach((digest, i) => {
      for (const command of ['run', 'list']) {
        const file = join(cache, `cli-${digest}-00000000-${command}.v8`);
        writeFileSync(file, 'old');
        const at = new Date(Date.now() - (others.length - i) * hour);
        utimesSync(file, at, at);
      }
    });
    const stale = join(cache, 'cli-dddddddddddddddd-00000000-run.v8.123.tmp');
    const fresh = join(cache, 'cli-dddddddddddddddd-00000000-list.v8.456.tmp');
    writeFileSync(stale, 'half');
    writeFileSync(fresh, 'half');
    utimesSync(stale, new Date(Date.now() - 1.5 * hour), new Date(Date.now() - 1.5 * hour));
    await runOutput(dir, 'esm.yaml', { LEDGERFLOW_COMPILE_CACHE: cache });
    const left = readdirSync(cache).sort();
    expect(left.filter((f) => /^cli-[a-d]{16}-/.test(f))).toEqual([
      'cli-cccccccccccccccc-00000000-list.v8',
      'cli-cccccccccccccccc-00000000-run.v8',
      'cli-dddddddddddddddd-00000000-list.v8',
      'cli-dddddddddddddddd-00000000-list.v8.456.tmp',
      'cli-dddddddddddddddd-00000000-run.v8',
    ]);
    expect(cacheFiles(cache, 'run').filter((f) => !/^cli-[a-d]{16}-/.test(f))).toHaveLength(1);
  }, 60_000);
});

/** `serve` on `store` until it says it serves, then stopped as a user stops it (SIGTERM) and waited for. */
async function serveOnce(dir: string, env: Record<string, string>): Promise<void> {
  const serve = spawnCli(['--store', join(dir, 'store'), 'serve', '--json'], { cwd: dir, env });
  let out = '';
  serve.stdout!.on('data', (d) => (out += d));
  serve.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => serve.once('exit', r));
  await waitFor('serve to serve', () => out.includes('"serving"'), { timeout: 30_000, detail: () => out });
  // Kept running until its cache is there (written two seconds in, or at exit).
  await waitFor('serve to write its cache', () => cacheFiles(join(dir, 'cache'), 'serve').length > 0, {
    timeout: 30_000,
    detail: () => out,
  });
  serve.kill('SIGTERM');
  expect(await exited, out).toBe(0);
}

describe('the compile cache of a command that keeps running', () => {
  it('serve, which sets V8 flags of its own before it compiles, reads its cache at the next start', async () => {
    const dir = project();
    const cache = join(dir, 'cache');
    const env = { LEDGERFLOW_COMPILE_CACHE: cache };
    await serveOnce(dir, env);
    const [file] = cacheFiles(cache, 'serve');
    const made = statSync(join(cache, file!));
    // A cache V8 refused (made under other flags) would be written again at the second start.
    await serveOnce(dir, env);
    const used = statSync(join(cache, file!));
    expect([used.ino, used.mtimeMs]).toEqual([made.ino, made.mtimeMs]);
    expect(cacheFiles(cache, 'serve')).toEqual([file]);
  }, 90_000);
});

describe('commandOf', () => {
  it('is the command word, also after the options ledgerflow itself takes', () => {
    expect(commandOf(['run', 'wf.yaml', '--json'])).toBe('run');
    expect(commandOf(['--store', 'store', 'status', 'r1'])).toBe('status');
    expect(commandOf(['--nats', 'nats://127.0.0.1:4222', 'start', 'wf'])).toBe('start');
    expect(commandOf(['--store=s', 'list'])).toBe('list');
    expect(commandOf(['--version'])).toBe('none');
    expect(commandOf(['../x.yaml'])).toBe('none');
  });
});
