/**
 * Forking a run: a new run whose history is the original's up to a point, with its inputs changed, and that goes on
 * from there. Pure: the point, the outputs the new run reuses and its input are worked out once, when the fork starts,
 * and recorded in the new run's run.started (`source.forked`, the changed input in `input`), so replay never reads the
 * original. The reuse is retry's (retry.ts): the original folded up to the point stands for the settled run a retry
 * starts from, so a task is reused when it had completed by then and everything upstream of it ends the same: with the
 * fork's own input and definition, which the fork's start is folded with to tell (fork-reuse.ts).
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import { ForkRefusedError } from '../errors/index.js';
import type { EventEnvelope } from '../events/index.js';
import { applyEvent, foldStartOf, startFold, type RunSnapshot } from './fold.js';
import { reusedAtStart } from './fork-reuse.js';
import { compiledForRun, startedOf, workflowAfter } from './migration.js';
import { retryPlan } from './retry.js';
import { NEW_RUN_STATE_HASH_VERSION } from './state-hash.js';

/** Where a fork branches off: after event `seq` of the original; `task`: the task `--at` named (it runs again). */
export interface ForkPoint {
  seq: number;
  task?: string;
}

/** Folds the run's events one by one, telling `visit` the state after each (run.started's included). */
function foldEach(events: EventEnvelope[], visit: (seq: number, snapshot: RunSnapshot) => boolean): void {
  const first = startedOf(events[0]);
  let compiled = compiledForRun(first);
  let snapshot = startFold(compiled, foldStartOf(first));
  if (visit(first.seq, snapshot)) return;
  for (const ev of events.slice(1)) {
    snapshot = applyEvent(compiled, snapshot, ev).snapshot;
    if (ev.type === 'run.migrated') compiled = workflowAfter(compiled, ev);
    if (visit(ev.seq, snapshot)) return;
  }
}

/**
 * The point `at` names in the run: a sequence number (after that event), or a task id: just before its first
 * task.started, or for a task the fold enters without one (HUMAN, WAIT, DECISION, …) right after the event that entered
 * it, so the tasks that completed before it are reused and it is entered again. Refused with ForkRefusedError:
 * a sequence past the log, a task the run's definition does not have, a task the run never started.
 */
export function forkPoint(runId: string, events: EventEnvelope[], at: string): ForkPoint {
  const last = events.at(-1)?.seq ?? 0;
  if (/^[0-9]+$/.test(at)) {
    const seq = Number(at);
    if (seq < 1 || seq > last)
      throw new ForkRefusedError(
        'LF_FORK_POINT_UNKNOWN',
        `cannot fork run ${runId} at event ${at}: its history has events 1 to ${last} (\`ledgerflow history ${runId}\` numbers them)`,
        { runId, at, last },
      );
    return { seq };
  }
  const def = compiledForRun(startedOf(events[0], runId)).definition;
  const known = new Set(def.tasks.map((t) => t.id));
  for (const ev of events)
    if (ev.type === 'run.migrated') for (const t of ev.data.definition.tasks as { id: string }[]) known.add(t.id);
  if (!known.has(at))
    throw new ForkRefusedError(
      'LF_FORK_POINT_UNKNOWN',
      `cannot fork run ${runId} at ${at}: workflow ${def.id} has no task ${at}; give a task id (${[...known].join(', ')}) or an event's sequence number`,
      { runId, at },
    );
  // The event after which it had started: its own task.started (cut before it), or the event whose fold started it (a
  // HUMAN, a WAIT, a DECISION: entered as that event settled what it depends on; kept, since the task itself is not).
  let started = 0;
  let own = false;
  foldEach(events, (seq, snapshot) => {
    if ((snapshot.context.tasks[at]?.startedAt ?? null) === null) return false;
    const ev = events.find((e) => e.seq === seq);
    own = ev?.type === 'task.started' && ev.data.task === at;
    started = seq;
    return true;
  });
  if (started === 0)
    throw new ForkRefusedError(
      'LF_FORK_POINT_NOT_REACHED',
      `cannot fork run ${runId} at task ${at}: the run never started it; fork at a task it reached, or at an event's sequence number`,
      { runId, at },
    );
  return { seq: own ? Math.max(1, started - 1) : started, task: at };
}

