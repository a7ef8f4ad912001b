/**
 * One statechart region per task. JSON only: guards and actions are named with params, their implementations live in
 * guards.ts and actions.ts. Each region walks pending → scheduled → running → (retrying → scheduled)* → done | failed
 * | timed_out | skipped; HUMAN waits in awaiting_approval; DECISION, FORK and JOIN settle in the fold, no handler.
 */
import { RUNNABLE_TASK_TYPES, type MapTask, type TaskDef } from '../definition/index.js';
import type {
  ActionName,
  AtomicStateConfig,
  GuardName,
  GuardRef,
  RegionConfig,
  TransitionConfig,
} from './chart-config.js';
import type { TaskStatus } from './context.js';
import { dictionaryOf } from './dictionary-record.js';

const g = (type: GuardName, task: string): GuardRef => ({ type, params: { task } });

/**
 * A state's `on` record. Its keys name the task (`task.started.<task>`): in dictionary mode, so a long definition does
 * not fill V8's list of the shapes an object built from `{}` can take (dictionary-record.ts).
 */
const on = (
  entries: readonly (readonly [string, TransitionConfig | TransitionConfig[]])[],
): Record<string, TransitionConfig | TransitionConfig[]> => dictionaryOf(entries);

/**
 * Task status is one fact: the state the task's region is in. This table is the only place a status is chosen; every
 * transition below passes its target's status to its action, which writes it into the context (where guards read it:
 * XState guards see the context, not the state value). The one other status write is the run's end, which cancels what
 * had not settled.
 */
export const STATUS_OF_STATE = {
  pending: 'PENDING',
  scheduled: 'SCHEDULED',
  running: 'IN_PROGRESS',
  retrying: 'RETRYING',
  awaiting_approval: 'PENDING_APPROVAL',
  waiting: 'WAITING',
  mapping: 'IN_PROGRESS',
  done: 'COMPLETED',
  failed: 'FAILED',
  timed_out: 'TIMED_OUT',
  skipped: 'SKIPPED',
  // DO_WHILE: the loop runs its body; a body task settles each iteration in a state that is not final.
  looping: 'IN_PROGRESS',
  iteration_done: 'COMPLETED',
  iteration_failed: 'FAILED',
  iteration_timed_out: 'TIMED_OUT',
  iteration_skipped: 'SKIPPED',
} as const satisfies Record<string, TaskStatus>;
export type RegionStateName = keyof typeof STATUS_OF_STATE;

/** A transition of task `id`'s region into `target`, guarded by its `guard`; the action records the target's status. */
function to(id: string, target: RegionStateName, action: ActionName, guard: GuardName): TransitionConfig {
  return {
    guard: g(guard, id),
    target,
    actions: { type: action, params: { task: id, status: STATUS_OF_STATE[target] } },
  };
}

const FINALS = {
  done: { type: 'final' },
  failed: { type: 'final' },
  timed_out: { type: 'final' },
  skipped: { type: 'final' },
} as const;

function pending(task: string, whenReady: TransitionConfig | TransitionConfig[]): AtomicStateConfig {
  return {
    always: [to(task, 'skipped', 'skip', 'mustSkip'), ...(Array.isArray(whenReady) ? whenReady : [whenReady])],
  };
}

