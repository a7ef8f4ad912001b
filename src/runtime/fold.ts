/**
 * The fold: a run's state is its events folded through the compiled statechart, run by the compiler's interpreter
 * (src/compiler/interpreter.ts), which computes exactly what XState's pure `initialTransition` / `transition` would, at
 * a fraction of the cost. Nothing here runs an effect, reads a clock or touches a store: replay and live execution
 * share exactly this code, so they cannot disagree.
 */
import type { CompiledWorkflow, FoldSnapshot, MachineEvent, PersistedFold } from '../compiler/index.js';
import {
  ACTIVE_TASK_STATUSES,
  countWithStatus,
  HELD_REASON,
  isHeld,
  isoMs,
  movesWhileHeld,
  workflowOf,
} from '../compiler/index.js';
import {
  recordedDefinitionOf,
  type EventEnvelope,
  type PendingEvent,
  type RecordedState,
  type RunSource,
  type TimerKind,
  type WorkflowStatus,
} from '../events/index.js';
import { stateHashOf } from './state-hash.js';

/** A run's state: the statechart's value, its status and the run context. */
export type RunSnapshot = FoldSnapshot;

/** Adds an attempt event's instance (loop iteration, MAP item) when it has one: a plain task's machine event stays as it was. */
function withInstance<E extends MachineEvent>(event: E, data: { iteration?: number; item?: number }): E {
  if (data.iteration !== undefined) (event as { iteration?: number }).iteration = data.iteration;
  if (data.item !== undefined) (event as { item?: number }).item = data.item;
  return event;
}

/** Adds a retry's `reused` mark when the event has one: every other event stays as it was. */
function withReused<E extends MachineEvent>(event: E, data: { reused?: { runId: string } }): E {
  if (data.reused !== undefined) (event as { reused?: { runId: string } }).reused = data.reused;
  return event;
}

/** How a task-scoped event's type is named: `prefix + task` (an interpreter's typeName gives the same text, interned). */
interface TypeNames {
  typeName(prefix: string, task: string): string;
}
const CONCATENATED: TypeNames = { typeName: (prefix, task) => prefix + task };

const TIMER_PREFIX: Readonly<Record<TimerKind, string>> = {
  backoff: 'timer.backoff.',
  timeout: 'timer.timeout.',
  approval_timeout: 'timer.approval_timeout.',
  wait: 'timer.wait.',
  run_timeout: 'timer.run_timeout.',
};

/**
 * A task attempt's machine event: `prefix + task` as its type, its attempt, `key`'s value (output, error, restart) when
 * given, and its instance. The field is set, not spread from an object: one object per event on the fold's hot path.
 */
function attemptEvent(
  prefix: string,
  names: TypeNames,
  time: number,
  data: { task: string; attempt: number; iteration?: number; item?: number },
  key?: 'output' | 'error' | 'restart',
  value?: unknown,
): MachineEvent {
  const event: Record<string, unknown> = { type: names.typeName(prefix, data.task), time, attempt: data.attempt };
  if (key !== undefined) event[key] = value;
  return withInstance(event as MachineEvent, data);
}

/**
 * Envelope → machine event: task-scoped events get the task id in their type, so only that region listens.
 * `names`: the fold's interpreter (applyEvent), whose names are the same texts made once per task and kind,
 * so the interpreter's lookups by type neither flatten a new concatenation nor hash it again.
 */
export function toMachineEvent(ev: PendingEvent | EventEnvelope, names: TypeNames = CONCATENATED): MachineEvent {
  const time = isoMs(ev.time);
  switch (ev.type) {
    case 'task.started':
      return withReused(attemptEvent('task.started.', names, time, ev.data), ev.data);
    case 'task.completed':
      return withReused(attemptEvent('task.completed.', names, time, ev.data, 'output', ev.data.output), ev.data);
    case 'task.failed':
      return attemptEvent('task.failed.', names, time, ev.data, 'error', ev.data.error);
    case 'timer.fired':
      return attemptEvent(TIMER_PREFIX[ev.data.timer] ?? `timer.${ev.data.timer}.`, names, time, ev.data);
    case 'task.restarted':
      return attemptEvent('task.restarted.', names, time, ev.data, 'restart', ev.data.restart);
    case 'task.released':
      return attemptEvent('task.released.', names, time, ev.data, 'restart', ev.data.restart);
    case 'approval.recorded':
      return {
        type: `approval.${ev.data.decision}.${ev.data.task}`,
        time,
        by: ev.data.by,
        ...(ev.data.comment !== undefined ? { comment: ev.data.comment } : {}),
      };
    case 'signal.received':
      return {
        type: `signal.${ev.data.name}`,
        time,
        data: ev.data.data ?? null,
        ...(ev.data.by !== undefined ? { by: ev.data.by } : {}),
        ...(ev.data.waits !== undefined ? { waits: ev.data.waits } : {}),
      };
    case 'run.cancelled':
      return { type: 'run.cancel', time, ...ev.data };
    case 'run.failed':
      return { type: 'run.fail', time, error: ev.data.error };
    case 'run.paused':
      return {
        type: 'run.pause',
        time,
        ...(ev.data.by !== undefined ? { by: ev.data.by } : {}),
        ...(ev.data.reason !== undefined ? { reason: ev.data.reason } : {}),
      };
    case 'run.resumed':
      return { type: 'run.resume', time, ...(ev.data.by !== undefined ? { by: ev.data.by } : {}) };
    // Queued for a concurrency slot: a pause that only admission ends (the machine's run.pause / run.resume, marked).
    case 'run.queued':
      return { type: 'run.pause', time, queued: true, ...(ev.data.holds === true ? { holds: true as const } : {}) };
    case 'run.admitted':
      return { type: 'run.resume', time, admitted: true };
    case 'run.started':
      throw new Error('run.started starts a fold; it is not applied to one');
    case 'approval.refused':
      throw new Error('approval.refused is an audit record; it is not a machine event');
    case 'notification.sent':
    case 'notification.dead_lettered':
    case 'task.delayed':
    case 'run.forked':
      throw new Error(`${ev.type} is an audit record; it is not a machine event`);
    case 'run.migrated':
      throw new Error('run.migrated hands the run to another definition (applyEvent); it is not a machine event');
  }
}

