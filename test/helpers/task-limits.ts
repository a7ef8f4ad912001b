/** Invariants of task concurrency and rate limits, read from runs' histories (never from timings): both stores' tests use them. */
import type { EventEnvelope } from '../../src/events/index.js';

/**
 * The most attempts of `task` running at one moment across `histories`: [task.started, its outcome)
 * intervals overlapping. A run that ended with its attempt running (cancelled) ends it at its last event.
 */
export function mostAtOnce(histories: EventEnvelope[][], task: string): number {
  const edges: [number, number][] = [];
  for (const events of histories) {
    let open = 0;
    for (const e of events) {
      if ((e.data as { task?: string }).task !== task) continue;
      if (e.type === 'task.started') { edges.push([Date.parse(e.time), +1]); open++; }
      if (e.type === 'task.completed' || e.type === 'task.failed') { edges.push([Date.parse(e.time), -1]); open--; }
    }
    if (open > 0) edges.push([Date.parse(events.at(-1)!.time), -open]);
  }
  // Ends before starts at the same millisecond: a slot freed and taken again is not two at once.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) { now += d; most = Math.max(most, now); }
  return most;
}

/** The most task.started of `task` (its MAP items' when `items`) within any span of `perMs`: from each start, the half-open window after it. */
export function mostStartsPer(events: EventEnvelope[], task: string, perMs: number, items = false): number {
  const starts = events.filter((e) => e.type === 'task.started' && e.data.task === task && (!items || e.data.item !== undefined)).map((e) => Date.parse(e.time)).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < starts.length; i++) {
    let n = 0;
    for (let j = i; j < starts.length && starts[j]! - starts[i]! < perMs; j++) n++;
    most = Math.max(most, n);
  }
  return most;
}