function workRegion(task: TaskDef): RegionConfig {
  const id = task.id;
  return {
    initial: 'pending',
    states: {
      pending: pending(id, to(id, 'scheduled', 'schedule', 'mayRun')),
      scheduled: { on: on([[`task.started.${id}`, to(id, 'running', 'taskStarted', 'isNextAttempt')]]) },
      running: {
        on: on([
          [`task.completed.${id}`, to(id, 'done', 'taskCompleted', 'isAttempt')],
          [
            `task.failed.${id}`,
            [to(id, 'retrying', 'taskRetrying', 'mayRetryFailure'), to(id, 'failed', 'taskFailed', 'isAttempt')],
          ],
          [
            `timer.timeout.${id}`,
            [to(id, 'retrying', 'taskRetrying', 'mayRetryTimeout'), to(id, 'timed_out', 'taskFailed', 'isAttempt')],
          ],
          // A lost attempt runs again: the region stays where it is (a self-transition, which XState v5 does not re-enter).
          [`task.restarted.${id}`, to(id, 'running', 'taskRestarted', 'isNextRestart')],
          // Given back by a clean stop: still in flight (a self-transition), marked so its restart is not counted a loss.
          [`task.released.${id}`, to(id, 'running', 'taskReleased', 'isCurrentRun')],
        ]),
      },
      retrying: { on: on([[`timer.backoff.${id}`, to(id, 'scheduled', 'backoffElapsed', 'isAttempt')]]) },
      ...FINALS,
    },
  };
}

function humanRegion(task: TaskDef & { type: 'HUMAN' }): RegionConfig {
  const id = task.id;
  const onTimeout = ({ fail: 'timed_out', reject: 'failed', skip: 'skipped', approve: 'done' } as const)[
    task.onTimeout
  ];
  return {
    initial: 'pending',
    states: {
      pending: pending(id, to(id, 'awaiting_approval', 'awaitApproval', 'mayRun')),
      awaiting_approval: {
        on: on([
          [`approval.approved.${id}`, to(id, 'done', 'approvalDecided', 'isApprover')],
          [`approval.rejected.${id}`, to(id, 'failed', 'approvalDecided', 'isApprover')],
          [`timer.approval_timeout.${id}`, to(id, onTimeout, 'approvalTimedOut', 'isAttempt')],
          // Retry from failed: the approval the retried run recorded (runtime/retry.ts).
          [`task.completed.${id}`, to(id, 'done', 'taskCompleted', 'isReused')],
        ]),
      },
      ...FINALS,
    },
  };
}

/**
 * WAIT: pending → waiting → done | failed | timed_out | skipped. On a duration or `until` the region waits for its
 * `wait` timer (an `until` that is no time fails on entering). On an event it waits for `signal.<event>`: one that
 * comes while pending is kept (a self-transition, not re-entered) and completes the task as soon as it is waiting; an
 * optional timeout times it out or skips it.
 */
function waitRegion(task: TaskDef & { type: 'WAIT' }): RegionConfig {
  const id = task.id;
  const signal = task.event !== undefined ? `signal.${task.event}` : null;
  const onTimeout = task.onTimeout === 'skip' ? 'skipped' : 'timed_out';
  const mayRun: TransitionConfig[] =
    task.until !== undefined
      ? [to(id, 'failed', 'waitUntilFailed', 'waitUntilInvalid'), to(id, 'waiting', 'startWaiting', 'mayRun')]
      : [to(id, 'waiting', 'startWaiting', 'mayRun')];
  const pendingState = pending(id, mayRun);
  // Retry from failed: the wait the retried run completed (its signal's data, or when it waited until), not waited again.
  const reusedWait = to(id, 'done', 'taskCompleted', 'isReused');
  return {
    initial: 'pending',
    states: {
      pending: signal
        ? { ...pendingState, on: on([[signal, to(id, 'pending', 'keepSignal', 'noSignalKept')]]) }
        : pendingState,
      waiting: signal
        ? {
            always: to(id, 'done', 'signalReceived', 'signalKept'),
            on: on([
              [signal, to(id, 'done', 'signalReceived', 'noSignalKept')],
              [`timer.timeout.${id}`, to(id, onTimeout, 'waitTimedOut', 'isAttempt')],
              [`task.completed.${id}`, reusedWait],
            ]),
          }
        : {
            on: on([
              [`timer.wait.${id}`, to(id, 'done', 'waitElapsed', 'isAttempt')],
              [`task.completed.${id}`, reusedWait],
            ]),
          },
      ...FINALS,
    },
  };
}

