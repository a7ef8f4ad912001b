/**
 * Whether the process a lock or lease names is alive, as far as its holding goes. `kill(pid, 0)` alone says yes for two
 * kinds of dead process:
 * - a zombie: killed (or exited) and not yet reaped by its parent. A parent that is slow to reap (a loaded machine, a
 *   shell busy starting the next command) kept a `kill -9`ed driver's lease "alive": two `resume`s started right after
 *   the kill both refused the run (LF_RUN_BUSY) and it was left with its attempt lost;
 * - a process SIGKILL has been sent to: it runs none of its code again, only the kernel's teardown of it (which takes a
 *   while for a large heap).
 * Linux tells both in /proc; elsewhere kill(pid, 0) is all there is.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** This process's pid namespace (Linux: `pid:[4026531836]`), or null where there is no such thing to read. */
export const PID_NAMESPACE: string | null = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null; // not Linux (or no /proc): no pid written elsewhere can be judged here
  }
})();
export const HOST = hostname();

/** Which process wrote a file, as another process reads it: its pid, on which host and in which pid namespace. */
export interface ProcessMark {
  pid: number;
  host: string;
  pidns: string | null;
}

/** This process's mark. */
export function processMark(): ProcessMark {
  return { pid: process.pid, host: HOST, pidns: PID_NAMESPACE };
}

/**
 * Whether a mark (processMark, read back from a file) names a process that died here: written on this host in this pid
 * namespace by a pid that is no longer alive. False for anything that cannot be judged here (another host or container,
 * no mark): such a writer is taken to be alive.
 */
export function diedHere(mark: unknown): boolean {
  if (PID_NAMESPACE === null || typeof mark !== 'object' || mark === null) return false;
  const m = mark as Partial<ProcessMark>;
  return m.host === HOST && m.pidns === PID_NAMESPACE && Number.isSafeInteger(m.pid) && !pidAlive(m.pid as number);
}

/** Whether `pid` is a process that may still act: it exists, and is not a zombie (dead, not yet reaped). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const state = procState(pid);
  return state !== 'Z' && state !== 'X';
}

/** Whether `pid` is being killed: SIGKILL is pending for it (it will never run its code again), or it is gone. */
export function pidDying(pid: number): boolean {
  if (!pidAlive(pid)) return true;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false; // no /proc (or gone meanwhile: the next look says so)
  }
  // SigPnd (this thread's) and ShdPnd (the process's) are hex masks: bit 8 is signal 9, SIGKILL.
  for (const m of status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)) {
    if (((BigInt(`0x${m[1]}`) >> 8n) & 1n) === 1n) return true;
  }
  return false;
}

/** The state letter of /proc/<pid>/stat (R, S, D, Z, X, …); null where it cannot be read. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "<pid> (<comm>) <state> …": comm may hold spaces and parentheses, so the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}
