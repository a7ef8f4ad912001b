/**
 * What `stats` folds a set of runs into (src/stats/figures.ts makes the figures of it), mergeable: kept per workflow
 * and version beside the file store's run index for its settled runs (cache-figures.ts), so `stats` need not read every
 * run's record. Pure.
 */
import type { RunRecord } from './record.js';
import { addDuration, emptySketch, mergeSketch, type DurationSketch } from './duration-sketch.js';

/** A task's own end: a task cancelled with its run, or skipped, never got to one. */
const SETTLED_TASK = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT']);

/** The runs' counts by status, settled durations, per-task ends and retries. */
export interface RunTally {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  active: number;
  /** The settled runs' durations (every one while few, else in buckets: duration-sketch.ts). */
  durations: DurationSketch;
  /** Per task: [completed, settled]. */
  tasks: Record<string, [number, number]>;
  /** Per task: attempts beyond the first. */
  retries: Record<string, number>;
  runsWithRetries: number;
}

export const emptyTally = (): RunTally => ({
  total: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
  active: 0,
  durations: emptySketch(),
  tasks: {},
  retries: {},
  runsWithRetries: 0,
});

/** The fields of a run record the figures read. */
export type TalliedRun = Pick<RunRecord, 'status' | 'durationMs' | 'tasks'>;

/** Adds one run to `t` (changed in place). */
export function tallyRun(t: RunTally, r: TalliedRun): void {
  t.total++;
  if (r.status === 'COMPLETED') t.completed++;
  else if (r.status === 'FAILED') t.failed++;
  else if (r.status === 'CANCELLED') t.cancelled++;
  else t.active++;
  if ((r.status === 'COMPLETED' || r.status === 'FAILED' || r.status === 'CANCELLED') && r.durationMs !== null)
    addDuration(t.durations, r.durationMs);
  let retried = false;
  for (const [id, task] of Object.entries(r.tasks)) {
    if (SETTLED_TASK.has(task.status)) {
      const s = (t.tasks[id] ??= [0, 0]);
      s[1]++;
      if (task.status === 'COMPLETED') s[0]++;
    }
    if (task.attempts > 0) {
      const extra = task.attempts - 1;
      t.retries[id] = (t.retries[id] ?? 0) + extra;
      if (extra > 0) retried = true;
    }
  }
  if (retried) t.runsWithRetries++;
}

/** `from` added to `into` (changed in place). */
export function mergeTally(into: RunTally, from: RunTally): RunTally {
  into.total += from.total;
  into.completed += from.completed;
  into.failed += from.failed;
  into.cancelled += from.cancelled;
  into.active += from.active;
  mergeSketch(into.durations, from.durations);
  for (const [id, [c, n]] of Object.entries(from.tasks)) {
    const s = (into.tasks[id] ??= [0, 0]);
    s[0] += c;
    s[1] += n;
  }
  for (const [id, n] of Object.entries(from.retries)) into.retries[id] = (into.retries[id] ?? 0) + n;
  into.runsWithRetries += from.runsWithRetries;
  return into;
}
