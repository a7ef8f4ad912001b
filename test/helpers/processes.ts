/** Whether processes are still there, for tests that check what a kill reached. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Gone: no such process, or a zombie nobody has reaped yet (it runs nothing any more). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Kills with SIGKILL, and waits for, whichever of `procs` are still running; empties the list (a test file's afterEach). */
export async function killLeftovers(procs: ChildProcess[]): Promise<void> {
  for (const p of procs.splice(0)) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    p.kill('SIGKILL');
    await new Promise((r) => p.on('close', r));
  }
}
