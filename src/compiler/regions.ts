/**
 * One statechart region per task. JSON only: guards and actions are named with
 * params, their implementations live in guards.ts and actions.ts. Each region walks
 * pending → scheduled → running → (retrying → scheduled)* → done | failed |
 * timed_out | skipped; HUMAN waits in awaiting_approval; DECISION, FORK and
 * JOIN settle inside the fold without a handler.
 */
import { RUNNABLE_TASK_TYPES, type MapTask, type TaskDef } from '../definition/index.js';
import type { ActionName, AtomicStateConfig, GuardName, GuardRef, RegionConfig, TransitionConfig } from './chart-config.js';
import type { TaskStatus } from './context.js';

const g = (type: GuardName, task: string): GuardRef => ({ type, params: { task } });

/**
 * Task status is one fact: the state the task's region is in. This table is
 * the only place a status is chosen; every transition below passes its
 * target's status to its action, which writes it into the context (where
 * guards read it: XState guards see the context, not the state value). The
 * one other status write is the run's end, which cancels what had not settled.
 */
export const STATUS_OF_STATE = {
  pending: 'PENDING', scheduled: 'SCHEDULED', running: 'IN_PROGRESS', retrying: 'RETRYING',
  awaiting_approval: 'PENDING_APPROVAL', mapping: 'IN_PROGRESS', done: 'COMPLETED', failed: 'FAILED', timed_out: 'TIMED_OUT', skipped: 'SKIPPED',
} as const satisfies Record<string, TaskStatus>;
export type RegionStateName = keyof typeof STATUS_OF_STATE;

/** A transition of task `id`'s region into `target`, whose action records the target's status. */
function to(id: string, target: RegionStateName, action: ActionName, guard: GuardRef): TransitionConfig {
  return { guard, target, actions: { type: action, params: { task: id, status: STATUS_OF_STATE[target] } } };
}

const FINALS = {
  done: { type: 'final' },
  failed: { type: 'final' },
  timed_out: { type: 'final' },
  skipped: { type: 'final' },
} as const;

function pending(task: string, whenReady: TransitionConfig | TransitionConfig[]): AtomicStateConfig {
  return {
    always: [
      to(task, 'skipped', 'skip', g('mustSkip', task)),
      ...(Array.isArray(whenReady) ? whenReady : [whenReady]),
    ],
  };
}

function workRegion(task: TaskDef): RegionConfig {
  const id = task.id;
  return {
    initial: 'pending',
    states: {
      pending: pending(id, to(id, 'scheduled', 'schedule', g('mayRun', id))),
      scheduled: {
        on: { [`task.started.${id}`]: to(id, 'running', 'taskStarted', g('isNextAttempt', id)) },
      },
      running: {
        on: {
          [`task.completed.${id}`]: to(id, 'done', 'taskCompleted', g('isAttempt', id)),
          [`task.failed.${id}`]: [
            to(id, 'retrying', 'taskRetrying', g('mayRetryFailure', id)),
            to(id, 'failed', 'taskFailed', g('isAttempt', id)),
          ],
          [`timer.timeout.${id}`]: [
            to(id, 'retrying', 'taskRetrying', g('mayRetryTimeout', id)),
            to(id, 'timed_out', 'taskFailed', g('isAttempt', id)),
          ],
          // A lost attempt runs again: the region stays where it is (a self-transition, which XState v5 does not re-enter).
          [`task.restarted.${id}`]: to(id, 'running', 'taskRestarted', g('isNextRestart', id)),
        },
      },
      retrying: {
        on: { [`timer.backoff.${id}`]: to(id, 'scheduled', 'backoffElapsed', g('isAttempt', id)) },
      },
      ...FINALS,
    },
  };
}

function humanRegion(task: TaskDef & { type: 'HUMAN' }): RegionConfig {
  const id = task.id;
  const onTimeout = ({ fail: 'timed_out', reject: 'failed', skip: 'skipped', approve: 'done' } as const)[task.onTimeout];
  return {
    initial: 'pending',
    states: {
      pending: pending(id, to(id, 'awaiting_approval', 'awaitApproval', g('mayRun', id))),
      awaiting_approval: {
        on: {
          [`approval.approved.${id}`]: to(id, 'done', 'approvalDecided', g('isApprover', id)),
          [`approval.rejected.${id}`]: to(id, 'failed', 'approvalDecided', g('isApprover', id)),
          [`timer.approval_timeout.${id}`]: to(id, onTimeout, 'approvalTimedOut', g('isAttempt', id)),
        },
      },
      ...FINALS,
    },
  };
}