/** What a fold starts from: run.started's run id, time and input, and the outputs it reuses (`retryOf`: reuseOf). */
export interface FoldStart {
  runId: string;
  time: string;
  input: Record<string, unknown>;
  retryOf?: { runId: string; outputs?: Record<string, unknown>; forked?: true } | undefined;
  /** run.started's state hash format: 2 for a new run, absent (format 1) for every run started before it existed. */
  stateHashVersion?: 2 | undefined;
  /** run.started's `priority`: the start's override of the workflow's (ordering its waits for task gates). */
  priority?: number | undefined;
  /** Cases told to the fold by a reader without the data key (RunContext.decided). */
  decided?: Record<string, string | null> | undefined;
}

/** The state right after run.started. */
export function startFold(compiled: CompiledWorkflow, started: FoldStart): RunSnapshot {
  const { definition } = compiled;
  const { retryOf, stateHashVersion, priority } = started;
  return compiled.interpreter.initial({
    runId: started.runId,
    workflowId: definition.id,
    version: definition.version,
    input: started.input,
    time: Date.parse(started.time),
    ...(retryOf
      ? {
          reuse: {
            runId: retryOf.runId,
            outputs: retryOf.outputs ?? {},
            ...(retryOf.forked ? { forked: retryOf.forked } : {}),
          },
        }
      : {}),
    ...(stateHashVersion !== undefined ? { stateHashVersion } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(started.decided ? { decided: started.decided } : {}),
  });
}

/**
 * The outputs a run reuses and the run they came from: a retry's (source.retryOf) or a fork's (source.forked), one
 * mechanism for both; undefined for every other run.
 */
export function reuseOf(source: RunSource | undefined): FoldStart['retryOf'] {
  if (source?.retryOf) return source.retryOf;
  const f = source?.forked;
  return f ? { runId: f.from, ...(f.outputs ? { outputs: f.outputs } : {}), forked: true } : undefined;
}

/** The start of the fold a run.started envelope records. */
export function foldStartOf(started: EventEnvelope & { type: 'run.started' }): FoldStart {
  const retryOf = reuseOf(started.data.source);
  const { stateHashVersion, priority } = started.data;
  return {
    runId: started.runId,
    time: started.time,
    input: started.data.input,
    ...(retryOf ? { retryOf } : {}),
    ...(stateHashVersion !== undefined ? { stateHashVersion } : {}),
    ...(priority !== undefined ? { priority } : {}),
  };
}

/** Applies one event. `accepted` is false when no transition took it (unknown task, wrong state, stale attempt). */
export function applyEvent(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  ev: PendingEvent | EventEnvelope,
): { snapshot: RunSnapshot; accepted: boolean } {
  // A refused approval or a notification's delivery is recorded for the audit trail only: it changes nothing, at any time.
  // A fork's run.forked (after its run.started) records who forked it from where: the run's state is run.started's.
  if (
    ev.type === 'approval.refused' ||
    ev.type === 'notification.sent' ||
    ev.type === 'notification.dead_lettered' ||
    ev.type === 'run.forked'
  )
    return { snapshot, accepted: true };
  // An attempt delayed by a breaker: recorded while the run is active, it changes nothing (the attempt stays SCHEDULED).
  if (ev.type === 'task.delayed') return { snapshot, accepted: snapshot.status === 'active' };
  if (snapshot.status !== 'active') return { snapshot, accepted: false };
  // Taken over by another version (runtime/migration.ts): the run goes on from the state the event records, under
  // the definition it carries; from here the caller folds with that definition's workflow (workflowAfter).
  if (ev.type === 'run.migrated') {
    const next = workflowOf(recordedDefinitionOf(ev.data), ev.data.to.hash).interpreter.restore(
      ev.data.fold as unknown as PersistedFold,
    );
    return { snapshot: next, accepted: true };
  }
  // Queued with `holds` (queued-hold.ts): nothing but its admission, its end and its own timeout moves it.
  if (isHeld(snapshot.context) && !movesWhileHeld(ev)) return { snapshot, accepted: false };
  const next = compiled.interpreter.transition(snapshot, toMachineEvent(ev, compiled.interpreter));
  // Like XState, the interpreter returns the very same snapshot when no transition was enabled.
  return { snapshot: next, accepted: next !== snapshot };
}

const AWAITING_APPROVAL = ['PENDING_APPROVAL', 'WAITING'] as const;

export function runStatus(snapshot: RunSnapshot): WorkflowStatus {
  // An active snapshot's value is an object built on demand: only a settled one's is a name worth reading.
  if (snapshot.status === 'done') {
    if (snapshot.value === 'completed') return 'COMPLETED';
    if (snapshot.value === 'failed') return 'FAILED';
    if (snapshot.value === 'cancelled') return 'CANCELLED';
  }
  // Paused and active: nothing new starts until run.resumed.
  if (snapshot.status === 'active' && snapshot.context.paused === true)
    return snapshot.context.queued === true ? 'QUEUED' : 'PAUSED';
  // Counted as tasks change in a long run (task-table.ts), not by a scan per event.
  const { tasks } = snapshot.context;
  if (countWithStatus(tasks, ACTIVE_TASK_STATUSES) > 0) return 'RUNNING';
  return countWithStatus(tasks, AWAITING_APPROVAL) > 0 ? 'WAITING' : 'RUNNING';
}

/**
 * The compact state an event led to: its status and the hash of its state, in the format the run records
 * (state-hash.ts: format 1 for runs started before 2026-11-23, format 2 since). Logs record it, so neither format may
 * ever change.
 */
export function recordedState(snapshot: RunSnapshot): RecordedState {
  return { status: runStatus(snapshot), hash: stateHashOf(snapshot) };
}

/** `ev` as event `seq` of run `runId`, which led the run to `after` (a commit written from outside the run's rounds). */
export function envelopeOf(runId: string, seq: number, ev: PendingEvent, after: RunSnapshot): EventEnvelope {
  const { workflowId, version } = after.context;
  return { ...ev, runId, workflowId, version, seq, state: recordedState(after) } as EventEnvelope;
}

/** Why an event was not accepted, in words a person can act on. */
export function rejectionReason(snapshot: RunSnapshot, ev: PendingEvent | EventEnvelope): string {
  if (snapshot.status !== 'active') return `the run is already ${runStatus(snapshot)}`;
  if (isHeld(snapshot.context) && !movesWhileHeld(ev)) return HELD_REASON;
  if (ev.type === 'run.paused') return 'the run is already paused';
  if (ev.type === 'run.resumed')
    return snapshot.context.queued === true
      ? 'the run is QUEUED for a concurrency slot: only its admission lets it go (cancel it, or free a slot)'
      : 'the run is not paused';
  if (ev.type === 'run.queued') return 'only a run that has just started is queued';
  if (ev.type === 'run.admitted') return 'the run is not queued';
  if (
    ev.type === 'run.cancelled' ||
    ev.type === 'run.failed' ||
    ev.type === 'run.started' ||
    ev.type === 'approval.refused' ||
    ev.type === 'notification.sent' ||
    ev.type === 'notification.dead_lettered' ||
    ev.type === 'task.delayed' ||
    ev.type === 'run.migrated' ||
    ev.type === 'run.forked'
  )
    return `${ev.type} is not accepted in this state`;
  if (ev.type === 'signal.received') return signalRefusal(snapshot, ev.data.name);
  const task = snapshot.context.tasks[ev.data.task];
  if (!task) return `the definition has no task "${ev.data.task}"`;
  const attempt =
    'attempt' in ev.data
      ? ` (attempt ${ev.data.attempt}${'restart' in ev.data ? `, restart ${ev.data.restart}` : ''})`
      : '';
  return `${ev.type}${attempt} does not apply to task ${ev.data.task}, which is ${task.status} at attempt ${task.attempts}${task.restarts ? ` (restarted ${task.restarts} times)` : ''}`;
}

/**
 * Why no WAIT of a run takes a signal: none waits for that name, or every one that does has settled or already keeps an
 * earlier signal. Only WAIT tasks listen for signals, so the task states name them.
 */
function signalRefusal(snapshot: RunSnapshot, name: string): string {
  const waits = Object.entries(snapshot.context.tasks).filter(
    ([, t]) => t.status === 'WAITING' || t.status === 'PENDING',
  );
  const kept = waits.filter(([, t]) => t.signal !== undefined).map(([id]) => id);
  return `no WAIT of this run takes signal "${name}": none is waiting for it${kept.length > 0 ? ` (${kept.join(', ')} already keep${kept.length === 1 ? 's' : ''} one)` : ''} (a WAIT takes a signal of its event: name while pending or waiting, not once settled)`;
}
