/**
 * `serve`'s sweeps of the embedded store's progress folders (docs/handlers.md#progress): a run's folder normally goes
 * when its last attempt ends and when the run settles or is archived, but a process killed mid-report leaves its file
 * behind. At start and then every PROGRESS_SWEEP_MS, the folders' names are listed (nothing read when there are none)
 * and those of runs that are settled or no longer in the live log (archived, deleted) go. A live run's folder stays,
 * and so does any file written since the sweep began (an attempt of a run retried meanwhile).
 */
import { SETTLED_STATUSES } from '../events/index.js';
import { errorMessage } from '../errors/index.js';
import { FileProgressChannel } from '../progress/index.js';
import type { EventStore } from '../store/index.js';

/** How often `serve` sweeps after the sweep at its start. */
export const PROGRESS_SWEEP_MS = 10 * 60_000;

/** Sweeps the folders of runs that are not active; returns the runs whose folders went. */
export async function sweepProgressFolders(store: EventStore, storeDir: string): Promise<string[]> {
  const channel = FileProgressChannel.under(storeDir);
  const folders = await channel.runs();
  if (folders.length === 0) return [];
  const before = Date.now();
  const status = new Map((await store.listRuns()).map((r) => [r.runId, r.status]));
  const swept: string[] = [];
  for (const runId of folders) {
    const s = status.get(runId);
    if (s !== undefined && !SETTLED_STATUSES.includes(s)) continue;
    await channel.sweep(runId, before);
    swept.push(runId);
  }
  return swept;
}

/** A tick hook for `serve`: a sweep at the first tick, then one every `everyMs`; never two at once. */
export function progressSweeps(
  store: EventStore,
  storeDir: string,
  say: (line: string) => void,
  everyMs = PROGRESS_SWEEP_MS,
): (now: Date) => Promise<void> {
  let next = 0;
  let running = false;
  return async (now) => {
    if (running || now.getTime() < next) return;
    running = true;
    try {
      const swept = await sweepProgressFolders(store, storeDir);
      if (swept.length > 0)
        say(`progress: removed what ${swept.length} settled run${swept.length === 1 ? '' : 's'} left in progress/`);
    } catch (err) {
      say(`progress sweep: ${errorMessage(err)}; trying again at the next round`);
    } finally {
      next = now.getTime() + everyMs;
      running = false;
    }
  };
}
