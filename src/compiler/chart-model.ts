/**
 * What the interpreter steps through once the machine config is read (chart.ts reads it): regions, their states and
 * transitions, every guard and action bound to its implementation. Types only, in a file of their own so the
 * interpreter, the snapshot and the indexes name them without the reader.
 */
import type { ActionImplementation, GuardImplementation, ImplementationEvent } from './implementations.js';

/**
 * `reads`: the context tasks the guard reads when it reads nothing else (not the event, no other part of the context);
 * null when it does not say. The interpreter re-evaluates an eventless guard that says only once a task it reads has
 * changed (interpreter.ts, Config).
 */
export interface BoundGuard {
  readonly check: GuardImplementation;
  readonly params: unknown;
  readonly reads: readonly string[] | null;
}
/**
 * `writes`: the context tasks the action may change; null when it does not say (then it may change any). `watching`:
 * for an action of a region's transition that says, the regions whose eventless guards read what it writes (each
 * written task's, in order); set once by the interpreter's indexes (eventless-index.ts), so that a step finds them on
 * the action it ran rather than by a lookup per task in a map of every task.
 */
export interface BoundAction {
  readonly run: ActionImplementation;
  readonly params: unknown;
  readonly writes: readonly string[] | null;
  watching: readonly Region[] | null;
}

export interface Transition<Target> {
  /** null: always enabled. */
  readonly guard: BoundGuard | null;
  readonly actions: readonly BoundAction[];
  readonly target: Target;
}
export type RegionTransition = Transition<RegionState>;
export type ExitTransition = Transition<TopFinalState>;
/** A transition of the parallel state without a target: actions only (the state value does not change). */
export interface TargetlessTransition {
  readonly guard: BoundGuard | null;
  readonly actions: readonly BoundAction[];
}

export interface Region {
  readonly key: string;
  /** Position among the regions in document order (the order of the config's keys, as XState numbers its nodes). */
  readonly index: number;
  readonly initial: RegionState;
  /** The event XState raises when the region reaches a final state. */
  readonly doneEvent: ImplementationEvent;
  /**
   * Its states by key, those its transitions reach from the initial state: what restoring a snapshot looks states up
   * in, and what the interpreter reads each region's eventless guards from. Walked once, when the chart is read
   * (reachableStates).
   */
  readonly states: ReadonlyMap<string, RegionState>;
}

export interface RegionState {
  readonly key: string;
  readonly region: Region;
  /**
   * `"<region key>":"<state key>"`: this state's entry in the JSON of a state value, written once here because the
   * state hash writes the entry of the state a region moved to at every event (runtime/state-hash.ts), where quoting
   * both keys again took two lookups in a table of every name.
   */
  readonly json: string;
  readonly final: boolean;
  readonly on: ReadonlyMap<string, readonly RegionTransition[]>;
  /** Eventless transitions; null when the state has none (its region's parallel parent's apply). */
  readonly always: readonly RegionTransition[] | null;
}

/** completed | failed | cancelled: the machine is done once it enters one. */
export interface TopFinalState {
  readonly key: string;
  readonly entry: readonly BoundAction[];
}

export interface Chart {
  /** The key of the top-level parallel state (`running`), the machine's initial state. */
  readonly parallelKey: string;
  /** In document order. */
  readonly regions: readonly Region[];
  /**
   * `{ <region key>: <its initial state's key> }` in document order: what a short run's state value is copied from
   * (fold-snapshot.ts stateValueOf), so that building it stores into an object of the right shape instead of adding
   * every key to an empty one.
   */
  readonly regionsTemplate: Readonly<Record<string, string>>;
  /** Event type → the regions, in document order, with a state that has transitions for it. */
  readonly listeners: ReadonlyMap<string, readonly Region[]>;
  /** The parallel state's own `on`, with `onDone` under the type of its done event. */
  readonly exitOn: ReadonlyMap<string, readonly ExitTransition[]>;
  /** The parallel state's own `on` transitions without a target (run.pause, run.resume), by event type. */
  readonly targetlessOn: ReadonlyMap<string, readonly TargetlessTransition[]>;
  readonly exitAlways: readonly ExitTransition[];
  /** The event XState raises when every region is in a final state. */
  readonly doneEvent: ImplementationEvent;
}
