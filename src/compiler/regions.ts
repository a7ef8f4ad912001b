/**
 * One statechart region per task. JSON only: guards and actions are named with
 * params, their implementations live in guards.ts and actions.ts. Each region walks
 * pending → scheduled → running → (retrying → scheduled)* → done | failed |
 * timed_out | skipped; HUMAN waits in awaiting_approval; DECISION, FORK and
 * JOIN settle inside the fold without a handler.
 */
import { RUNNABLE_TASK_TYPES, type TaskDef } from '../definition/index.js';
import type { ActionName, ActionRef, AtomicStateConfig, GuardName, GuardRef, RegionConfig, TaskParams, TransitionConfig } from './chart-config.js';

const g = (type: GuardName, task: string): GuardRef => ({ type, params: { task } });
const a = (type: ActionName, task: string, extra: Omit<TaskParams, 'task'> = {}): ActionRef => ({ type, params: { task, ...extra } });

const FINALS = {
  done: { type: 'final' },
  failed: { type: 'final' },
  timed_out: { type: 'final' },
  skipped: { type: 'final' },
} as const;

function pending(task: string, whenReady: TransitionConfig | TransitionConfig[]): AtomicStateConfig {
  return {
    always: [
      { guard: g('mustSkip', task), target: 'skipped', actions: a('skip', task) },
      ...(Array.isArray(whenReady) ? whenReady : [whenReady]),
    ],
  };
}

function workRegion(task: TaskDef): RegionConfig {
  const id = task.id;
  return {
    initial: 'pending',
    states: {
      pending: pending(id, { guard: g('mayRun', id), target: 'scheduled', actions: a('schedule', id) }),
      scheduled: {
        on: { [`task.started.${id}`]: { guard: g('isNextAttempt', id), target: 'running', actions: a('taskStarted', id) } },
      },
      running: {
        on: {
          [`task.completed.${id}`]: { guard: g('isAttempt', id), target: 'done', actions: a('taskCompleted', id) },
          [`task.failed.${id}`]: [
            { guard: g('mayRetryFailure', id), target: 'retrying', actions: a('taskRetrying', id) },
            { guard: g('isAttempt', id), target: 'failed', actions: a('taskFailed', id, { status: 'FAILED' }) },
          ],
          [`timer.timeout.${id}`]: [
            { guard: g('mayRetryTimeout', id), target: 'retrying', actions: a('taskRetrying', id) },
            { guard: g('isAttempt', id), target: 'timed_out', actions: a('taskFailed', id, { status: 'TIMED_OUT' }) },
          ],
        },
      },
      retrying: {
        on: { [`timer.backoff.${id}`]: { guard: g('isAttempt', id), target: 'scheduled', actions: a('backoffElapsed', id) } },
      },
      ...FINALS,
    },
  };
}

function humanRegion(task: TaskDef & { type: 'HUMAN' }): RegionConfig {
  const id = task.id;
  const onTimeout: Omit<TransitionConfig, 'guard'> = {
    fail: { target: 'timed_out', actions: a('approvalTimedOut', id, { status: 'TIMED_OUT' }) },
    reject: { target: 'failed', actions: a('approvalTimedOut', id, { status: 'FAILED' }) },
    skip: { target: 'skipped', actions: a('approvalTimedOut', id, { status: 'SKIPPED' }) },
    approve: { target: 'done', actions: a('approvalTimedOut', id, { status: 'COMPLETED' }) },
  }[task.onTimeout];
  return {
    initial: 'pending',
    states: {
      pending: pending(id, { guard: g('mayRun', id), target: 'awaiting_approval', actions: a('awaitApproval', id) }),
      awaiting_approval: {
        on: {
          [`approval.approved.${id}`]: { guard: g('isApprover', id), target: 'done', actions: a('approvalDecided', id) },
          [`approval.rejected.${id}`]: { guard: g('isApprover', id), target: 'failed', actions: a('approvalDecided', id) },
          [`timer.approval_timeout.${id}`]: { guard: g('isAttempt', id), ...onTimeout },
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
    ? [
        { guard: g('decisionFails', id), target: 'failed', actions: a('decisionFailed', id) },
        { guard: g('mayRun', id), target: 'done', actions: a('decide', id) },
      ]
    : { guard: g('mayRun', id), target: 'done', actions: a('completeInstantly', id) };
  return { initial: 'pending', states: { pending: pending(id, ready), ...FINALS } };
}

/** Parses and validates, but does not run yet: reaching it fails the run, never silently. */
function unsupportedRegion(task: TaskDef): RegionConfig {
  const id = task.id;
  return {
    initial: 'pending',
    states: {
      pending: pending(id, { guard: g('mayRun', id), target: 'failed', actions: a('unsupported', id) }),
      ...FINALS,
    },
  };
}

export function regionFor(task: TaskDef): RegionConfig {
  if (!RUNNABLE_TASK_TYPES.includes(task.type)) return unsupportedRegion(task);
  switch (task.type) {
    case 'SIMPLE': return workRegion(task);
    case 'HUMAN': return humanRegion(task);
    default: return instantRegion(task);
  }
}
