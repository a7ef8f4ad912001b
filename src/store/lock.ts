/**
 * A per-run lock file shared by every process using the same store directory,
 * so that `ledgerflow resume` and `ledgerflow approve` running at once cannot
 * both pass the expected-seq check and fork a run (DESIGN property 4).
 *
 * `open(path, 'wx')` is an atomic create-if-absent on local file systems. The
 * file holds {pid, time} so a lock left by a killed process can be told apart
 * from a live one: it is stale when older than `staleMs` AND its pid is not
 * alive. Both conditions, because a lock with a live pid may belong to a slow
 * writer, and a young lock may not have had its contents written yet.
 */
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../errors/index.js';

export interface LockOptions {
  /** Give up (StoreError) after waiting this long. */
  timeoutMs: number;
  /** A lock older than this whose pid is not alive is broken. */
  staleMs: number;
}

export async function withLock<T>(lockPath: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  await acquire(lockPath, opts);
  try {
    return await fn();
  } finally {
    // Ours for sure: a lock is only ever broken when its pid is dead.
    await unlink(lockPath).catch(() => undefined);
  }
}

async function acquire(lockPath: string, opts: LockOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = 1;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(JSON.stringify({ pid: process.pid, time: new Date().toISOString() }));
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError(`cannot create lock ${lockPath}: ${(err as Error).message}`, { lock: lockPath }, { cause: err });
      }
    }
    if (await breakIfStale(lockPath, opts.staleMs)) continue;
    if (Date.now() >= deadline) {
      const holder = await describe(lockPath);
      throw new StoreError(
        `run is locked by another writer (${lockPath}, ${holder}) for more than ${opts.timeoutMs} ms; ` +
          `if no ledgerflow process is using this store, delete the lock file`,
        { lock: lockPath, holder },
      );
    }
    // Short exponential backoff with jitter: appends hold the lock for about
    // one fsync, so waiters should retry soon but not in lockstep.
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
}

interface LockInfo {
  text: string;
  pid: number | null;
  ageMs: number;
}

async function inspect(lockPath: string): Promise<LockInfo | null> {
  try {
    const [st, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    let pid: number | null = null;
    let time = st.mtimeMs;
    try {
      const j = JSON.parse(text) as { pid?: unknown; time?: unknown };
      if (Number.isSafeInteger(j.pid) && (j.pid as number) > 0) pid = j.pid as number;
      const t = typeof j.time === 'string' ? Date.parse(j.time) : NaN;
      if (!Number.isNaN(t)) time = t;
    } catch {
      // Empty or partial: the creator died between open and write (or is
      // writing right now); the file's mtime stands in for the time.
    }
    return { text, pid, ageMs: Date.now() - time };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError(`cannot read lock ${lockPath}: ${(err as Error).message}`, { lock: lockPath }, { cause: err });
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Returns true when the lock is gone (released or broken): try to take it again at once. */
async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const info = await inspect(lockPath);
  if (!info) return true;
  if (info.ageMs < staleMs || (info.pid !== null && pidAlive(info.pid))) return false;
  // Rename rather than unlink: only one breaker can move a given file, and
  // the mover can then check it moved the stale lock it judged, not a fresh
  // one another breaker created in between (which it then puts back).
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new StoreError(`cannot break stale lock ${lockPath}: ${(err as Error).message}`, { lock: lockPath }, { cause: err });
  }
  const taken = await readFile(aside, 'utf8').catch(() => null);
  if (taken === info.text) {
    await unlink(aside).catch(() => undefined);
    return true;
  }
  await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return false;
}

async function describe(lockPath: string): Promise<string> {
  const info = await inspect(lockPath).catch(() => null);
  if (!info) return 'released meanwhile';
  const alive = info.pid === null ? 'unknown pid' : `pid ${info.pid} ${pidAlive(info.pid) ? 'alive' : 'not alive'}`;
  return `${alive}, held ${Math.round(info.ageMs)} ms`;
}
