/**
 * A run's `context.tasks` with structural sharing. The context is a record of task id → TaskState that every action
 * used to copy whole (`{ ...tasks }`): O(tasks) per event, quadratic over a long run. A definition's task ids never
 * change during a run, so the record is kept as a PersistentVector of states (in sorted id order, the order the state
 * hash lists them in) behind a read-only Proxy that looks and iterates exactly like the plain record (same keys, same
 * key order, JSON, spread, Object.entries, deep equality), plus what the fold asks of every event kept up to date as
 * tasks change: how many tasks are in each status, and which are under way (neither PENDING nor settled), so nothing
 * per event has to scan every task.
 *
 * Small runs keep the plain record (actions.ts decides): the Proxy costs more than copying a few keys.
 */
import { FINAL_TASK_STATUSES, TASK_STATUSES, type TaskState, type TaskStatus } from './context.js';
import { PersistentVector } from './persistent-vector.js';

const TABLE = Symbol('ledgerflow.taskTable');

/** The fixed part, shared by every version of one run's tasks (and by the runs of one definition: actionKit keeps it). */
export interface Shape {
  /** Key order of the record (the definition's). */
  readonly keys: readonly string[];
  /** Ids sorted as `Object.keys(tasks).sort()` sorts them: the order of the vector. */
  readonly sorted: readonly string[];
  /** id → position in `sorted`. */
  readonly position: ReadonlyMap<string, number>;
  /** id → position in `keys`. */
  readonly order: ReadonlyMap<string, number>;
  /** Position in `sorted` → position in `keys` (what `order` gives, by the index a change already has). */
  readonly orderAt: Int32Array;
  /** `sorted`, each id written as JSON (what the state hash writes a task's entry with: runtime/state-hash.ts). */
  readonly quoted: readonly string[];
}

/**
 * How many tasks are in each status: an object with every status as a key, in one order, so that copying it for a
 * change (once per event of a long run) is V8's clone of a small object; a Map's copy cost as much as the rest.
 */
type Counts = Readonly<Record<TaskStatus, number>>;
export const NO_COUNTS: Counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
/**
 * A copy of the counts, every status written out: one fixed shape, built field by field, where a spread of the object
 * Object.fromEntries made (and keyed stores changed) was a tenth of a long run's TaskTable.with.
 */
export const copyCounts = (c: Counts): Record<TaskStatus, number> => ({
  PENDING: c.PENDING,
  SCHEDULED: c.SCHEDULED,
  IN_PROGRESS: c.IN_PROGRESS,
  RETRYING: c.RETRYING,
  PENDING_APPROVAL: c.PENDING_APPROVAL,
  COMPLETED: c.COMPLETED,
  FAILED: c.FAILED,
  TIMED_OUT: c.TIMED_OUT,
  SKIPPED: c.SKIPPED,
  CANCELLED: c.CANCELLED,
  WAITING: c.WAITING,
});

/** Statuses of a task under way: neither waiting to become ready nor settled. Few at a time, whatever the run's size. */
const UNDER_WAY: ReadonlySet<TaskStatus> = new Set([
  'SCHEDULED',
  'IN_PROGRESS',
  'RETRYING',
  'PENDING_APPROVAL',
  'WAITING',
]);

export class TaskTable {
  /** The record view of this table (created once per table). */
  readonly record: Record<string, TaskState>;

  private constructor(
    readonly shape: Shape,
    readonly states: PersistentVector<TaskState>,
    private readonly counts: Counts,
    /** Ids of the tasks under way, in key order. */
    readonly underWay: readonly string[],
  ) {
    this.record = recordOf(this);
  }

  /**
   * The table of a plain record. `known`: the shape of an earlier run of the same definition, used when the record has
   * the same keys in the same order (checked): a long run's first table then costs no sort and no maps.
   */
  static of(tasks: Record<string, TaskState>, known: Shape | null = null): TaskTable {
    const existing = tableOf(tasks);
    if (existing) return existing;
    const keys = Object.keys(tasks);
    const shape = known !== null && sameKeys(known.keys, keys) ? known : shapeOf(keys);
    // By position rather than by key: a record of thousands of keys is a dictionary, and a lookup per task cost more than the rest.
    const values = Object.values(tasks);
    const counts: Record<TaskStatus, number> = copyCounts(NO_COUNTS);
    for (const t of values) counts[t.status]++;
    const { orderAt } = shape;
    const states = new Array<TaskState>(values.length);
    for (let p = 0; p < states.length; p++) states[p] = values[orderAt[p]!]!;
    return new TaskTable(
      shape,
      PersistentVector.from(states),
      counts,
      keys.filter((_, i) => UNDER_WAY.has(values[i]!.status)),
    );
  }