/** Tasks the fold settles by itself, with no handler and no event of their own. */
function instantRegion(task: TaskDef): RegionConfig {
  const id = task.id;
  const ready: TransitionConfig | TransitionConfig[] = task.type === 'DECISION'
    ? [to(id, 'failed', 'decisionFailed', g('decisionFails', id)), to(id, 'done', 'decide', g('mayRun', id))]
    : to(id, 'done', 'completeInstantly', g('mayRun', id));
  return { initial: 'pending', states: { pending: pending(id, ready), ...FINALS } };
}

/**
 * MAP: pending → mapping → done | failed. Entering `mapping` resolves the
 * items (mapStart); every item event is a self-transition on `mapping`
 * guarded by the item's own state; once no item is in flight, `always`
 * settles the MAP.
 */
function mapRegion(task: TaskDef & { type: 'MAP' }): RegionConfig {
  const id = task.id;
  return {
    initial: 'pending',
    states: {
      pending: pending(id, to(id, 'mapping', 'mapStart', g('mayRun', id))),
      mapping: {
        on: {
          [`task.started.${id}`]: to(id, 'mapping', 'itemStarted', g('isItemNextAttempt', id)),
          [`task.completed.${id}`]: to(id, 'mapping', 'itemCompleted', g('isItemAttempt', id)),
          [`task.failed.${id}`]: [
            to(id, 'mapping', 'itemRetrying', g('mayRetryItemFailure', id)),
            to(id, 'mapping', 'itemFailed', g('isItemAttempt', id)),
          ],
          [`timer.timeout.${id}`]: [
            to(id, 'mapping', 'itemRetrying', g('mayRetryItemTimeout', id)),
            to(id, 'mapping', 'itemTimedOut', g('isItemAttempt', id)),
          ],
          [`timer.backoff.${id}`]: to(id, 'mapping', 'itemBackoffElapsed', g('isItemBackoff', id)),
          [`task.restarted.${id}`]: to(id, 'mapping', 'itemRestarted', g('isItemNextRestart', id)),
        },
        always: [
          to(id, 'failed', 'mapFailed', g('mapFails', id)),
          to(id, 'done', 'mapCompleted', g('mapDone', id)),
        ],
      },
      ...FINALS,
    },
  };
}

/** A MAP's iterator: its handler runs per item inside the MAP; its own region only mirrors the MAP (done when it completed, else skipped). */
function iteratorRegion(task: TaskDef): RegionConfig {
  const id = task.id;
  const mirror = (target: 'done' | 'skipped'): TransitionConfig =>
    ({ guard: { type: 'mapSettledAs', params: { task: id, status: STATUS_OF_STATE[target] } }, target, actions: { type: 'mirrorMap', params: { task: id, status: STATUS_OF_STATE[target] } } });
  return { initial: 'pending', states: { pending: { always: [mirror('done'), mirror('skipped')] }, ...FINALS } };
}

/** Parses and validates, but does not run yet: reaching it fails the run, never silently. */
function unsupportedRegion(task: TaskDef): RegionConfig {
  const id = task.id;
  return {
    initial: 'pending',
    states: {
      pending: pending(id, to(id, 'failed', 'unsupported', g('mayRun', id))),
      ...FINALS,
    },
  };
}

/** `iterators`: iterator id → its MAP (iteratorMap), when the definition has any. */
export function regionFor(task: TaskDef, iterators?: ReadonlyMap<string, MapTask>): RegionConfig {
  if (!RUNNABLE_TASK_TYPES.includes(task.type)) return unsupportedRegion(task);
  if (iterators?.has(task.id)) return iteratorRegion(task);
  switch (task.type) {
    case 'MAP': return mapRegion(task);
    case 'SIMPLE': return workRegion(task);
    case 'HUMAN': return humanRegion(task);
    default: return instantRegion(task);
  }
}
