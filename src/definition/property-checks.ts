/**
 * `properties:` names tasks (docs/verify.md): each must be a task of this workflow, or the property would be checked
 * against nothing and always hold. Reported at the name as written, with a did-you-mean.
 */
import type { CheckContext } from './context.js';
import { didYouMean, isObj, type RawPath } from './issues.js';

export function checkProperties(ctx: CheckContext): void {
  const raw = ctx.wf.properties;
  if (!isObj(raw)) return;
  const base: RawPath = ['workflow', 'properties'];
  const known = (id: unknown, where: string, path: RawPath, onKey = false) => {
    if (typeof id !== 'string' || ctx.ids.has(id)) return;
    ctx.error(
      'LF_UNKNOWN_TASK',
      `unknown task "${id}" in properties.${where}${didYouMean(id, [...ctx.ids])} (a property names tasks of this workflow)`,
      path,
      onKey ? { onKey } : {},
    );
  };
  /** A task id or a list of them, at `path`. */
  const ids = (v: unknown, where: string, path: RawPath) => {
    if (Array.isArray(v)) v.forEach((id, i) => known(id, where, [...path, i]));
    else known(v, where, path);
  };
  ids(raw.at_most_once, 'at_most_once', [...base, 'at_most_once']);
  ids(raw.eventually, 'eventually', [...base, 'eventually']);
  if (isObj(raw.always_before)) {
    for (const [task, before] of Object.entries(raw.always_before)) {
      known(task, 'always_before', [...base, 'always_before', task], true);
      ids(before, `always_before.${task}`, [...base, 'always_before', task]);
    }
  }
  if (Array.isArray(raw.never_together)) {
    raw.never_together.forEach((group, i) => ids(group, `never_together[${i}]`, [...base, 'never_together', i]));
  }
}