/**
 * Tasks the fold settles by itself from pending, with no handler and no event of their own: `ready` says how (DECISION,
 * FORK, JOIN; SET merges its values into the run's variables, TERMINATE records { status, reason }, and the parallel
 * state's `always` then ends the run: machine.ts; a type parsed but not run yet fails the run).
 */
function settlingRegion(id: string, ready: TransitionConfig | TransitionConfig[]): RegionConfig {
  return { initial: 'pending', states: { pending: pending(id, ready), ...FINALS } };
}

/**
 * MAP: pending → mapping → done | failed. Entering `mapping` resolves the items (mapStart); every item event is a
 * self-transition on `mapping` guarded by the item's own state; once no item is in flight, `always` settles the MAP.
 */
function mapRegion(task: TaskDef & { type: 'MAP' }): RegionConfig {
  const id = task.id;
  const item = (action: ActionName, guard: GuardName) => to(id, 'mapping', action, guard);
  return {
    initial: 'pending',
    states: {
      pending: pending(id, to(id, 'mapping', 'mapStart', 'mayRun')),
      mapping: {
        on: on([
          [`task.started.${id}`, item('itemStarted', 'isItemNextAttempt')],
          [`task.completed.${id}`, item('itemCompleted', 'isItemAttempt')],
          [`task.failed.${id}`, [item('itemRetrying', 'mayRetryItemFailure'), item('itemFailed', 'isItemAttempt')]],
          [`timer.timeout.${id}`, [item('itemRetrying', 'mayRetryItemTimeout'), item('itemTimedOut', 'isItemAttempt')]],
          [`timer.backoff.${id}`, item('itemBackoffElapsed', 'isItemBackoff')],
          [`task.restarted.${id}`, item('itemRestarted', 'isItemNextRestart')],
          [`task.released.${id}`, item('itemReleased', 'isItemCurrentRun')],
        ]),
        always: [to(id, 'failed', 'mapFailed', 'mapFails'), to(id, 'done', 'mapCompleted', 'mapDone')],
      },
      ...FINALS,
    },
  };
}

/** A MAP's iterator: its handler runs per item inside the MAP; its own region only mirrors the MAP (done when it completed, else skipped). */
function iteratorRegion(task: TaskDef): RegionConfig {
  const id = task.id;
  const mirror = (target: 'done' | 'skipped'): TransitionConfig => ({
    guard: { type: 'mapSettledAs', params: { task: id, status: STATUS_OF_STATE[target] } },
    target,
    actions: { type: 'mirrorMap', params: { task: id, status: STATUS_OF_STATE[target] } },
  });
  return { initial: 'pending', states: { pending: { always: [mirror('done'), mirror('skipped')] }, ...FINALS } };
}

/**
 * DO_WHILE: pending → looping (its body runs, iteration by iteration) → done | failed. Once every body task of the
 * current iteration has settled, the first enabled of: a required body task failed, or the condition cannot be
 * evaluated, or it holds at max_iterations → failed; it holds → the next iteration (a self-transition); else → done.
 */
function loopRegion(task: TaskDef): RegionConfig {
  const id = task.id;
  return {
    initial: 'pending',
    states: {
      pending: pending(id, to(id, 'looping', 'startLoop', 'mayRun')),
      looping: {
        always: [
          to(id, 'failed', 'loopFailed', 'loopFails'),
          to(id, 'looping', 'nextIteration', 'loopRepeats'),
          to(id, 'done', 'loopDone', 'loopEnds'),
        ],
      },
      ...FINALS,
    },
  };
}

/** Where a body task's region goes instead of each final state, and back: settled for one iteration. */
const IN_ITERATION = {
  done: 'iteration_done',
  failed: 'iteration_failed',
  timed_out: 'iteration_timed_out',
  skipped: 'iteration_skipped',
} as const;

