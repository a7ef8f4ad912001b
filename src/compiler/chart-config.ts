/**
 * The statechart of a workflow, as the compiler builds it once from a Definition: typed, and exactly the subset of
 * XState v5 configs the fold's interpreter implements (a parallel state of flat regions, `on` and `always` transitions
 * with named guards and actions, final states). It has two renderings, neither a parse of the other:
 *
 *   - JSON: `machines/<id>.json` for Stately's visualiser, and the config
 *     XState builds its machine from (machine.ts; the interpreter's oracle);
 *   - the interpreter's chart, with guards and actions bound (chart.ts).
 *
 * machine.ts checks at compile time that this type is an XState MachineConfig.
 */
import type { TaskStatus } from './context.js';

export type GuardName =
  | 'mayRun'
  | 'mustSkip'
  | 'isAttempt'
  | 'isNextAttempt'
  | 'mayRetryFailure'
  | 'mayRetryTimeout'
  | 'isApprover'
  | 'decisionFails'
  | 'anyFatalFailure'
  | 'isNextRestart'
  | 'isCurrentRun'
  | 'waitUntilInvalid'
  | 'signalKept'
  | 'noSignalKept'
  | 'isPaused'
  | 'notPaused'
  | 'runTimeoutDue'
  | 'terminatedCompleted'
  | 'terminatedFailed'
  | 'loopFails'
  | 'loopRepeats'
  | 'loopEnds'
  | 'nextIteration'
  | 'loopSettled'
  | 'isItemNextAttempt'
  | 'isItemAttempt'
  | 'isItemBackoff'
  | 'isItemNextRestart'
  | 'isItemCurrentRun'
  | 'mayRetryItemFailure'
  | 'mayRetryItemTimeout'
  | 'mapFails'
  | 'mapDone'
  | 'mapSettledAs'
  | 'isReused';

export type ActionName =
  | 'skip'
  | 'schedule'
  | 'taskStarted'
  | 'taskCompleted'
  | 'taskRetrying'
  | 'taskFailed'
  | 'backoffElapsed'
  | 'decide'
  | 'decisionFailed'
  | 'completeInstantly'
  | 'unsupported'
  | 'awaitApproval'
  | 'approvalDecided'
  | 'approvalTimedOut'
  | 'finish'
  | 'taskRestarted'
  | 'taskReleased'
  | 'startWaiting'
  | 'waitUntilFailed'
  | 'waitElapsed'
  | 'keepSignal'
  | 'signalReceived'
  | 'waitTimedOut'
  | 'setValues'
  | 'terminate'
  | 'pauseRun'
  | 'resumeRun'
  | 'startLoop'
  | 'nextIteration'
  | 'loopFailed'
  | 'loopDone'
  | 'iterationReset'
  | 'mapStart'
  | 'itemStarted'
  | 'itemCompleted'
  | 'itemRetrying'
  | 'itemFailed'
  | 'itemTimedOut'
  | 'itemBackoffElapsed'
  | 'itemRestarted'
  | 'itemReleased'
  | 'mapFailed'
  | 'mapCompleted'
  | 'mirrorMap';

/** Every guard and action of a region names its task; some say which status they set. */
export interface TaskParams {
  readonly task: string;
  readonly status?: TaskStatus;
}
interface FinishParams {
  readonly status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
}

export interface GuardRef {
  readonly type: GuardName;
  readonly params: TaskParams;
}
export interface ActionRef {
  readonly type: ActionName;
  readonly params: TaskParams | FinishParams;
}
/** An action about the run as a whole (pause, resume): no task, no params. */
interface RunActionRef {
  readonly type: 'pauseRun' | 'resumeRun';
}

/** A transition within a region (to one of its states) or out of the parallel state (to a top-level final state). */
export interface TransitionConfig {
  readonly target: string;
  /** A guard with params, or (for the parallel state's own transitions) a guard name. */
  readonly guard?: GuardRef | GuardName;
  readonly actions?: ActionRef;
}

/**
 * A transition of the parallel state with no target (run.pause, run.resume): its actions run, no state is left or
 * entered, the state value is unchanged.
 */
export interface TargetlessTransitionConfig {
  readonly guard?: GuardName;
  readonly actions: RunActionRef;
}

interface FinalStateConfig {
  readonly type: 'final';
}
export interface AtomicStateConfig {
  readonly on?: Readonly<Record<string, TransitionConfig | readonly TransitionConfig[]>>;
  readonly always?: TransitionConfig | readonly TransitionConfig[];
}
export type RegionStateConfig = FinalStateConfig | AtomicStateConfig;

/** One region per task: its own states, starting in a state that is not final. */
export interface RegionConfig {
  readonly initial: string;
  readonly states: Readonly<Record<string, RegionStateConfig>>;
}

export interface TopFinalConfig {
  readonly type: 'final';
  readonly entry: { readonly type: 'finish'; readonly params: FinishParams };
}

export interface ChartConfig {
  readonly id: string;
  readonly initial: 'running';
  readonly states: {
    readonly running: {
      readonly type: 'parallel';
      readonly states: Readonly<Record<string, RegionConfig>>;
      readonly always: TransitionConfig | readonly TransitionConfig[];
      readonly onDone: TransitionConfig | readonly TransitionConfig[];
      readonly on: Readonly<
        Record<string, TransitionConfig | readonly TransitionConfig[] | TargetlessTransitionConfig>
      >;
    };
    readonly completed: TopFinalConfig;
    readonly failed: TopFinalConfig;
    readonly cancelled: TopFinalConfig;
  };
}

/**
 * The subset of XState configs the interpreter implements, in general (any guard and action names, lists of actions,
 * entry actions on final states): what chart.ts binds. ChartConfig is one instance of it; the interpreter's own tests
 * bind hand-made ones.
 */
interface NamedRef {
  readonly type: string;
  readonly params?: unknown;
}
type ActionsConfig = string | NamedRef | readonly (string | NamedRef)[];
interface SubsetTransition {
  readonly target: string;
  readonly guard?: string | NamedRef;
  readonly actions?: ActionsConfig;
}
type SubsetTransitions = SubsetTransition | readonly SubsetTransition[];
/** Only in the parallel state's `on`: actions without a target (an event type's list is all targetless or all targeted). */
interface SubsetTargetless {
  readonly guard?: string | NamedRef;
  readonly actions?: ActionsConfig;
}
interface SubsetState {
  readonly type?: 'final';
  readonly on?: Readonly<Record<string, SubsetTransitions>>;
  readonly always?: SubsetTransitions;
}
interface SubsetRegion {
  readonly initial: string;
  readonly states: Readonly<Record<string, SubsetState>>;
}
export interface SubsetParallel {
  readonly type: 'parallel';
  readonly states: Readonly<Record<string, SubsetRegion>>;
  readonly always?: SubsetTransitions;
  readonly onDone?: SubsetTransitions;
  readonly on?: Readonly<Record<string, SubsetTransitions | SubsetTargetless | readonly SubsetTargetless[]>>;
}
export interface SubsetFinal {
  readonly type: 'final';
  readonly entry?: ActionsConfig;
}
export interface SubsetConfig {
  readonly id: string;
  readonly initial: string;
  readonly states: Readonly<Record<string, SubsetParallel | SubsetFinal>>;
}

export const isFinal = (s: RegionStateConfig): s is FinalStateConfig => (s as FinalStateConfig).type === 'final';

/** XState's toArray: one item or a list. */
export function listOf<T>(v: T | readonly T[] | undefined): readonly T[] {
  return v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T];
}
