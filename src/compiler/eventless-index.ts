/**
 * What the interpreter works out once per chart to select eventless transitions incrementally: which regions' eventless
 * guards read which task. Apart from interpreter.ts because it is a pure function of the chart, built once, while the
 * interpreter is about stepping snapshots.
 */
import type { BoundAction, Chart, Region } from './chart-model.js';
import { statesOf } from './chart.js';

/** What the interpreter works out once per chart to select eventless transitions incrementally. */
export interface Indexes {
  /** Task id → the regions whose eventless guards read it. */
  readonly watchers: ReadonlyMap<string, readonly Region[]>;
  /** Regions with an eventless guard that does not declare what it reads: looked at on every selection. */
  readonly scanned: readonly Region[];
}

export function indexesOf(chart: Chart): Indexes {
  const watchers = new Map<string, Region[]>();
  const scanned: Region[] = [];
  for (const region of chart.regions) {
    const reads = new Set<string>();
    let unknown = false;
    for (const state of statesOf(region).values()) {
      for (const t of state.always ?? []) {
        if (t.guard === null) continue; // always enabled: selected when the region enters its state (it is dirty then)
        if (t.guard.reads === null) unknown = true;
        else for (const id of t.guard.reads) reads.add(id);
      }
    }
    if (unknown) scanned.push(region);
    else for (const id of reads) watchers.set(id, [...(watchers.get(id) ?? []), region]);
  }
  for (const region of chart.regions) {
    for (const state of statesOf(region).values()) {
      for (const ts of state.on.values()) for (const t of ts) markWatching(t.actions, watchers);
      for (const t of state.always ?? []) markWatching(t.actions, watchers);
    }
  }
  return { watchers, scanned };
}

/** Each action's `watching` (chart.ts BoundAction): the watchers of each task it writes, in order. */
function markWatching(actions: readonly BoundAction[], watchers: ReadonlyMap<string, readonly Region[]>): void {
  for (const a of actions) if (a.writes !== null) a.watching = a.writes.flatMap((id) => watchers.get(id) ?? []);
}
