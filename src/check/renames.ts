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

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

function alikeIn(before: Side, after: Side, old: TaskDef, now: TaskDef): string[] {
  const alike: string[] = [];
  const handler = namedHandler(before, old);
  if (handler !== undefined && handler === namedHandler(after, now)) alike.push(`the same handler ${handler}`);
  if (sameSet(before.deps.get(old.id) ?? [], after.deps.get(now.id) ?? [])) alike.push('the same dependencies');
  if (settingsOf(old) === settingsOf(now)) alike.push('the same settings');
  if (old.name !== old.id && old.name === now.name) alike.push(`the same name "${now.name}"`);
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
  const candidates = gone.flatMap((old, oi) =>
    fresh.flatMap((now, ni) => {
      if (old.type !== now.type) return [];
      const alike = alikeIn(before, after, old, now);
      return alike.length >= 2 ? [{ old, now, alike, order: oi * fresh.length + ni }] : [];
    }),
  );
  // The most alike first; among equals, the order of the old and then the new task list (stable, so reruns agree).
  candidates.sort((x, y) => y.alike.length - x.alike.length || x.order - y.order);
  const renames: Rename[] = [];
  const taken = new Set<TaskDef>();
  for (const c of candidates) {
    if (taken.has(c.old) || taken.has(c.now)) continue;
    taken.add(c.old).add(c.now);
    renames.push({ from: c.old.id, to: c.now.id, alike: c.alike });
    pairs.push([c.old, c.now]);
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
