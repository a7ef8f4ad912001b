/**
 * The progress `watch` shows (docs/handlers.md#progress): each watched run's live values read from the store's progress
 * channel every `everyMs` (they are never events, so no follower brings them), with the values outcomes kept in the
 * events the watch holds. A run's progress that changed is handed on: drawn in a frame, a line in plain and JSON modes.
 */
import { progressOf, type LiveProgress, type TaskProgress } from '../progress/index.js';
import type { WatchedRun } from './track.js';
import { progressLine } from './lines.js';

export type ProgressReader = (runId: string) => Promise<LiveProgress[]>;

/** The run's progress now, by instance; null when it is what the run already shows. */
export async function progressNow(
  run: WatchedRun,
  read: ProgressReader,
): Promise<ReadonlyMap<string, TaskProgress> | null> {
  const shown = progressOf(run.view, await read(run.runId).catch(() => []), run.tail);
  const before = run.progress ?? new Map<string, TaskProgress>();
  const same =
    shown.size === before.size && [...shown].every(([k, p]) => JSON.stringify(before.get(k)) === JSON.stringify(p));
  return same ? null : shown;
}

/** The instances whose progress `next` changed from `run`'s: what plain and JSON modes print. */
export function changedProgress(run: WatchedRun, next: ReadonlyMap<string, TaskProgress>): [string, TaskProgress][] {
  return [...next].filter(([k, p]) => JSON.stringify(run.progress?.get(k)) !== JSON.stringify(p));
}

/** Reads every watched run's progress each `everyMs`; a change is set on the run and drawn, or printed (plain, JSON). */
export function pollProgress(
  read: ProgressReader,
  everyMs: number,
  o: {
    runs: Map<string, WatchedRun>;
    mode: 'frame' | 'plain' | 'json';
    write: (text: string) => void;
    finished: () => boolean;
    changed: () => void;
    fail: (err: unknown) => void;
  },
): ReturnType<typeof setInterval> {
  let polling = false;
  const poll = async () => {
    if (polling || o.finished()) return;
    polling = true;
    try {
      for (const run of [...o.runs.values()]) {
        const next = await progressNow(run, read);
        const now = o.runs.get(run.runId);
        if (!next || !now || o.finished()) continue;
        if (o.mode !== 'frame')
          for (const [task, p] of changedProgress(now, next))
            o.write(
              `${o.mode === 'json' ? JSON.stringify({ runId: run.runId, task, progress: p }) : progressLine(run.runId, task, p, Date.now())}\n`,
            );
        o.runs.set(run.runId, { ...now, progress: next });
        o.changed();
      }
    } catch (err) {
      o.fail(err);
    } finally {
      polling = false;
    }
  };
  return setInterval(() => void poll(), everyMs);
}
