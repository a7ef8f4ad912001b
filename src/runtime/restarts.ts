/**
 * What becomes of an attempt that was lost with the process running it: a worker that stopped answering (NATS), or this
 * process's own crash or stop before `resume` (the embedded store). Losing a worker is the infrastructure failing, not
 * the task, so the attempt runs again under the same number and idempotency key without using up the task's retries,
 * and its timeout counts from the restart (downtime is not attempt time).
 *
 * Not forever: an attempt whose running keeps killing its process (a handler that exhausts memory, say) would otherwise
 * go round for ever. Past MAX_RESTARTS losses of one attempt, the next loss fails the attempt with LF_ATTEMPT_LOST
 * instead, and the task's retry policy decides from there.
 *
 * A run of the attempt given back by a clean stop of its process (task.released: Ctrl-C, SIGTERM, a serve's grace run
 * out) was not lost: the process did not die with it, a person or a supervisor stopped it. Its restart is not counted
 * against the cap, however often it happens; the runs that ended without a release (kill -9, a crash, a worker gone)
 * still are, so a handler that kills its process still fails after MAX_RESTARTS + 1 runs.
 *
 * One rule for every engine, pure like reviewApproval: it reads the run's state and returns the event to record.
 */
import { instanceFields, instanceKey, instanceState, type InstanceFields } from '../compiler/index.js';
import type { PendingEvent } from '../events/index.js';
import type { RunSnapshot } from './fold.js';

/** Losses (restarts not after a release) one attempt may have; the loss after the last of them fails the attempt. */
export const MAX_RESTARTS = 3;

/** `iteration`, `item`: the instance (loop iteration, MAP item) the attempt ran for; absent for a plain task. */
interface LostAttempt extends InstanceFields {
  taskId: string;
  attempt: number;
  /** The restart the loss was seen in (0: the attempt's first run): a loss reported twice is recorded once. */
  restart: number;
  reason: 'resumed' | 'worker_lost';
  /** Who had the attempt (a worker's ledger name), when known. */
  lost?: string;
  /** Who reported the loss (a NATS user), when a server can tell. */
  by?: string;
  unauthenticated?: boolean;
  time: string;
}

type LossReview =
  | { kind: 'restart' | 'fail'; event: PendingEvent }
  /** The loss no longer applies: the task moved on (an outcome came after all), or this loss was already recorded. */
  | { kind: 'stale'; reason: string };

/**
 * `reattach`: the attempt's child run exists (a SUB_WORKFLOW's, a MAP item's): its work lives in the child's own
 * log, which goes on whatever becomes of the parent's process, so the attempt is taken up again (task.restarted)
 * however often it was lost: the child ends it, completed or failed, and its own attempts have their own limits.
 */
export function reviewLoss(snapshot: RunSnapshot, loss: LostAttempt, opts: { reattach?: boolean } = {}): LossReview {
  if (snapshot.status !== 'active') return { kind: 'stale', reason: 'the run has settled' };
  if (!snapshot.context.tasks[loss.taskId]) return { kind: 'stale', reason: `the run has no task ${loss.taskId}` };
  const ref = { task: loss.taskId, ...instanceFields(loss) };
  const name = instanceKey(ref);
  const task = instanceState(snapshot.context, ref);
  if (!task) return { kind: 'stale', reason: `the run has no ${name} now` };
  const restarts = task.restarts ?? 0;
  if (task.status !== 'IN_PROGRESS' || task.attempts !== loss.attempt || restarts !== loss.restart) {
    return {
      kind: 'stale',
      reason: `${name} is ${task.status} at attempt ${task.attempts}${restarts ? ` (restart ${restarts})` : ''}`,
    };
  }
  const attempt = { task: loss.taskId, attempt: loss.attempt, ...instanceFields(loss) };
  const who = {
    ...(loss.by !== undefined ? { by: loss.by } : {}),
    ...(loss.unauthenticated ? { unauthenticated: true as const } : {}),
  };
  // Runs 0..restarts-1 each ended lost or released (task.released counted them); this one ends lost unless it was released.
  const losses = restarts - (task.releases ?? 0);
  if (task.released !== true && losses >= MAX_RESTARTS && !opts.reattach) {
    return {
      kind: 'fail',
      event: {
        type: 'task.failed',
        time: loss.time,
        data: {
          ...attempt,
          ...who,
          error: {
            code: 'LF_ATTEMPT_LOST',
            retryable: true,
            message: `attempt ${loss.attempt} was lost ${losses + 1} times (${loss.reason === 'worker_lost' ? `${loss.lost ?? 'its worker'} stopped answering` : 'its process stopped'}); restarting it stops after ${MAX_RESTARTS} losses (a clean stop, Ctrl-C or SIGTERM, is not one), so it fails and the retry policy decides`,
          },
        },
      },
    };
  }
  return {
    kind: 'restart',
    event: {
      type: 'task.restarted',
      time: loss.time,
      data: {
        ...attempt,
        restart: restarts + 1,
        reason: loss.reason,
        ...(loss.lost !== undefined ? { lost: loss.lost } : {}),
        ...who,
      },
    },
  };
}

/** A run of an attempt its process gave back as it stopped cleanly (task.released), as an engine that takes it up judges it. */
interface ReleasedRun extends InstanceFields {
  taskId: string;
  attempt: number;
  /** Which run of the attempt was given back (0: its first). */
  restart: number;
  /** Who had it (a worker's ledger name), when known. */
  lost?: string;
  by?: string;
  unauthenticated?: boolean;
  time: string;
}

type ReleaseReview = { kind: 'release'; events: PendingEvent[] } | { kind: 'stale'; reason: string };

/**
 * A run given back by a process that goes on being asked for nothing (a NATS worker or `engine --handlers` stopped with
 * SIGTERM): recorded as given back (task.released) and, in the same commit, taken up again (task.restarted), so the
 * attempt runs again at once elsewhere and the restart is not a loss (reviewLoss: losses are restarts not after a
 * release). Only the run going on now: one that ended, was already given back, or was restarted since, is stale.
 */
export function reviewRelease(snapshot: RunSnapshot, run: ReleasedRun): ReleaseReview {
  if (snapshot.status !== 'active') return { kind: 'stale', reason: 'the run has settled' };
  if (!snapshot.context.tasks[run.taskId]) return { kind: 'stale', reason: `the run has no task ${run.taskId}` };
  const ref = { task: run.taskId, ...instanceFields(run) };
  const name = instanceKey(ref);
  const task = instanceState(snapshot.context, ref);
  if (!task) return { kind: 'stale', reason: `the run has no ${name} now` };
  const restarts = task.restarts ?? 0;
  if (task.status !== 'IN_PROGRESS' || task.attempts !== run.attempt || restarts !== run.restart || task.released)
    return {
      kind: 'stale',
      reason: `${name} is ${task.status} at attempt ${task.attempts}${restarts ? ` (restart ${restarts})` : ''}${task.released ? ', given back already' : ''}`,
    };
  const attempt = { task: run.taskId, attempt: run.attempt, ...instanceFields(run) };
  return {
    kind: 'release',
    events: [
      { type: 'task.released', time: run.time, data: { ...attempt, restart: run.restart } },
      {
        type: 'task.restarted',
        time: run.time,
        data: {
          ...attempt,
          restart: run.restart + 1,
          reason: 'worker_lost',
          ...(run.lost !== undefined ? { lost: run.lost } : {}),
          ...(run.by !== undefined ? { by: run.by } : {}),
          ...(run.unauthenticated ? { unauthenticated: true as const } : {}),
        },
      },
    ],
  };
}
