/** Invariants of task concurrency and rate limits, read from runs' histories (never from timings): both stores' tests use them. */
import type { EventEnvelope } from '../../src/events/index.js';

/**
 * The most attempts of `task` running at one moment across `histories`: [task.started, its outcome)
 * intervals overlapping. A run that ended with its attempt running (cancelled) ends it at its last event.
 */
export function mostAtOnce(histories: EventEnvelope[][], task: string): number {
  return mostAtOnceOf(histories, [task]);
}

/** The most task.started of `task` (its MAP items' when `items`) within any span of `perMs`: from each start, the half-open window after it. */
export function mostStartsPer(events: EventEnvelope[], task: string, perMs: number, items = false): number {
  const starts = events
    .filter((e) => e.type === 'task.started' && e.data.task === task && (!items || e.data.item !== undefined))
    .map((e) => Date.parse(e.time))
    .sort((a, b) => a - b);
  return mostWithin(starts, perMs);
}

/** Whether an event is of an attempt of one of `tasks` (a MAP's: its items only, not the MAP's own start and end). */
const attemptOf =
  (tasks: readonly string[], maps: readonly string[]) =>
  (e: EventEnvelope): boolean => {
    const d = e.data as { task?: string; item?: number };
    return d.task !== undefined && tasks.includes(d.task) && (!maps.includes(d.task) || d.item !== undefined);
  };

/**
 * mostAtOnce over the attempts of several tasks (of several workflows: what a queue's or handler's limit counts);
 * `maps`: those of them that are MAPs, whose items are the attempts.
 */
export function mostAtOnceOf(
  histories: EventEnvelope[][],
  tasks: readonly string[],
  maps: readonly string[] = [],
): number {
  const is = attemptOf(tasks, maps);
  const edges: [number, number][] = [];
  for (const events of histories) {
    let open = 0;
    for (const e of events) {
      if (!is(e)) continue;
      if (e.type === 'task.started') {
        edges.push([Date.parse(e.time), +1]);
        open++;
      }
      if (e.type === 'task.completed' || e.type === 'task.failed') {
        edges.push([Date.parse(e.time), -1]);
        open--;
      }
    }
    if (open > 0) edges.push([Date.parse(events.at(-1)!.time), -open]);
  }
  // Ends before starts at the same millisecond: a slot freed and taken again is not two at once.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) {
    now += d;
    most = Math.max(most, now);
  }
  return most;
}

/** The task.started times of the attempts of `tasks` across `histories`, oldest first. */
export function startsOf(
  histories: EventEnvelope[][],
  tasks: readonly string[],
  maps: readonly string[] = [],
): number[] {
  const is = attemptOf(tasks, maps);
  return histories
    .flatMap((h) => h.filter((e) => e.type === 'task.started' && is(e)).map((e) => Date.parse(e.time)))
    .sort((a, b) => a - b);
}

/** The most of `starts` (sorted) within any span of `perMs`: from each start, the half-open window after it. */
export function mostWithin(starts: readonly number[], perMs: number): number {
  let most = 0;
  let j = 0;
  for (let i = 0; i < starts.length; i++) {
    while (j < starts.length && starts[j]! - starts[i]! < perMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}
