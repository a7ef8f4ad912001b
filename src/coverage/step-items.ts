/**
 * The items one step of a path covers, read from the run's state before and after it (the catalog of what there is to
 * cover is items.ts). A file of its own: reading a step is apart from listing a definition's items.
 */
import type { TaskStatus } from '../compiler/index.js';
import { loopOwners, type Definition, type TaskDef } from '../definition/index.js';
import type { PendingEvent } from '../events/index.js';
import type { RunSnapshot } from '../runtime/index.js';
import { edgeName, REGION_STATE, RUN_TIMEOUT_ITEM, type Edge, type Item } from './items.js';

/** What an envelope type is called in the region config, without the task id (`timer.backoff`, `approval.rejected`). */
function eventKind(ev: PendingEvent): string | null {
  switch (ev.type) {
    case 'task.started':
    case 'task.completed':
    case 'task.failed':
      return ev.type;
    case 'timer.fired':
      return `timer.${ev.data.timer}`;
    case 'approval.recorded':
      return `approval.${ev.data.decision}`;
    case 'signal.received':
      return `signal.${ev.data.name}`;
    default:
      return null;
  }
}

/** The task an event moves on its own event (not an eventless guard): a task event's task, or a WAIT on a signal's name. */
function movedBy(t: TaskDef, event: PendingEvent | null): boolean {
  if (!event) return false;
  if (event.type === 'signal.received') return t.type === 'WAIT' && t.event === event.data.name;
  return 'task' in event.data && event.data.task === t.id;
}

/**
 * The items one step of a path covers: the state every region (and the run) is in afterwards, each region edge taken
 * (read from the change of task status: the event's own task moved on that event, any other moved on an eventless
 * guard), the run leaving `running`, and decision cases chosen. `before` is null for the initial state (every region
 * starts pending).
 */
/** A loop-body task's state for each status it settles an iteration in (regions.ts). */
const IN_ITERATION: Partial<Record<TaskStatus, string>> = {
  COMPLETED: 'iteration_done',
  FAILED: 'iteration_failed',
  TIMED_OUT: 'iteration_timed_out',
  SKIPPED: 'iteration_skipped',
};
const FINAL_OF: Record<string, string> = {
  iteration_done: 'done',
  iteration_failed: 'failed',
  iteration_timed_out: 'timed_out',
  iteration_skipped: 'skipped',
};

/** The region state a task is in: read from the state value while the run is active, else from its status. */
function regionState(s: RunSnapshot, id: string): string | null {
  if (s.status === 'active' && typeof s.value === 'object') {
    const v = (s.value as Record<string, Record<string, string>>).running?.[id];
    if (v !== undefined) return v;
  }
  return REGION_STATE[s.context.tasks[id]!.status];
}

/**
 * The edges a loop-body task's region took in one step, which may pass through states it does not rest in: it settles
 * its iteration (iteration_*), then goes back to pending for the next one or to the final state when the loop settled,
 * maybe on to scheduled, all in one macrostep.
 */
function bodyEdges(
  from: string,
  to: string,
  ownEvent: string | null,
  settled: string | undefined,
  nextIteration: boolean,
  loopRan: boolean,
): Edge[] {
  const edges: Edge[] = [];
  let at = from;
  const move = (next: string, on: string | null) => {
    edges.push({ from: at, to: next, on });
    at = next;
  };
  // Still where it was (a body task settled for good while the run goes on): it took no edge.
  if (from === to && !nextIteration) return edges;
  const leaving =
    nextIteration || (FINAL_OF[to] === undefined && ['done', 'failed', 'timed_out', 'skipped'].includes(to));
  if (!leaving) return from === to ? [] : [{ from, to, on: ownEvent }];
  // A body task still pending when its loop settled without ever running is skipped at once.
  if (!nextIteration && from === 'pending' && !loopRan) return [{ from, to, on: null }];
  if (!at.startsWith('iteration_')) {
    const s = nextIteration ? settled : `iteration_${to}`;
    if (s === undefined) return from === to ? [] : [{ from, to, on: ownEvent }];
    move(s, at === 'pending' ? null : ownEvent);
  }
  if (!nextIteration) {
    move(to, null);
    return edges;
  }
  move('pending', null);
  if (to !== 'pending') move(to, null);
  return edges;
}

/**
 * The iteration_* state a body task settled its previous iteration in, when the loop went on in the same step: from its
 * own event, else (an eventless settle: a decision, a skip) from the loop's record of that iteration.
 */
