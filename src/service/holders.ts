/**
 * Who holds a lock or lease file of the store, as the service reads and says it: the driver a run's `<runId>.driver`
 * lease names, and the holder of serve.lock a standby waits for. Apart from service.ts because it is reading files
 * (lock.ts's format), not deciding what to drive.
 */
import { readFile } from 'node:fs/promises';
import { pidAlive, type LockHolder } from '../store/lock.js';

/** The holder a lease file names, null when there is none. */
export async function leaseHolder(path: string): Promise<{ pid: number | null } | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const j = JSON.parse(text) as { pid?: unknown };
    return { pid: Number.isSafeInteger(j.pid) ? (j.pid as number) : null };
  } catch {
    return { pid: null }; // being written
  }
}

export function holderText(h: LockHolder): string {
  const alive = h.pid !== null && pidAlive(h.pid);
  return `pid ${h.pid ?? '?'}${h.host ? ` on ${h.host}` : ''}${h.since ? ` (since ${h.since})` : ''}${h.pid !== null && !alive ? ' (not alive here: another host?)' : ''}`;
}