/**
 * Refuses a fork under a definition that cannot go on from the point, before anything is written: another workflow's
 * (LF_FORK_WORKFLOW_MISMATCH: a fork is the same workflow's run, as a migration's target is), or one without the task
 * `--at` names (LF_FORK_POINT_UNKNOWN: it would not run again, and what follows it would run under other ids).
 * `original`: the run's definition as its log has it now.
 */
export function assertForkTarget(runId: string, original: Definition, target: Definition, point: ForkPoint): void {
  if (target.id !== original.id)
    throw new ForkRefusedError(
      'LF_FORK_WORKFLOW_MISMATCH',
      `cannot fork run ${runId} under workflow ${target.id}: the run is of workflow ${original.id}, and a fork goes on under a version of its own workflow; give --definition a definition of ${original.id} (over NATS ${original.id}@<version>), or start a run of ${target.id} instead`,
      { runId, workflow: original.id, definition: target.id },
    );
  const task = point.task;
  if (task === undefined || target.tasks.some((t) => t.id === task)) return;
  throw new ForkRefusedError(
    'LF_FORK_POINT_UNKNOWN',
    `cannot fork run ${runId} at ${task} under ${target.id} v${target.version}: that version has no task ${task}; fork at a task it has (${target.tasks.map((t) => t.id).join(', ')}), or at an event's sequence number (\`ledgerflow history ${runId}\` numbers them)`,
    { runId, at: task, version: target.version },
  );
}

/** The original's state right after the point, and that event's time. */
function stateAt(events: EventEnvelope[], point: ForkPoint): { at: RunSnapshot; time: string } {
  let at: RunSnapshot | null = null;
  foldEach(events, (seq, snapshot) => {
    at = snapshot;
    return seq >= point.seq;
  });
  return { at: at!, time: events.find((e) => e.seq >= point.seq)?.time ?? events[0]!.time };
}

/**
 * The outputs a fork at `point` reuses, by task id: what a retry of the original, stopped there, would reuse, less what
 * the fork's own start does not reach as it did (fork-reuse.ts: a DECISION deciding otherwise with the changed input).
 * `start`: the fork's checked input (default: the original's, as far as `target` declares it), and the new run's id and
 * time where known (a template may read them; default: the original's id, the point's time).
 */
export function forkPlan(
  target: CompiledWorkflow,
  events: EventEnvelope[],
  point: ForkPoint,
  start: { input?: Record<string, unknown>; runId?: string; time?: string } = {},
): Record<string, unknown> {
  const { at, time } = stateAt(events, point);
  const candidates = retryPlan(target, at);
  if (Object.keys(candidates).length === 0) return candidates;
  const from = startedOf(events[0]);
  return reusedAtStart(target, at, candidates, {
    runId: start.runId ?? from.runId,
    time: start.time ?? time,
    input: start.input ?? forkInput(target.definition, from.data.input, {}),
    retryOf: { runId: from.runId, forked: true },
    stateHashVersion: NEW_RUN_STATE_HASH_VERSION,
  });
}

/**
 * The fork's input before it is checked against `target`: the original's, without what `target` does not declare
 * (another definition's), with `changes` over it. The changes are checked as any start's input (an undeclared name is
 * refused by prepareInput).
 */
export function forkInput(
  target: Definition,
  original: Record<string, unknown>,
  changes: Record<string, unknown>,
): Record<string, unknown> {
  const declared = new Set(target.inputs.map((d) => d.name));
  return { ...Object.fromEntries(Object.entries(original).filter(([k]) => declared.has(k))), ...changes };
}