function settledIn(t: TaskDef, ownEvent: string | null, loopOutput: unknown, iteration: number): string | undefined {
  const human =
    t.type === 'HUMAN'
      ? (
          {
            fail: 'iteration_timed_out',
            reject: 'iteration_failed',
            skip: 'iteration_skipped',
            approve: 'iteration_done',
          } as const
        )[t.onTimeout]
      : undefined;
  const byEvent: Record<string, string | undefined> = {
    'task.completed': 'iteration_done',
    'task.failed': 'iteration_failed',
    'timer.timeout': 'iteration_timed_out',
    'approval.approved': 'iteration_done',
    'approval.rejected': 'iteration_failed',
    'timer.approval_timeout': human,
  };
  if (ownEvent !== null) return byEvent[ownEvent];
  const entry = (loopOutput as { iterations?: Record<string, unknown>[] } | null)?.iterations?.[iteration - 1];
  return entry && entry[t.id] !== null && entry[t.id] !== undefined ? 'iteration_done' : 'iteration_skipped';
}

export function stepItems(
  def: Definition,
  before: RunSnapshot | null,
  after: RunSnapshot,
  event: PendingEvent | null,
): Item[] {
  // Every region starts in pending; the initial state may already have left it (tasks with nothing to wait for).
  const out: Item[] = before ? [] : def.tasks.map((t) => ({ kind: 'state' as const, task: t.id, item: 'pending' }));
  const runState = (s: RunSnapshot) => (s.status === 'active' ? 'running' : String(s.value));
  out.push({ kind: 'state', task: null, item: runState(after) });
  if (before && runState(before) === 'running' && runState(after) !== 'running') {
    const timedOut = event?.type === 'timer.fired' && event.data.timer === 'run_timeout';
    out.push({
      kind: 'transition',
      task: null,
      item: timedOut ? RUN_TIMEOUT_ITEM(runState(after)) : `running → ${runState(after)}`,
    });
  }
  const eventTask = event && 'task' in event.data ? event.data.task : null;
  const loops = loopOwners(def);
  for (const t of def.tasks) {
    const now = after.context.tasks[t.id]!;
    const loop = loops.get(t.id);
    // A body task's settled statuses are iteration_* states while its loop runs.
    let to = regionState(after, t.id);
    if (
      loop !== undefined &&
      after.status !== 'active' &&
      to !== null &&
      before &&
      before.context.tasks[loop]!.status === 'IN_PROGRESS' &&
      after.context.tasks[loop]!.status === 'IN_PROGRESS'
    ) {
      to = IN_ITERATION[now.status] ?? to;
    }
    if (to === null) continue;
    out.push({ kind: 'state', task: t.id, item: to });
    const from = before ? regionState(before, t.id) : 'pending';
    if (from === null) continue;
    const own = event && movedBy(t, event) ? eventKind(event) : null;
    // An item's event is a self-transition of the MAP's `mapping` (map.ts).
    if (
      from === 'mapping' &&
      to === 'mapping' &&
      event &&
      eventTask === t.id &&
      'item' in event.data &&
      event.data.item !== undefined
    ) {
      out.push({ kind: 'transition', task: t.id, item: edgeName(from, to, eventKind(event)) });
    }
    if (loop !== undefined) {
      const was = before?.context.tasks[t.id];
      const nextIteration = was !== undefined && (now.iteration ?? 1) > (was.iteration ?? 1);
      const settled = nextIteration
        ? settledIn(t, own, after.context.tasks[loop]!.output, was.iteration ?? 1)
        : undefined;
      const loopRan = before !== null && before.context.tasks[loop]!.status === 'IN_PROGRESS';
      for (const e of bodyEdges(from, to, own, settled, nextIteration, loopRan)) {
        out.push({ kind: 'transition', task: t.id, item: edgeName(e.from, e.to, e.on) });
        if (e.to !== to) out.push({ kind: 'state', task: t.id, item: e.to });
      }
    } else if (
      t.type === 'DO_WHILE' &&
      before &&
      from === 'looping' &&
      (now.iteration ?? 0) > (before.context.tasks[t.id]!.iteration ?? 0)
    ) {
      // The loop's next iteration: a self-transition, its state unchanged (and maybe settled in the same step, never here).
      out.push({ kind: 'transition', task: t.id, item: edgeName('looping', 'looping', null) });
      if (to !== 'looping') out.push({ kind: 'transition', task: t.id, item: edgeName('looping', to, null) });
    } else if (t.type === 'MAP' && from === 'pending' && (to === 'done' || to === 'failed')) {
      // A MAP over an empty list (or not a list) passes through `mapping` within one step.
      out.push({ kind: 'state', task: t.id, item: 'mapping' });
      out.push({ kind: 'transition', task: t.id, item: edgeName('pending', 'mapping', null) });
      out.push({ kind: 'transition', task: t.id, item: edgeName('mapping', to, null) });
    } else if (from !== to) {
      // A MAP leaves `mapping` on an eventless edge, once its last item's event settled it.
      out.push({ kind: 'transition', task: t.id, item: edgeName(from, to, from === 'mapping' ? null : own) });
    }
    if (from !== to && t.type === 'DECISION' && now.decision?.case)
      out.push({ kind: 'decisionCase', task: t.id, item: now.decision.case });
  }
  return out;
}
