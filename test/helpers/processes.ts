/** Whether processes are still there, for tests that check what a kill reached. */
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
