/**
 * A run's `context.tasks` with structural sharing. The context is a record of
 * task id → TaskState that every action used to copy whole (`{ ...tasks }`):
 * O(tasks) per event, quadratic over a long run. A definition's task ids never
 * change during a run, so the record is kept as a PersistentVector of states
 * (in sorted id order, the order the state hash lists them in) behind a
 * read-only Proxy that looks and iterates exactly like the plain record (same
 * keys, same key order, JSON, spread, Object.entries, deep equality), plus
 * what the fold asks of every event kept up to date as tasks change: how many
 * tasks are in each status, and which are under way (neither PENDING nor
 * settled), so nothing per event has to scan every task.
 *
 * Small runs keep the plain record (actions.ts decides): the Proxy costs more
 * than copying a few keys.
 */
import type { TaskState, TaskStatus } from './context.js';
import { PersistentVector } from './persistent-vector.js';

const TABLE = Symbol('ledgerflow.taskTable');

/** The fixed part, shared by every version of one run's tasks. */
interface Shape {
  /** Key order of the record (the definition's). */
  readonly keys: readonly string[];
  /** Ids sorted as `Object.keys(tasks).sort()` sorts them: the order of the vector. */
  readonly sorted: readonly string[];
  /** id → position in `sorted`. */
  readonly position: ReadonlyMap<string, number>;
  /** id → position in `keys`. */
  readonly order: ReadonlyMap<string, number>;
}

/** Statuses of a task under way: neither waiting to become ready nor settled. Few at a time, whatever the run's size. */
const UNDER_WAY: ReadonlySet<TaskStatus> = new Set(['SCHEDULED', 'IN_PROGRESS', 'RETRYING', 'PENDING_APPROVAL', 'WAITING']);

export class TaskTable {
  /** The record view of this table (created once per table). */
  readonly record: Record<string, TaskState>;

  private constructor(
    readonly shape: Shape,
    readonly states: PersistentVector<TaskState>,
    private readonly counts: ReadonlyMap<TaskStatus, number>,
    /** Ids of the tasks under way, in key order. */
    readonly underWay: readonly string[],
  ) {
    this.record = recordOf(this);
  }

  static of(tasks: Record<string, TaskState>): TaskTable {
    const existing = tableOf(tasks);
    if (existing) return existing;
    const keys = Object.keys(tasks);
    const sorted = [...keys].sort();
    const shape: Shape = { keys, sorted, position: new Map(sorted.map((id, i) => [id, i])), order: new Map(keys.map((id, i) => [id, i])) };
    const counts = new Map<TaskStatus, number>();
    for (const id of keys) counts.set(tasks[id]!.status, (counts.get(tasks[id]!.status) ?? 0) + 1);
    return new TaskTable(shape, PersistentVector.from(sorted.map((id) => tasks[id]!)), counts, keys.filter((id) => UNDER_WAY.has(tasks[id]!.status)));
  }

  get(id: string): TaskState | undefined {
    const p = this.shape.position.get(id);
    return p === undefined ? undefined : this.states.get(p);
  }

  count(status: TaskStatus): number {
    return this.counts.get(status) ?? 0;
  }

  /** A new table with task `id` in `state`; `id` must be one of its tasks. */
  with(id: string, state: TaskState): TaskTable {
    const p = this.shape.position.get(id);
    if (p === undefined) throw new Error(`no task ${id} in this run's tasks`);
    const before = this.states.get(p);
    let { counts, underWay } = this;
    if (before.status !== state.status) {
      const c = new Map(counts);
      c.set(before.status, c.get(before.status)! - 1);
      c.set(state.status, (c.get(state.status) ?? 0) + 1);
      counts = c;
      const was = UNDER_WAY.has(before.status);
      const is = UNDER_WAY.has(state.status);
      if (was && !is) underWay = underWay.filter((t) => t !== id);
      if (is && !was) {
        const at = this.shape.order.get(id)!;
        const i = underWay.findIndex((t) => this.shape.order.get(t)! > at);
        underWay = i < 0 ? [...underWay, id] : [...underWay.slice(0, i), id, ...underWay.slice(i)];
      }
    }
    return new TaskTable(this.shape, this.states.with(p, state), counts, underWay);
  }
}

