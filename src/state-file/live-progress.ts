/**
 * The live progress of a run's attempts in its state-file entry (docs/state-file.md#the-layout): for each task whose
 * attempt in flight reported one, `progress: { fraction, message, at }` (the value the store's progress channel holds
 * now; never from the log, so `state-file --rebuild` shows only what outcomes kept). The entry given is not changed: a
 * copy is made when anything is added, so the entry folded from the log stays as it was.
 */
import type { LiveProgress } from '../progress/index.js';
import type { StateEntry } from './layout.js';

export type LiveReader = (runId: string) => Promise<LiveProgress[]>;

export async function withLiveProgress(entry: StateEntry, read: LiveReader): Promise<StateEntry> {
  const live = await read(String(entry.id)).catch(() => [] as LiveProgress[]);
  if (live.length === 0) return entry;
  const tasks = { ...(entry.tasks as Record<string, Record<string, unknown>>) };
  let changed = false;
  for (const p of live) {
    const t = tasks[p.instance];
    // Only the attempt in flight's (a value left by an earlier attempt, or a process that died, is not shown).
    if (!t || t.status !== 'IN_PROGRESS' || t.attempts !== p.attempt) continue;
    tasks[p.instance] = {
      ...t,
      progress: { fraction: p.fraction, ...(p.message !== undefined ? { message: p.message } : {}), at: p.at },
    };
    changed = true;
  }
  return changed ? { ...entry, tasks } : entry;
}
