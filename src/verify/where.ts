/**
 * Where a property result points in the definition's YAML: a declared property at its entry under `properties:`, a
 * built-in one at the task it is about, else at `tasks:`. A path for positionIn (src/definition), so a caller with the
 * file's text turns it into line and column.
 */
import type { Definition } from '../definition/index.js';
import type { PropertyResult } from './types.js';

export interface PropertyPlace {
  path: (string | number)[];
  onKey: boolean;
}

export function propertyPlace(def: Definition, r: PropertyResult): PropertyPlace {
  const props = ['workflow', 'properties'];
  const p = def.properties;
  const inList = (key: string, list: string[], task: string | undefined) => {
    const i = task === undefined ? -1 : list.indexOf(task);
    return { path: i >= 0 && list.length > 1 ? [...props, key, i] : [...props, key], onKey: false };
  };
  if (p && r.task !== undefined) {
    switch (r.property) {
      case 'at_most_once':
        return inList('at_most_once', p.atMostOnce, r.task);
      case 'eventually':
        return inList('eventually', p.eventually, r.task);
      case 'always_before':
        return { path: [...props, 'always_before', r.task], onKey: true };
      case 'never_together': {
        const group = [r.task, ...(r.tasks ?? [])].join('\u0000');
        const i = p.neverTogether.findIndex((g) => g.join('\u0000') === group);
        return { path: [...props, 'never_together', ...(i >= 0 ? [i] : [])], onKey: false };
      }
    }
  }
  const task = def.tasks.find((t) => t.id === r.task);
  return task
    ? { path: ['workflow', 'tasks', task.index, 'id'], onKey: false }
    : { path: ['workflow', 'tasks'], onKey: true };
}
