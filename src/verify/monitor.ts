/**
 * What a path has done so far, as far as the declared properties care: how often each named task ran (a retry is the
 * same run; a loop's next iteration is a new one), whether it completed, and which properties the path already broke.
 * Part of the state key, so two paths that differ only in this are explored apart.
 */
import type { ModelState } from '../coverage/index.js';
import type { Definition } from '../definition/index.js';

type Tasks = ModelState['run']['context']['tasks'];
const NOT_RUN = ['PENDING', 'SKIPPED', 'CANCELLED'];

/** Tasks that began a run, and tasks that completed, between two states (`before` null: the run's start). */
export function taskChanges(before: Tasks | null, after: Tasks): { started: string[]; completed: string[] } {
  const started: string[] = [];
  const completed: string[] = [];
  for (const id in after) {
    const a = after[id]!;
    const b = before?.[id];
    const fresh = !b || b.status === 'PENDING' || b.iteration !== a.iteration;
    if (fresh && !NOT_RUN.includes(a.status)) started.push(id);
    if (a.status === 'COMPLETED' && (!b || b.status !== 'COMPLETED' || b.iteration !== a.iteration)) completed.push(id);
  }
  return { started, completed };
}

/** One declared property, flattened: its kind, the task it is about and the tasks it relates it to. */
export interface Declared {
  property: 'at_most_once' | 'always_before' | 'never_together' | 'eventually';
  task: string;
  others: string[];
}

export function declaredProperties(def: Definition): Declared[] {
  const p = def.properties;
  if (!p) return [];
  return [
    ...p.atMostOnce.map((task) => ({ property: 'at_most_once' as const, task, others: [] })),
    ...Object.entries(p.alwaysBefore).map(([task, others]) => ({ property: 'always_before' as const, task, others })),
    ...p.neverTogether.map((g) => ({ property: 'never_together' as const, task: g[0]!, others: g.slice(1) })),
    ...p.eventually.map((task) => ({ property: 'eventually' as const, task, others: [] })),
  ];
}

export interface Monitor {
  /** Per tracked task: runs so far (2 = more than once). */
  runs: number[];
  /** Per tracked task: completed at least once. */
  done: boolean[];
  /** Per declared property: broken on this path. */
  broken: boolean[];
}

export class Monitors {
  readonly tracked: string[];
  private readonly index: Map<string, number>;
  constructor(readonly declared: Declared[]) {
    this.tracked = [...new Set(declared.flatMap((d) => [d.task, ...d.others]))];
    this.index = new Map(this.tracked.map((t, i) => [t, i]));
  }

  initial(): Monitor {
    return {
      runs: this.tracked.map(() => 0),
      done: this.tracked.map(() => false),
      broken: this.declared.map(() => false),
    };
  }

  key(m: Monitor): string {
    return `${m.runs.join('')}|${m.done.map(Number).join('')}|${m.broken.map(Number).join('')}`;
  }

  /** The monitor after a step that started and completed these tasks (completions first: a task started by another's completion comes after it). */
  step(m: Monitor, changes: { started: string[]; completed: string[] }): Monitor {
    if (this.tracked.length === 0) return m;
    const runs = [...m.runs];
    const done = [...m.done];
    const broken = [...m.broken];
    for (const t of changes.completed) {
      const i = this.index.get(t);
      if (i !== undefined) done[i] = true;
    }
    const at = (t: string) => this.index.get(t)!;
    for (const t of changes.started) {
      const i = this.index.get(t);
      if (i === undefined) continue;
      runs[i] = Math.min(2, runs[i]! + 1);
      this.declared.forEach((d, k) => {
        if (d.property === 'always_before' && d.task === t && d.others.some((o) => !done[at(o)] && o !== t))
          broken[k] = true;
      });
    }
    this.declared.forEach((d, k) => {
      if (d.property === 'at_most_once' && runs[at(d.task)]! > 1) broken[k] = true;
      if (d.property === 'never_together' && [d.task, ...d.others].filter((x) => runs[at(x)]! > 0).length > 1)
        broken[k] = true;
    });
    return { runs, done, broken };
  }

  /** eventually: on a completed run, the tasks it names that never completed. */
  missing(m: Monitor): number[] {
    return this.declared.flatMap((d, k) =>
      d.property === 'eventually' && !m.done[this.index.get(d.task)!] ? [k] : [],
    );
  }
}