/**
 * The record view's target: an empty object that holds its table under a
 * symbol (configurable, so the Proxy need not list it). One handler serves
 * every table, so a new table (one per event of a long run) allocates a
 * target and a Proxy, not seven closures.
 */
const SLOT = Symbol('ledgerflow.taskTableSlot');
type Target = { [SLOT]: TaskTable };
const tableIn = (target: object): TaskTable => (target as Target)[SLOT];
const own = (table: TaskTable, key: string | symbol): key is string => typeof key === 'string' && table.shape.position.has(key);

const recordHandler: ProxyHandler<object> = {
  get: (target, key) => {
    const table = tableIn(target);
    if (own(table, key)) return table.states.get(table.shape.position.get(key)!);
    if (key === TABLE) return table;
    if (key === SLOT) return undefined;
    return Reflect.get(target, key);
  },
  has: (target, key) => own(tableIn(target), key) || (key !== SLOT && Reflect.has(target, key)),
  ownKeys: (target) => tableIn(target).shape.keys as string[],
  getOwnPropertyDescriptor: (target, key) => {
    const table = tableIn(target);
    if (own(table, key)) return { value: table.states.get(table.shape.position.get(key)!), writable: true, enumerable: true, configurable: true };
    return key === SLOT ? undefined : Reflect.getOwnPropertyDescriptor(target, key);
  },
  // A context is never changed in place (snapshots share it with their predecessors): refuse, loudly in strict mode.
  set: () => false,
  defineProperty: () => false,
  deleteProperty: () => false,
};

function recordOf(table: TaskTable): Record<string, TaskState> {
  // A plain object (Object.prototype, as the record view's target always had); the traps never show the slot.
  const target: Target = { [SLOT]: table };
  return new Proxy(target, recordHandler) as Record<string, TaskState>;
}

/** The table behind a record view, or null for a plain record. */
export function tableOf(tasks: Record<string, TaskState>): TaskTable | null {
  return (tasks as { [TABLE]?: TaskTable })[TABLE] ?? null;
}

/** `{ ...tasks, [id]: state }`, sharing structure when `tasks` is (or is made into) a table. */
export function withTaskState(tasks: Record<string, TaskState>, id: string, state: TaskState, asTable: boolean): Record<string, TaskState> {
  const table = tableOf(tasks) ?? (asTable ? TaskTable.of(tasks) : null);
  return table ? table.with(id, state).record : { ...tasks, [id]: state };
}

/** How many tasks are in one of `statuses`. */
export function countWithStatus(tasks: Record<string, TaskState>, statuses: readonly TaskStatus[]): number {
  const table = tableOf(tasks);
  let n = 0;
  if (table) {
    for (const s of statuses) n += table.count(s);
    return n;
  }
  for (const id in tasks) if (statuses.includes(tasks[id]!.status)) n++;
  return n;
}

/** Ids of the tasks under way (SCHEDULED, IN_PROGRESS, RETRYING, PENDING_APPROVAL) with one of `statuses`, in key order. */
export function underWayWithStatus(tasks: Record<string, TaskState>, statuses: readonly TaskStatus[]): string[] {
  for (const s of statuses) if (!UNDER_WAY.has(s)) throw new Error(`${s} is not a status of a task under way`);
  const table = tableOf(tasks);
  const out: string[] = [];
  if (table) {
    for (const id of table.underWay) if (statuses.includes(table.get(id)!.status)) out.push(id);
    return out;
  }
  for (const id in tasks) if (statuses.includes(tasks[id]!.status)) out.push(id);
  return out;
}
