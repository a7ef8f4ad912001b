/**
 * What the semantic checks share: the normalised definition, the raw workflow (to point at the key the user actually
 * wrote: `next` or `next_tasks`, a string or a list item) and the sink for findings.
 */
import type { ErrorCode } from '../errors/index.js';
import { isObj, rawAt, type Finding, type RawPath } from './issues.js';
import { idList } from './normalize-values.js';
import type { TaskDef } from './task-types.js';
import type { Definition } from './types.js';

export class CheckContext {
  readonly ids: Set<string>;
  /** The first task with each id (a duplicate is reported by checkIds). */
  private readonly byId = new Map<string, TaskDef>();
  constructor(
    readonly def: Definition,
    readonly wf: Record<string, unknown>,
    readonly report: (f: Finding) => void,
  ) {
    this.ids = new Set(def.tasks.map((t) => t.id));
    for (const t of def.tasks) if (!this.byId.has(t.id)) this.byId.set(t.id, t);
  }

  task(id: string): TaskDef | undefined {
    return this.byId.get(id);
  }

  taskPath(t: TaskDef): RawPath {
    return ['workflow', 'tasks', t.index];
  }

  rawTask(t: TaskDef): Record<string, unknown> {
    const v = rawAt(this.wf, ['tasks', t.index]);
    return isObj(v) ? v : {};
  }

  /** Path of the i-th id of a string-or-list field. */
  listPath(t: TaskDef, key: string, i: number): RawPath {
    const v = this.rawTask(t)[key];
    return Array.isArray(v) ? [...this.taskPath(t), key, rawIndex(v, i)] : [...this.taskPath(t), key];
  }

  /** Path of a target inside a decision case, under whichever of next / next_tasks names it. */
  casePath(t: TaskDef, caseName: string, target: string): RawPath {
    const cases = this.rawTask(t).decision_cases;
    const body = isObj(cases) ? cases[caseName] : undefined;
    const base = [...this.taskPath(t), 'decision_cases', caseName];
    if (!isObj(body)) return base;
    for (const key of ['next', 'next_tasks']) {
      const v = body[key];
      const i = idList(v).indexOf(target);
      if (i >= 0) return Array.isArray(v) ? [...base, key, rawIndex(v, i)] : [...base, key];
    }
    return base;
  }

  /** fork_tasks may be a list of lists: find the raw place of the i-th id of the flattened list. */
  forkPath(t: TaskDef, flatIndex: number): RawPath {
    const v = this.rawTask(t).fork_tasks;
    const base = [...this.taskPath(t), 'fork_tasks'];
    if (!Array.isArray(v)) return base;
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      const inner = idList(v[i]);
      if (flatIndex < n + inner.length) {
        return Array.isArray(v[i]) ? [...base, i, rawIndex(v[i] as unknown[], flatIndex - n)] : [...base, i];
      }
      n += inner.length;
    }
    return base;
  }

  error(code: ErrorCode, message: string, path: RawPath, extra: Partial<Finding> = {}): void {
    this.report({ severity: 'error', code, message, path, ...extra });
  }

  warn(code: ErrorCode, message: string, path: RawPath, extra: Partial<Finding> = {}): void {
    this.report({ severity: 'warning', code, message, path, ...extra });
  }
}

/** idList drops non-strings: map an index in it back to the raw list. */
function rawIndex(list: unknown[], i: number): number {
  let n = -1;
  for (let j = 0; j < list.length; j++) {
    if (typeof list[j] === 'string' && ++n === i) return j;
  }
  return i;
}
