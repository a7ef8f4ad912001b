/**
 * What one commit holds: the inputs folded in order (those the run no longer accepts are set aside as stale), then a
 * task.started for every task the fold just scheduled, so a handler only ever runs once its start is durable. Pure: the
 * live driver and the engines sharing work over NATS both use it.
 */
import { BlobNotLoadedError } from '../errors/index.js';
import {
  iso,
  itemsWithStatus,
  someItemIn,
  underWayWithStatus,
  type CompiledWorkflow,
  type RunReuse,
} from '../compiler/index.js';
import { markBuiltByFold, type EventEnvelope, type PendingEvent } from '../events/index.js';
import { applyEvent, recordedState, rejectionReason, type RunSnapshot } from './fold.js';
import { isMapTask, taskGates } from './task-gates.js';
import { workflowAfter } from './migration.js';

const SCHEDULED = ['SCHEDULED'] as const;
const IN_PROGRESS = ['IN_PROGRESS'] as const;

/**
 * The state each event of a fold-built list led to, in order: the snapshots the fold made anyway, kept beside the list
 * (a non-enumerable property keyed by a module-private symbol, one per list, as markBuiltByFold's mark) so a reader of
 * the commit (the execution log's lines) takes them instead of folding every event a second time. A list read from a
 * store, copied, or grown without its states has none (or one of another length): such a reader folds, as before. The
 * states are the fold's own, so a reader that folds gets the same ones (replay's contract).
 */
const FOLDED_STATES = Symbol('ledgerflow.foldedStates');

export function foldedStatesOf(events: readonly EventEnvelope[]): readonly RunSnapshot[] | undefined {
  const states = (events as unknown as Record<symbol, RunSnapshot[] | undefined>)[FOLDED_STATES];
  return states && states.length === events.length ? states : undefined;
}

/** Keeps `states` beside `events` (one per event, in order); returns the list. */
export function withFoldedStates<T extends EventEnvelope[]>(events: T, states: RunSnapshot[]): T {
  Object.defineProperty(events, FOLDED_STATES, { value: states, configurable: true });
  return events;
}

/** Appends `more`'s events and their states to `events` (a group growing in place keeps its states whole). */
export function pushFolded(events: EventEnvelope[], more: readonly EventEnvelope[]): void {
  const had = foldedStatesOf(events);
  const add = foldedStatesOf(more);
  events.push(...more);
  if (had && add) (had as RunSnapshot[]).push(...add);
}

export interface PreparedCommit {
  events: EventEnvelope[];
  snapshot: RunSnapshot;
  seq: number;
  stale: { event: PendingEvent; reason: string }[];
}

/**
 * The events of one commit as they are folded: each accepted input's envelope, the state it led to, and the inputs
 * set aside as stale. A class, not a closure over prepareCommit's locals: one is made per commit of every run.
 */
class CommitFold {
  readonly states: RunSnapshot[] = [];
  readonly events: EventEnvelope[];
  readonly stale: PreparedCommit['stale'] = [];
  constructor(
    private readonly compiled: CompiledWorkflow,
    public snap: RunSnapshot,
    public next: number,
    readonly now: string,
  ) {
    this.events = withFoldedStates(markBuiltByFold([]), this.states);
  }

  add(input: PendingEvent): boolean {
    let ev = input;
    let r: ReturnType<typeof applyEvent>;
    try {
      r = applyEvent(this.compiled, this.snap, ev);
    } catch (err) {
      // A large payload not loaded yet is no failure of the run: the executor loads it and evaluates again.
      if (err instanceof BlobNotLoadedError) throw err;
      // Folding threw (a definition that got past validation but cannot run, or a bug): the run
      // fails with the error, recorded, instead of the engine crashing on it at every resume.
      const failed = runFailed(ev, err, this.now);
      r = applyEvent(this.compiled, this.snap, failed);
      ev = failed;
    }
    if (!r.accepted) {
      this.stale.push({ event: ev, reason: rejectionReason(this.snap, ev) });
      return false;
    }
    const snap = r.snapshot;
    this.snap = snap;
    const ctx = snap.context;
    // One literal, fields in the schema's order: every envelope gets the same shape (cheaper to encode and check
    // than a spread) and is stored byte for byte as a parsed one would be.
    const state = recordedState(snap);
    this.events.push({
      runId: ctx.runId,
      workflowId: ctx.workflowId,
      version: ctx.version,
      seq: ++this.next,
      time: ev.time,
      state,
      type: ev.type,
      data: ev.data,
    } as EventEnvelope);
    this.states.push(snap);
    return true;
  }

  done(): PreparedCommit {
    return { events: this.events, snapshot: this.snap, seq: this.next, stale: this.stale };
  }
}

