/**
 * A process killed (-9) at the instant it creates a lock on the embedded store leaves no lock a later process must
 * wait for. The store's writer lock used to be opened and then written: a kill between the two left an empty
 * `journal/writer.lock`, which names no pid, and every later command waited it out as a lock that might be another
 * host's (10 s). Now a lock appears only with its holder's identity in it (store/lock.ts), and a dead holder's is
 * broken at once. The kill lands exactly there: test/store/kill-at/lock-write.mjs is preloaded into the real CLI.
 * What the kill leaves beside the lock (its bytes, written under a name of their own and not yet linked) is no lock;
 * the next process to take the store removes it once it can tell its maker is dead (or it is a minute old).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, ROOT, tempDir } from '../helpers/cli.js';

const KILL_AT = join(ROOT, 'test', 'store', 'kill-at', 'lock-write.mjs');

const PACK = `workflow:
  id: pack
  tasks:
    - { id: pack, type: SET, values: { packed: true } }
`;

function killedAtLock(
  dir: string,
  store: string,
  afterWrite = false,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', KILL_AT, BIN, 'run', 'pack.yaml', '--store', store], {
      cwd: dir,
      env: {
        ...process.env,
        LEDGERFLOW_STATE_FILE: 'off',
        LF_KILL_AT_LOCK: join(store, 'journal', 'writer.lock'),
        ...(afterWrite ? { LF_KILL_AFTER_WRITE: '1' } : {}),
      },
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('a kill -9 while the store writer lock is being created', () => {
  it('leaves no lock without its holder: the next `ledgerflow run` takes the store at once and completes', async () => {
    const dir = tempDir('lf-lock-kill-');
    writeFileSync(join(dir, 'pack.yaml'), PACK);
    const store = join(dir, 'store');
    const killed = await killedAtLock(dir, store);
    expect(killed.signal).toBe('SIGKILL');
    const journal = join(store, 'journal');
    // Whatever is left under the lock's name names its (dead) holder: never an empty file no rule can judge.
    for (const name of readdirSync(journal).filter((n) => n === 'writer.lock')) {
      const held = JSON.parse(readFileSync(join(journal, name), 'utf8')) as { pid?: unknown };
      expect(typeof held.pid).toBe('number');
    }
    const t0 = Date.now();
    const next = await cli(['run', 'pack.yaml', '--store', store, '--json'], { cwd: dir });
    const took = Date.now() - t0;
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).status).toBe('COMPLETED');
    // The old empty lock was waited out as stale (10 s) before this run could commit.
    expect(took).toBeLessThan(10_000);
    expect(readdirSync(journal)).not.toContain('writer.lock');
  }, 30_000);

  it('the bytes of a lock its dead maker never linked are removed by the next process on the store', async () => {
    const dir = tempDir('lf-lock-kill-');
    writeFileSync(join(dir, 'pack.yaml'), PACK);
    const store = join(dir, 'store');
    const journal = join(store, 'journal');
    const leftovers = () => readdirSync(journal).filter((n) => n.startsWith('writer.lock.new-'));
    // Killed just after writing its identity, before the link: the leftover names a pid dead here.
    expect((await killedAtLock(dir, store, true)).signal).toBe('SIGKILL');
    expect(leftovers()).toHaveLength(1);
    expect(readdirSync(journal)).not.toContain('writer.lock');
    const next = await cli(['run', 'pack.yaml', '--store', store, '--json'], { cwd: dir });
    expect(next.code, next.stderr).toBe(0);
    expect(leftovers()).toEqual([]);
    // Killed before writing a byte: nothing to judge, so it stays while young (its maker could be another host's)…
    expect((await killedAtLock(dir, store)).signal).toBe('SIGKILL');
    const [young] = leftovers();
    expect(young).toBeDefined();
    expect((await cli(['run', 'pack.yaml', '--store', store], { cwd: dir })).code).toBe(0);
    expect(leftovers()).toEqual([young]);
    // …and goes once it is older than a minute.
    const past = (Date.now() - 120_000) / 1000;
    utimesSync(join(journal, young!), past, past);
    expect((await cli(['run', 'pack.yaml', '--store', store], { cwd: dir })).code).toBe(0);
    expect(leftovers()).toEqual([]);
  }, 60_000);
});
