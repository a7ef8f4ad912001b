/**
 * What readers show of progress: for each task (or MAP item) of a run's view, its attempt's live value while that
 * attempt is the one in flight (a value left by an earlier attempt, or by a process that died, is not), with an ETA;
 * once the attempt has ended, the last value its outcome (task.completed, task.failed) kept. Pure.
 */
import { instanceKey } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';
import type { RunView, TaskProgress } from '../runtime/index.js';
import { etaMs, type LiveProgress } from './value.js';

export type { TaskProgress };

const RUNNING = new Set(['IN_PROGRESS']);

/** The last progress each instance's outcome kept (task.completed, task.failed), by instance: the log's alone, no live value. */
export function keptProgress(events: readonly EventEnvelope[]): Map<string, TaskProgress> {
  const out = new Map<string, TaskProgress>();
  for (const e of events) {
    if ((e.type !== 'task.completed' && e.type !== 'task.failed') || !e.data.progress) continue;
    out.set(instanceKey(e.data), { ...e.data.progress, attempt: e.data.attempt });
  }
  return out;
}

/** The progress of each instance of the run (its key: `task`, `task#2`, `task[3]`), live over kept. */
export function progressOf(
  view: RunView,
  live: readonly LiveProgress[],
  events: readonly EventEnvelope[] = [],
): Map<string, TaskProgress> {
  const out = keptProgress(events);
  const inFlight = attemptsInFlight(view);
  for (const p of live) {
    if (inFlight.get(p.instance) !== p.attempt) continue;
    const eta = etaMs(p);
    out.set(p.instance, {
      fraction: p.fraction,
      ...(p.message !== undefined ? { message: p.message } : {}),
      at: p.at,
      attempt: p.attempt,
      live: true,
      startedAt: p.startedAt,
      ...(eta !== null ? { eta: new Date(Date.parse(p.at) + eta).toISOString() } : {}),
    });
  }
  return out;
}

/** The view with each task's and item's progress set (a copy; the view given is not changed). */
export function withProgress(view: RunView, progress: ReadonlyMap<string, TaskProgress>): RunView {
  if (progress.size === 0) return view;
  const tasks: RunView['tasks'] = {};
  for (const [id, t] of Object.entries(view.tasks)) {
    const own = progress.get(t.instance ?? id);
    const items = t.items?.map((it) => {
      const p = progress.get(it.instance);
      return p ? { ...it, progress: p } : it;
    });
    tasks[id] = { ...t, ...(own ? { progress: own } : {}), ...(items ? { items } : {}) };
  }
  return { ...view, tasks };
}

/** Instance key → the attempt number in flight, for tasks and items running now. */
function attemptsInFlight(view: RunView): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, t] of Object.entries(view.tasks)) {
    if (RUNNING.has(t.status)) out.set(t.instance ?? id, t.attempts);
    for (const it of t.items ?? []) if (RUNNING.has(it.status)) out.set(it.instance, it.attempts);
  }
  return out;
}