  /** A table of these parts (pendingTasks). */
  static fromParts(
    shape: Shape,
    states: PersistentVector<TaskState>,
    counts: Counts,
    underWay: readonly string[],
  ): TaskTable {
    return new TaskTable(shape, states, counts, underWay);
  }

  get(id: string): TaskState | undefined {
    const p = this.shape.position.get(id);
    return p === undefined ? undefined : this.states.get(p);
  }

  count(status: TaskStatus): number {
    return this.counts[status];
  }

  /** A new table with task `id` in `state`; `id` must be one of its tasks. */
  with(id: string, state: TaskState): TaskTable {
    const p = this.shape.position.get(id);
    if (p === undefined) throw new Error(`no task ${id} in this run's tasks`);
    const before = this.states.get(p);
    let { counts, underWay } = this;
    if (before.status !== state.status) {
      const c = copyCounts(counts);
      c[before.status]--;
      c[state.status]++;
      counts = c;
      const was = UNDER_WAY.has(before.status);
      const is = UNDER_WAY.has(state.status);
      if (was && !is) underWay = underWay.filter((t) => t !== id);
      if (is && !was) {
        const at = this.shape.orderAt[p]!;
        const i = underWay.findIndex((t) => this.shape.order.get(t)! > at);
        underWay = i < 0 ? [...underWay, id] : [...underWay.slice(0, i), id, ...underWay.slice(i)];
      }
    }
    return new TaskTable(this.shape, this.states.with(p, state), counts, underWay);
  }

  /** A new table with each task `change` replaced (see withTaskStates); this one when it replaces none. */
  withChanges(change: (t: TaskState, id: string) => TaskState): TaskTable {
    const { sorted } = this.shape;
    const changes: [number, TaskState][] = [];
    let c = 0;
    for (const chunk of this.states.chunks) {
      for (let i = 0; i < chunk.length; i++, c++) {
        const next = change(chunk[i]!, sorted[c]!);
        if (next !== chunk[i]) changes.push([c, next]);
      }
    }
    if (changes.length === 0) return this;
    const counts = copyCounts(this.counts);
    let underWayChanged = false;
    for (const [p, state] of changes) {
      const before = this.states.get(p);
      if (before.status === state.status) continue;
      counts[before.status]--;
      counts[state.status]++;
      if (UNDER_WAY.has(before.status) || UNDER_WAY.has(state.status)) underWayChanged = true;
    }
    const states = this.states.withAll(changes);
    const { keys, position } = this.shape;
    const underWay = underWayChanged
      ? keys.filter((id) => UNDER_WAY.has(states.get(position.get(id)!).status))
      : this.underWay;
    return new TaskTable(this.shape, states, counts, underWay);
  }
}

function shapeOf(keys: readonly string[]): Shape {
  const sorted = [...keys].sort();
  const order = new Map(keys.map((id, i) => [id, i]));
  return {
    keys,
    sorted,
    position: new Map(sorted.map((id, i) => [id, i])),
    order,
    orderAt: Int32Array.from(sorted, (id) => order.get(id)!),
    quoted: sorted.map((id) => JSON.stringify(id)),
  };
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The record view's target: an empty object that holds its table under a symbol (configurable, so the Proxy need not
 * list it). One handler serves every table, so a new table (one per event of a long run) allocates a target and a
 * Proxy, not seven closures.
 */
const SLOT = Symbol('ledgerflow.taskTableSlot');
type Target = { [SLOT]: TaskTable };
const tableIn = (target: object): TaskTable => (target as Target)[SLOT];
const own = (table: TaskTable, key: string | symbol): key is string =>
  typeof key === 'string' && table.shape.position.has(key);

