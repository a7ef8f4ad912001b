/**
 * A per-run lock file shared by every process using the same store directory, so that `ledgerflow resume` and
 * `ledgerflow approve` running at once cannot both pass the expected-seq check and fork a run (a run has one history,
 * never a fork).
 *
 * A hard link to a file already holding the taker's identity is an atomic create-if-absent on local file systems (see
 * create()). The file holds {pid, time, host, pidns} so a lock left by a killed process can be told apart from a live
 * one:
 * - written on this host in this pid namespace with a pid that is not alive: its holder is dead, and it is broken at
 *   once (`resume` right after a `kill -9` must not wait);
 * - otherwise (another host or container, whose pids mean nothing here; or no pid: written by an older version that
 *   died between open and write, or where hard links are refused) it is stale once older than `staleMs` and its pid
 *   is not alive here.
 * A lock with a live pid is never broken: it may belong to a slow writer. A waiter gives up after `timeoutMs` only on a
 * lock that is not going to be broken; one that will be once it is old enough is waited for.
 */
import { link, readFile, rename, stat, unlink } from 'node:fs/promises';
import { closeSync, linkSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError, errorMessage } from '../errors/index.js';
import { storeIoError } from './io-errors.js';
import { HOST, PID_NAMESPACE, pidAlive, pidDying } from './pid-state.js';

interface LockOptions {
  /** Give up (StoreError) after waiting this long. */
  timeoutMs: number;
  /** A lock older than this whose pid is not alive is broken. */
  staleMs: number;
  /** Longest pause between two tries while the lock is held (default 50 ms). */
  maxPollMs?: number;
}

export async function withLock<T>(lockPath: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  await acquireLock(lockPath, opts);
  try {
    return await fn();
  } finally {
    await releaseLock(lockPath);
  }
}

/** Releases a lock taken with acquireLock: ours for sure, since a lock is only ever broken when its pid is dead. */
export async function releaseLock(lockPath: string): Promise<void> {
  unlinkQuietly(lockPath);
}

/** Who holds a lock, as its file says (null where it does not say yet). */
export interface LockHolder {
  pid: number | null;
  host: string | null;
  /** When it was taken (ISO time). */
  since: string | null;
}

/**
 * Takes the lock if it is free (or held by a dead holder, broken as above) without waiting; otherwise says who holds
 * it. For locks held a long time (a run's driver lease) rather than around one write.
 */
export async function tryLock(
  lockPath: string,
  staleMs: number,
  link?: (lockPath: string) => boolean | null,
): Promise<{ release: () => Promise<void> } | { holder: LockHolder }> {
  // A holder being killed (SIGKILL pending: pid-state.ts) is waited for, this long at most, then said to hold it.
  const dyingUntil = Date.now() + DYING_WAIT_MS;
  for (;;) {
    // A link to a file holding this process's identity (lease-template.ts) where given and possible: the same lock, cheaper.
    if (link?.(lockPath) ?? (await create(lockPath))) return { release: async () => unlinkQuietly(lockPath) };
    const state = await breakIfStale(lockPath, staleMs);
    if (state === 'gone' || state === 'broken') continue;
    const holder = await holderOf(lockPath);
    if (holder?.pid != null && Date.now() < dyingUntil && pidDying(holder.pid)) {
      await sleep(10);
      continue;
    }
    if (holder) return { holder };
  }
}

/** How long tryLock waits for a holder SIGKILL was sent to to be gone (its teardown; a loaded machine stretches it). */
const DYING_WAIT_MS = 10_000;

/**
 * Creates the lock file with this process's identity; false when it exists already. The identity is written to a file
 * of its own first and that file hard-linked to the lock's name: link(2), like `open(path, 'wx')`, is an atomic
 * create-if-absent, and the lock then appears with its bytes, never empty. Opened and written in place, a kill between
 * the two left an empty lock that no rule can judge (no pid): every later writer waited out `staleMs` for it (10 s for
 * the store's writer lock).
 * A kill now leaves at most the unlinked-to file (`<lock>.new-<pid>-<hex>`), which is no lock. Where hard links are
 * refused, the lock is opened and written in place as before. Synchronous calls (a run's lease is taken and released
 * once per run, the writer lock once per turn): each reaches only the page cache and the directory, a few
 * microseconds, where a trip through libuv's thread pool costs several times that in CPU (see group-commit.ts).
 */