/** `startScheduled: false` (a draining driver): the inputs only; scheduled tasks stay SCHEDULED for the next driver to start. */
export function prepareCommit(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  seq: number,
  inputs: PendingEvent[],
  nowMs: number,
  opts: { startScheduled?: boolean } = {},
): PreparedCommit {
  const f = new CommitFold(compiled, snapshot, seq, iso(nowMs));
  const now = f.now;
  for (const ev of inputs) f.add(ev);
  // Paused (run.paused): nothing starts; run.resumed lets the next commit start every scheduled task.
  if (f.snap.status === 'active' && f.snap.context.paused === true) return f.done();
  // A retry's reused tasks complete before anything starts: they need no executor (so a draining driver completes them too).
  if (f.snap.context.reuse)
    completeReused(
      f.snap.context.reuse,
      () => f.snap,
      (ev) => f.add(ev),
      now,
    );
  if (opts.startScheduled === false) return f.done();
  // `add` replaces snap, but a task.started only changes its own task: the scheduled set is the one seen here.
  // In key order, as a scan of every task would find them, but from the tasks under way only.
  const tasks = f.snap.context.tasks;
  // A gated task's attempt (concurrency:, rate_limit:) stays SCHEDULED: its start comes from its gate (task-gates.ts).
  const gates = taskGates(compiled);
  for (const task of underWayWithStatus(tasks, SCHEDULED)) {
    if (gates.has(task) && !tasks[task]!.items && !isMapTask(compiled, task)) continue;
    const { attempts, iteration } = tasks[task]!;
    f.add({
      type: 'task.started',
      time: now,
      data: iteration === undefined ? { task, attempt: attempts + 1 } : { task, attempt: attempts + 1, iteration },
    });
  }
  // MAP items the fold scheduled (map.ts): a task.started each, in item order. Starting one item changes no other's status.
  for (const task of underWayWithStatus(tasks, IN_PROGRESS)) {
    const { items, iteration } = tasks[task]!;
    if (!items || gates.has(task)) continue;
    for (const item of itemsWithStatus(items, 'SCHEDULED')) {
      const attempt = items[item]!.attempts + 1;
      f.add({
        type: 'task.started',
        time: now,
        data: iteration === undefined ? { task, attempt, item } : { task, attempt, iteration, item },
      });
    }
  }
  return f.done();
}

/**
 * Whether a step with no input would start something: a task or MAP item
 * scheduled and not gated (a gated one waits for its gate's grant, not a step).
 */
export function hasStartable(compiled: CompiledWorkflow, snap: RunSnapshot): boolean {
  const tasks = snap.context.tasks;
  const gates = taskGates(compiled);
  for (const task of underWayWithStatus(tasks, SCHEDULED)) {
    if (!gates.has(task) || isMapTask(compiled, task)) return true;
  }
  return underWayWithStatus(tasks, IN_PROGRESS).some(
    (task) => !gates.has(task) && tasks[task]!.items !== undefined && someItemIn(tasks[task]!.items!, SCHEDULED),
  );
}

const REUSABLE_NOW = ['SCHEDULED', 'PENDING_APPROVAL', 'WAITING'] as const;

/** Whether a retry's reused task is ready to complete (a step with no input would complete it): e.g. a HUMAN made ready by an approval recorded from outside. */
export function reuseDue(snapshot: RunSnapshot): boolean {
  const { reuse, tasks } = snapshot.context;
  if (!reuse || snapshot.status !== 'active' || snapshot.context.paused === true) return false;
  return underWayWithStatus(tasks, REUSABLE_NOW).some(
    (id) =>
      Object.hasOwn(reuse.outputs, id) &&
      tasks[id]!.iteration === undefined &&
      (tasks[id]!.status !== 'SCHEDULED' || tasks[id]!.attempts === 0),
  );
}

/**
 * Retry from failed (retry.ts): every task the run reuses that is ready now completes with the retried run's output,
 * without an attempt: a work task (SCHEDULED) with task.started + task.completed, a HUMAN awaiting approval or a WAIT
 * waiting with task.completed, each marked `reused`. A completion can make the next reused task ready, so this goes on,
 * in dependency order, until none is left ready. Loop iterations and MAP items are never reused.
 */
function completeReused(
  reuse: RunReuse,
  current: () => RunSnapshot,
  add: (ev: PendingEvent) => boolean,
  now: string,
): void {
  const reused = { runId: reuse.runId };
  for (let more = true; more && current().status === 'active'; ) {
    more = false;
    for (const task of underWayWithStatus(current().context.tasks, REUSABLE_NOW)) {
      if (!Object.hasOwn(reuse.outputs, task)) continue;
      // Read again: a completion earlier in this pass may have moved it on (or the run may have settled).
      const snap = current();
      const t = snap.context.tasks[task]!;
      if (snap.status !== 'active' || t.iteration !== undefined || t.items !== undefined) continue;
      const output = reuse.outputs[task];
      if (t.status === 'SCHEDULED') {
        if (t.attempts !== 0) continue; // started before (never, for a reused task): leave it to its attempts
        more =
          (add({ type: 'task.started', time: now, data: { task, attempt: 1, reused } }) &&
            add({ type: 'task.completed', time: now, data: { task, attempt: 1, output, reused } })) ||
          more;
      } else if (t.status === 'PENDING_APPROVAL' || t.status === 'WAITING') {
        more = add({ type: 'task.completed', time: now, data: { task, attempt: t.attempts, output, reused } }) || more;
      }
    }
  }
}

/** The run.failed that takes the place of an input the fold could not apply. */
function runFailed(ev: PendingEvent, err: unknown, now: string): PendingEvent {
  const task = 'task' in ev.data ? ` of task ${ev.data.task}` : '';
  const message = `the engine could not apply ${ev.type}${task} to this run: ${err instanceof Error ? err.message : String(err)}`;
  return { type: 'run.failed', time: now, data: { error: { code: 'LF_RUN_ERROR', retryable: false, message } } };
}

/** Folds events already in the log (another writer's) onto a snapshot; with the run's workflow after them (a run.migrated's, when one is among them). */
export function foldOntoRun(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  events: EventEnvelope[],
): { compiled: CompiledWorkflow; snapshot: RunSnapshot } {
  let snap = snapshot;
  let wf = compiled;
  for (const ev of events) {
    snap = applyEvent(wf, snap, ev).snapshot;
    if (ev.type === 'run.migrated') wf = workflowAfter(wf, ev);
  }
  return { compiled: wf, snapshot: snap };
}
