/**
 * The progress `watch` shows (docs/handlers.md#progress): each watched run's live values pushed by the store's progress
 * channel (its `watch`: one KV watch per run on NATS, an fs.watch of the run's folder on the embedded store; they are
 * never events, so no follower brings them), with the values outcomes kept in the events the watch holds. Every
 * `everyMs` (in memory, nothing read) a run whose values or log changed has its progress worked out again; one that
 * changed is handed on: drawn in a frame, a line in plain and JSON modes.
 */
import { progressOf, type LiveProgress, type ProgressChannel, type TaskProgress } from '../progress/index.js';
import type { WatchedRun } from './track.js';
import { progressLine } from './lines.js';

/** Where a run's live values come from: the store's progress channel. */
export type ProgressSource = Pick<ProgressChannel, 'watch'>;

/** The run's progress with these live values, by instance; null when it is what the run already shows. */
export function progressNow(run: WatchedRun, live: readonly LiveProgress[]): ReadonlyMap<string, TaskProgress> | null {
  const shown = progressOf(run.view, live, run.tail);
  const before = run.progress ?? new Map<string, TaskProgress>();
  const same =
    shown.size === before.size && [...shown].every(([k, p]) => JSON.stringify(before.get(k)) === JSON.stringify(p));
  return same ? null : shown;
}

/** The instances whose progress `next` changed from `run`'s: what plain and JSON modes print. */
export function changedProgress(run: WatchedRun, next: ReadonlyMap<string, TaskProgress>): [string, TaskProgress][] {
  return [...next].filter(([k, p]) => JSON.stringify(run.progress?.get(k)) !== JSON.stringify(p));
}

/**
 * Watches each watched run's live values (a run picked up later gets its watch at the next round, one no longer
 * watched loses it); a change is set on the run and drawn, or printed (plain, JSON). Returns how to stop.
 */
export function followProgress(
  source: ProgressSource,
  everyMs: number,
  o: {
    runs: Map<string, WatchedRun>;
    mode: 'frame' | 'plain' | 'json';
    write: (text: string) => void;
    finished: () => boolean;
    changed: () => void;
    fail: (err: unknown) => void;
  },
): () => void {
  const watches = new Map<string, () => void>();
  const latest = new Map<string, LiveProgress[]>();
  const dirty = new Set<string>();
  /** The log position each run's progress was last worked out at: the view changing (an attempt ended) counts too. */
  const workedAt = new Map<string, number>();
  const round = () => {
    if (o.finished()) return;
    try {
      for (const id of o.runs.keys())
        if (!watches.has(id))
          watches.set(
            id,
            source.watch(id, (values) => {
              latest.set(id, values);
              dirty.add(id);
            }),
          );
      for (const [id, stop] of watches)
        if (!o.runs.has(id)) {
          stop();
          watches.delete(id);
          latest.delete(id);
        }
      for (const run of [...o.runs.values()]) {
        const values = latest.get(run.runId);
        if (!values || (!dirty.has(run.runId) && workedAt.get(run.runId) === run.view.seq)) continue;
        dirty.delete(run.runId);
        workedAt.set(run.runId, run.view.seq);
        const next = progressNow(run, values);
        if (!next || o.finished()) continue;
        if (o.mode !== 'frame')
          for (const [task, p] of changedProgress(run, next))
            o.write(
              `${o.mode === 'json' ? JSON.stringify({ runId: run.runId, task, progress: p }) : progressLine(run.runId, task, p, Date.now())}\n`,
            );
        o.runs.set(run.runId, { ...run, progress: next });
        o.changed();
      }
    } catch (err) {
      o.fail(err);
    }
  };
  const timer = setInterval(round, everyMs);
  return () => {
    clearInterval(timer);
    for (const stop of watches.values()) stop();
    watches.clear();
  };
}