const recordHandler: ProxyHandler<object> = {
  get: (target, key) => {
    const table = tableIn(target);
    // One lookup for a task's state, the read every guard and action makes (not `own` and then the position again).
    const p = typeof key === 'string' ? table.shape.position.get(key) : undefined;
    if (p !== undefined) return table.states.get(p);
    if (key === TABLE) return table;
    if (key === SLOT) return undefined;
    return Reflect.get(target, key);
  },
  has: (target, key) => own(tableIn(target), key) || (key !== SLOT && Reflect.has(target, key)),
  ownKeys: (target) => tableIn(target).shape.keys as string[],
  getOwnPropertyDescriptor: (target, key) => {
    const table = tableIn(target);
    if (own(table, key))
      return {
        value: table.states.get(table.shape.position.get(key)!),
        writable: true,
        enumerable: true,
        configurable: true,
      };
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

/**
 * How a definition's runs make their tasks into tables: null for a definition whose runs keep plain records (few
 * tasks); otherwise the shape its last run had, reused while the next run's record has the same keys.
 */
export interface TableMaker {
  shape: Shape | null;
}

/**
 * Runs with more tasks than this keep their tasks in a TaskTable: one task changes without copying the others. Below
 * it, copying the plain record is cheaper (action-kit.ts decides for every change, machine.ts for a run's start).
 */
export const TABLE_FROM_TASKS = 64;

/**
 * A run's first tasks, every one `state(id)` (each its own object), as a table's record: the record `{ [id]: state(id)
 * }` in `ids` order, without building it. A long run's start built that record (a dictionary of thousands of keys), and
 * its first change read it back whole into a table (its keys and values enumerated, each in a sort): about a
 * millisecond each for 3,000 tasks.
 */
export function pendingTasks(
  ids: readonly string[],
  state: (id: string) => TaskState,
  maker: TableMaker,
): Record<string, TaskState> {
  const shape = maker.shape !== null && sameKeys(maker.shape.keys, ids) ? maker.shape : shapeOf(ids);
  maker.shape = shape;
  const { sorted } = shape;
  const states = new Array<TaskState>(sorted.length);
  const counts = copyCounts(NO_COUNTS);
  let underWay = false;
  for (let p = 0; p < sorted.length; p++) {
    const t = state(sorted[p]!);
    states[p] = t;
    counts[t.status]++;
    if (UNDER_WAY.has(t.status)) underWay = true;
  }
  const ofUnderWay = underWay ? ids.filter((id) => UNDER_WAY.has(states[shape.position.get(id)!]!.status)) : [];
  return TaskTable.fromParts(shape, PersistentVector.from(states), counts, ofUnderWay).record;
}

/** `{ ...tasks, [id]: state }`, sharing structure when `tasks` is (or is made into) a table. */
export function withTaskState(
  tasks: Record<string, TaskState>,
  id: string,
  state: TaskState,
  maker: TableMaker | null,
): Record<string, TaskState> {
  let table = tableOf(tasks);
  if (table === null && maker !== null) {
    table = TaskTable.of(tasks, maker.shape);
    maker.shape = table.shape;
  }
  if (table) return table.with(id, state).record;
  // `{ ...tasks, [id]: state }` (id is one of the tasks, never a prototype's name: definition/checks.ts): a store into
  // the clone, where a computed key after a spread in the literal was defined by the runtime.
  const out = { ...tasks };
  out[id] = state;
  return out;
}

/**
 * `tasks` with each task `change` gives a new state for replaced (the others as they are): the very same record when it
 * changes none, a table again when it was one (one copy of each touched chunk, however many changes), else a record.
 */
export function withTaskStates(
  tasks: Record<string, TaskState>,
  change: (t: TaskState, id: string) => TaskState,
): Record<string, TaskState> {
  const table = tableOf(tasks);
  if (table === null) {
    let out: Record<string, TaskState> | null = null;
    for (const id in tasks) {
      const t = tasks[id]!;
      const next = change(t, id);
      if (next !== t) (out ??= { ...tasks })[id] = next;
    }
    return out ?? tasks;
  }
  return table.withChanges(change).record;
}

/**
 * `Object.entries(tasks)`, the same pairs in the same order. A table's are read from its vector: through the record
 * view, each task cost two Proxy traps and a lookup in a map of every id (a long run's view and scope read every task).
 */
/** The share of a run's tasks that have ended (completed, failed, skipped, cancelled), 0..100: the monitor's and the workset's progress. */
export function progressPercent(tasks: Record<string, TaskState>): number {
  const all = taskEntries(tasks);
  return all.length === 0
    ? 100
    : Math.round((100 * all.filter(([, t]) => FINAL_TASK_STATUSES.includes(t.status)).length) / all.length);
}

export function taskEntries(tasks: Record<string, TaskState>): [string, TaskState][] {
  const table = tableOf(tasks);
  if (table === null) return Object.entries(tasks);
  const { sorted, orderAt } = table.shape;
  const out = new Array<[string, TaskState]>(sorted.length);
  let p = 0;
  for (const chunk of table.states.chunks)
    for (let i = 0; i < chunk.length; i++, p++) out[orderAt[p]!] = [sorted[p]!, chunk[i]!];
  return out;
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
