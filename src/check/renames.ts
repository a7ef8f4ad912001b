/**
 * Pairing the tasks of two versions: the same id, or a likely rename (a task gone and a task new, of the same type,
 * alike in at least two of: the handler they name, what they wait for, their settings, their name). A rename is a
 * guess, said as one (a warning naming `migrate --map`), never a certainty the diff builds on silently.
 */
import type { TaskDef } from '../definition/index.js';
import { namedHandler, type Side } from './side.js';

export interface Rename {
  from: string;
  to: string;
  /** What made it likely, for the message: `the same handler`, `the same dependencies`... */
  alike: string[];
}

export interface Pairing {
  /** Tasks in both versions under one id, or renamed: [old, new]. */
  pairs: [TaskDef, TaskDef][];
  renames: Rename[];
  /** In the new version only (renames left out). */
  added: TaskDef[];
  /** In the old version only (renames left out). */
  removed: TaskDef[];
  /** Old id → new id, for every task of the old version still there (renamed or not). */
  newId: ReadonlyMap<string, string>;
}

/** A task's settings as JSON: everything but what names and places it, what it waits for and the handler it names. */
function settingsOf(t: TaskDef): string {
  const {
    id: _id,
    name: _name,
    description: _description,
    index: _index,
    dependsOn: _dependsOn,
    parallelWith: _parallelWith,
    handler: _handler,
    assignedTo: _assignedTo,
    ...rest
  } = t;
  return JSON.stringify(rest);
}

/** What a task is compared by, each made once: every task gone is compared with every task new. */
interface Traits {
  task: TaskDef;
  handler: string | undefined;
  /** Its dependencies and its settings, as numbers: equal texts, equal numbers (compared for every pair). */
  deps: number;
  settings: number;
  /** Its name, when it has one of its own (not its id). */
  name: string | undefined;
}

function traitsOf(side: Side, t: TaskDef, ids: (text: string) => number): Traits {
  return {
    task: t,
    handler: namedHandler(side, t),
    deps: ids([...(side.deps.get(t.id) ?? [])].sort().join('\n')),
    settings: ids(settingsOf(t)),
    name: t.name === t.id ? undefined : t.name,
  };
}

/** In how many traits a task gone and a task new are alike (0 when not of the same type): counted before said. */
function alikeCount(old: Traits, now: Traits): number {
  if (old.task.type !== now.task.type) return 0;
  return (
    Number(old.handler !== undefined && old.handler === now.handler) +
    Number(old.deps === now.deps) +
    Number(old.settings === now.settings) +
    Number(old.name !== undefined && old.name === now.name)
  );
}

/** What makes a rename likely, for its message. */
function alikeIn(old: Traits, now: Traits): string[] {
  const alike: string[] = [];
  if (old.handler !== undefined && old.handler === now.handler) alike.push(`the same handler ${old.handler}`);
  if (old.deps === now.deps) alike.push('the same dependencies');
  if (old.settings === now.settings) alike.push('the same settings');
  if (old.name !== undefined && old.name === now.name) alike.push(`the same name "${old.name}"`);
  return alike;
}

export function pairTasks(before: Side, after: Side): Pairing {
  const pairs: [TaskDef, TaskDef][] = [];
  const gone: TaskDef[] = [];
  for (const [id, t] of before.tasks) {
    const now = after.tasks.get(id);
    if (now) pairs.push([t, now]);
    else gone.push(t);
  }
  const fresh = [...after.tasks.values()].filter((t) => !before.tasks.has(t.id));
  const numbers = new Map<string, number>();
  const ids = (text: string) => numbers.get(text) ?? numbers.set(text, numbers.size).get(text)!;
  const freshTraits = fresh.map((t) => traitsOf(after, t, ids));
  const candidates: { old: Traits; now: Traits; score: number; order: number }[] = [];
  gone.forEach((task, oi) => {
    const old = traitsOf(before, task, ids);
    freshTraits.forEach((now, ni) => {
      const score = alikeCount(old, now);
      if (score >= 2) candidates.push({ old, now, score, order: oi * fresh.length + ni });
    });
  });
  // The most alike first; among equals, the order of the old and then the new task list (stable, so reruns agree).
  candidates.sort((x, y) => y.score - x.score || x.order - y.order);
  const renames: Rename[] = [];
  const taken = new Set<TaskDef>();
  for (const { old, now } of candidates) {
    if (taken.has(old.task) || taken.has(now.task)) continue;
    taken.add(old.task).add(now.task);
    renames.push({ from: old.task.id, to: now.task.id, alike: alikeIn(old, now) });
    pairs.push([old.task, now.task]);
  }
  const newId = new Map(pairs.map(([o, n]) => [o.id, n.id]));
  return {
    pairs,
    renames: renames.sort((x, y) => before.tasks.get(x.from)!.index - before.tasks.get(y.from)!.index),
    added: fresh.filter((t) => !taken.has(t)),
    removed: gone.filter((t) => !taken.has(t)),
    newId,
  };
}