/**
 * A loop-body task's region: its type's region, with every settled state replaced by a state that is not final
 * (`iteration_done`, ...). From there, the loop's next iteration takes it back to pending (iterationReset), and the
 * loop's end to the matching final state. A body task still pending when its loop settled without running it (skipped,
 * failed upstream) is skipped.
 */
function inLoopBody(region: RegionConfig, id: string): RegionConfig {
  const retarget = (t: TransitionConfig): TransitionConfig => {
    const target = IN_ITERATION[t.target as keyof typeof IN_ITERATION];
    return target === undefined ? t : { ...t, target };
  };
  const states: Record<string, RegionConfig['states'][string]> = {};
  for (const [key, state] of Object.entries(region.states)) {
    if ('type' in state && state.type === 'final') {
      states[key] = state;
      continue;
    }
    const s = state as AtomicStateConfig;
    const on =
      s.on &&
      dictionaryOf(
        Object.entries(s.on).map(
          ([type, ts]) => [type, Array.isArray(ts) ? ts.map(retarget) : retarget(ts as TransitionConfig)] as const,
        ),
      );
    const always =
      s.always && (Array.isArray(s.always) ? s.always.map(retarget) : retarget(s.always as TransitionConfig));
    states[key] = {
      ...(on ? { on } : {}),
      ...(key === 'pending'
        ? {
            always: [
              to(id, 'skipped', 'skip', 'loopSettled'),
              ...(Array.isArray(always) ? always : always ? [always] : []),
            ],
          }
        : always
          ? { always }
          : {}),
    };
  }
  for (const [final, settled] of Object.entries(IN_ITERATION)) {
    states[settled] = {
      always: [to(id, 'pending', 'iterationReset', 'nextIteration'), { guard: g('loopSettled', id), target: final }],
    };
  }
  return { initial: region.initial, states };
}

/** `iterators`: iterator id → its MAP (iteratorMap), when the definition has any. */
function ownRegion(task: TaskDef, iterators?: ReadonlyMap<string, MapTask>): RegionConfig {
  const id = task.id;
  // Parsed and validated, but not run yet: reaching it fails the run, never silently.
  if (!RUNNABLE_TASK_TYPES.includes(task.type)) return settlingRegion(id, to(id, 'failed', 'unsupported', 'mayRun'));
  if (iterators?.has(id)) return iteratorRegion(task);
  switch (task.type) {
    case 'MAP':
      return mapRegion(task);
    // SUB_WORKFLOW, EMIT and TRANSFORM: attempts the executor performs itself (a child run, an event, a jq program), with the same retries and timeouts.
    case 'SIMPLE':
    case 'COMMAND':
    case 'HTTP':
    case 'SUB_WORKFLOW':
    case 'EMIT':
    case 'TRANSFORM':
      return workRegion(task);
    case 'HUMAN':
      return humanRegion(task);
    case 'WAIT':
      return waitRegion(task);
    case 'SET':
      return settlingRegion(id, to(id, 'done', 'setValues', 'mayRun'));
    case 'TERMINATE':
      return settlingRegion(id, to(id, 'done', 'terminate', 'mayRun'));
    case 'DO_WHILE':
      return loopRegion(task);
    case 'DECISION':
      return settlingRegion(id, [
        to(id, 'failed', 'decisionFailed', 'decisionFails'),
        to(id, 'done', 'decide', 'mayRun'),
      ]);
    default:
      return settlingRegion(id, to(id, 'done', 'completeInstantly', 'mayRun'));
  }
}

/** `loop`: the DO_WHILE whose body the task is in (graph.ts loopOwners), if any; `iterators`: iterator id → its MAP (iteratorMap). */
export function regionFor(task: TaskDef, loop?: string, iterators?: ReadonlyMap<string, MapTask>): RegionConfig {
  const region = ownRegion(task, iterators);
  return loop === undefined ? region : inLoopBody(region, task.id);
}