async function create(lockPath: string): Promise<boolean> {
  const bytes = Buffer.from(lockIdentity());
  const fresh = `${lockPath}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeWhole(fresh, bytes);
  } catch (err) {
    throw storeIoError(`cannot create lock ${lockPath}`, err, { lock: lockPath });
  }
  try {
    linkSync(fresh, lockPath);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!linksRefused(code)) throw storeIoError(`cannot create lock ${lockPath}`, err, { lock: lockPath });
    // No hard links here: opened and written in place below (asked again at each lock, no state kept between calls).
  } finally {
    unlinkQuietly(fresh);
  }
  try {
    writeWhole(lockPath, bytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw storeIoError(`cannot create lock ${lockPath}`, err, { lock: lockPath });
  }
  return true;
}

/** What a file system without hard links (or without them across these directories) answers to link(). */
const LINK_REFUSED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);
/** Whether link() failed with this code because hard links are refused here (locks are then written in place). */
export const linksRefused = (code: string | undefined): boolean => code !== undefined && LINK_REFUSED.has(code);

/** Creates `path` (refused with EEXIST when it exists) holding `bytes`; removed again when its bytes are refused. */
export function writeWhole(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'wx');
  try {
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    // Created here and never held (a full disk refuses its bytes): removed, or it would stand as an abandoned lock.
    unlinkQuietly(path);
    throw err;
  }
}

/** What a lock file holds: this process's identity, and now. */
export function lockIdentity(): string {
  return JSON.stringify({ pid: process.pid, time: new Date().toISOString(), host: HOST, pidns: PID_NAMESPACE });
}

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already (or never to be removed by us): nothing more to do
  }
}

async function holderOf(lockPath: string): Promise<LockHolder | null> {
  const info = await inspect(lockPath);
  if (!info) return null;
  let host: string | null = null;
  let since: string | null = null;
  try {
    const j = JSON.parse(info.text) as { host?: unknown; time?: unknown };
    if (typeof j.host === 'string') host = j.host;
    if (typeof j.time === 'string') since = j.time;
  } catch {
    // not written yet: pid, host and time unknown
  }
  return { pid: info.pid, host, since };
}

/**
 * Waits for the lock (rules above) and takes it. `brokeDead`: a lock left by a holder that died was broken on the way,
 * so whatever that holder was in the middle of may be half done (the file store's journal then recovers).
 */
export async function acquireLock(lockPath: string, opts: LockOptions): Promise<{ brokeDead: boolean }> {
  const deadline = Date.now() + opts.timeoutMs;
  const maxPoll = opts.maxPollMs ?? 50;
  let delay = 1;
  let brokeDead = false;
  for (;;) {
    if (await create(lockPath)) return { brokeDead };
    const state = await breakIfStale(lockPath, opts.staleMs);
    if (state === 'broken') brokeDead = true;
    if (state === 'gone' || state === 'broken') continue;
    if (Date.now() >= deadline && state === 'held') {
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
    delay = Math.min(delay * 2, maxPoll);
  }
}

interface LockInfo {
  text: string;
  pid: number | null;
  ageMs: number;
  /** Written on this host in this pid namespace: its pid can be checked here. */
  local: boolean;
}

async function inspect(lockPath: string): Promise<LockInfo | null> {
  try {
    const [st, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    let pid: number | null = null;
    let time = st.mtimeMs;
    let local = false;
    try {
      const j = JSON.parse(text) as { pid?: unknown; time?: unknown; host?: unknown; pidns?: unknown };
      if (Number.isSafeInteger(j.pid) && (j.pid as number) > 0) pid = j.pid as number;
      const t = typeof j.time === 'string' ? Date.parse(j.time) : NaN;
      if (!Number.isNaN(t)) time = t;
      local = PID_NAMESPACE !== null && j.host === HOST && j.pidns === PID_NAMESPACE;
    } catch {
      // Empty or partial: the creator died between open and write (or is
      // writing right now); the file's mtime stands in for the time.
    }
    return { text, pid, ageMs: Date.now() - time, local };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError(`cannot read lock ${lockPath}: ${errorMessage(err)}`, { lock: lockPath }, { cause: err });
  }
}

/**
 * Whether the lock was left by a holder that died on this host (its pid is not alive here): what it was in the middle
 * of may be half done. False for no lock, a live holder, or one whose pid cannot be checked here.
 */
export async function leftByDead(lockPath: string): Promise<boolean> {
  const info = await inspect(lockPath);
  return info !== null && info.local && info.pid !== null && !pidAlive(info.pid);
}

/**
 * Whether a lock (or a run's lease) is held by a live process, as far as this process can tell: 'free' when there is
 * none or its holder died on this host; 'held' when its pid is alive here; 'unknown' when it cannot be judged here
 * (written on another host or in another container, or not written yet).
 */
export async function lockState(lockPath: string): Promise<{ state: 'free' | 'held' | 'unknown'; pid: number | null }> {
  const info = await inspect(lockPath);
  if (!info) return { state: 'free', pid: null };
  if (info.pid === null || !info.local) return { state: 'unknown', pid: info.pid };
  return { state: pidAlive(info.pid) ? 'held' : 'free', pid: info.pid };
}

export { pidAlive } from './pid-state.js';

/**
 * What a kill can leave beside a lock or a run's lease: its bytes not yet linked to its name (`<lock>.new-<pid>-<hex>`,
 * create()), or a broken one set aside (`<lock>.stale-<pid>-<hex>`, breakIfStale).
 */
export const LOCK_LEFTOVER = /\.(new|stale)-\d+-[0-9a-f]{8}$/;

/** A leftover older than this is removed whoever made it: no process takes a minute between a lock's two calls. */
const LEFTOVER_MS = 60_000;

/**
 * Removes the files of `dir` whose names match and whose bytes are the identity (lockIdentity) of a process dead on
 * this host, the rule above, and leftovers (LOCK_LEFTOVER) older than a minute whatever they hold (one cut short by the
 * kill holds nothing to judge). Any other is left alone: a live process's, another host's while it may still be in use.
 * For what killed processes leave that is no lock, so nothing waits on it: kept from piling up. Once per store:
 * journal/ by its writer (writer-lock.ts), locks/ with the run leases' templates (lease-template.ts).
 */
export function sweepDead(dir: string, names: RegExp): void {
  let found: string[];
  try {
    found = readdirSync(dir);
  } catch {
    return; // not made yet, or not readable: nothing of ours to remove
  }
  for (const name of found) {
    if (!names.test(name)) continue;
    const path = join(dir, name);
    try {
      if (LOCK_LEFTOVER.test(name) && Date.now() - statSync(path).mtimeMs > LEFTOVER_MS) {
        unlinkQuietly(path);
        continue;
      }
      if (PID_NAMESPACE === null) continue; // no pid namespace to read: no pid can be judged dead here
      const j = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; host?: unknown; pidns?: unknown };
      if (j.host === HOST && j.pidns === PID_NAMESPACE && typeof j.pid === 'number' && !pidAlive(j.pid))
        unlinkQuietly(path);
    } catch {
      // cut short, unreadable or gone meanwhile: left alone
    }
  }
}

/**
 * 'gone': released, try to take it again at once; 'broken': this call broke it (its holder is dead), likewise; 'held':
 * by a live holder; 'abandoned': no live pid here, but too young to break yet (see the top of this file), so worth
 * waiting for past the timeout.
 */
async function breakIfStale(lockPath: string, staleMs: number): Promise<'gone' | 'broken' | 'held' | 'abandoned'> {
  const info = await inspect(lockPath);
  if (!info) return 'gone';
  if (info.pid !== null && pidAlive(info.pid)) return 'held';
  const holderDead = info.local && info.pid !== null;
  // Too young to break: its holder may be in another container, or still writing its pid.
  if (!holderDead && info.ageMs < staleMs) return 'abandoned';
  // Rename rather than unlink: only one breaker can move a given file, and the mover can then check it moved the stale
  // lock it judged, not a fresh one another breaker created in between (which it then puts back).
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw new StoreError(
      `cannot break stale lock ${lockPath}: ${errorMessage(err)}`,
      { lock: lockPath },
      { cause: err },
    );
  }
  const taken = await readFile(aside, 'utf8').catch(() => null);
  if (taken === info.text) {
    await unlink(aside).catch(() => undefined);
    return 'broken';
  }
  await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return 'held';
}

async function describe(lockPath: string): Promise<string> {
  const info = await inspect(lockPath).catch(() => null);
  if (!info) return 'released meanwhile';
  const alive = info.pid === null ? 'unknown pid' : `pid ${info.pid} ${pidAlive(info.pid) ? 'alive' : 'not alive'}`;
  return `${alive}, held ${Math.round(info.ageMs)} ms`;
}
