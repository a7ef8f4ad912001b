/**
 * The fold's statechart interpreter: XState v5's algorithm (macrostep, microstep, eventless transitions, done events)
 * for exactly the subset of statecharts the compiler writes, which chart.ts checks:
 *
 *   root ─ initial: a parallel state (`running`) with one compound region per task (atomic and final states, `on`
 *          and `always` transitions) and its own `always`, `onDone` and `on`, all targeting
 *        ─ top-level final states whose `entry` actions end the run.
 *
 * Guards and actions are the same functions XState calls (implementations.ts), called with the same event and context
 * in the same order, so the snapshots are identical: test/compiler/interpreter.test.ts checks that against XState
 * itself. What XState does in general, and why it comes to this here:
 *
 * - An event's transitions: in each region (document order), the first enabled transition of its state for that type;
 *   if no region has one, the parallel state's. Guards all see the context from before the step.
 * - A targetless transition of the parallel state (run.pause, run.resume) runs its actions only: nothing is exited or
 *   entered, the value stays.
 * - Microstep: the transitions' actions in order, each assign seeing the previous one's context; then the targets are
 *   entered in document order, each final one raising its region's done event, and the parallel state's once every
 *   region is final. Entering a top-level final state runs its entry actions and ends the machine.
 * - Then, until nothing is enabled: eventless transitions, evaluated with the event being processed; when none are
 *   enabled, the next raised done event becomes the event being processed.
 * - Eventless selection walks XState's node list, in which a state entered later comes later: so region states are
 *   visited in the order they were entered, not in document order. Each takes its first enabled `always` transition, or
 *   else the parallel state's. A region's transition preempts the parallel state's (it is a descendant's), so the
 *   parallel state's only runs when no region's is enabled.
 */
import { BlobNotLoadedError, LedgerflowError } from '../errors/index.js';
import type {
  Chart,
  ExitTransition,
  Region,
  RegionState,
  RegionTransition,
  TargetlessTransition,
} from './chart-model.js';
import type { MachineEvent, MachineInput, RunContext } from './context.js';
import { indexesOf, type Indexes } from './eventless-index.js';
import { Config, active, stateValueOf, type FoldSnapshot } from './fold-snapshot.js';
import type { ImplementationEvent } from './implementations.js';
import { persistFold, restoreFold, type PersistedFold } from './persisted-fold.js';
import { PersistentVector } from './persistent-vector.js';
import {
  distinct,
  firstEnabled,
  inEntryOrder,
  moveMany,
  moveOne,
  NONE,
  runActions,
  union,
} from './interpreter-steps.js';

/** What folding needs from a statechart: the state after run.started, and the state after one more event. */
export interface FoldLogic<S> {
  initial(input: MachineInput): S;
  /** Returns the very same snapshot when no transition takes the event. */
  transition(snapshot: S, event: MachineEvent): S;
}

type Step =
  /** `eventless`: chosen by selectEventless, which looked at every dirty region. */
  | { readonly kind: 'regions'; readonly transitions: readonly RegionTransition[]; readonly eventless: boolean }
  | { readonly kind: 'exit'; readonly transition: ExitTransition }
  | { readonly kind: 'targetless'; readonly transition: TargetlessTransition };

export class Interpreter implements FoldLogic<FoldSnapshot> {
  private readonly startStates: PersistentVector<RegionState>;
  private readonly startStamps: PersistentVector<number>;
  private readonly indexes: Indexes;
  /** prefix → task → `prefix + task` and the regions listening for it, for the types the chart has transitions for (typeName). */
  private readonly typeNames = new Map<string, Map<string, Named>>();
  /** The type typeName named last: the next select is most likely for it, and finds its regions without a lookup. */
  private lastNamed: Named | null = null;
  /** Each region's done event with the regions listening for it, and the parallel state's: raised events find their listeners without a lookup. */
  private readonly regionDone: readonly Raised[];
  private readonly allDone: Raised;

  constructor(
    private readonly chart: Chart,
    private readonly initialContext: (input: MachineInput) => RunContext,
  ) {
    this.startStates = PersistentVector.from(chart.regions.map((r) => r.initial));
    this.startStamps = PersistentVector.from(chart.regions.map((r) => r.index));
    this.indexes = indexesOf(chart);
    const raised = (event: ImplementationEvent): Raised => ({
      event,
      listeners: chart.listeners.get(event.type) ?? NONE,
    });
    this.regionDone = chart.regions.map((r) => raised(r.doneEvent));
    this.allDone = raised(chart.doneEvent);
  }

  /** Every region in its initial state, entered in document order, every one dirty. */
  private startConfig(): Config {
    return new Config(
      this.chart.parallelKey,
      this.chart.regions,
      this.startStates,
      this.startStamps,
      this.chart.regions.length,
      0,
      this.chart.regions,
    );
  }

  /**
   * XState's getInitialSnapshot: the context from the input, every region in its initial state, then eventless
   * transitions with the xstate.init event. Like XState, an exception during start-up becomes a snapshot with status
   * 'error' (with an empty context if the context itself could not be built).
   */
  initial(input: MachineInput): FoldSnapshot {
    const event: ImplementationEvent = { type: 'xstate.init', input };
    let context = {} as RunContext;
    try {
      context = this.initialContext(input);
      return this.settle(active(this.chart, context, this.startConfig()), event, []);
    } catch (error) {
      // A large payload not loaded yet is no failure of the run: the executor loads it and evaluates again.
      if (error instanceof BlobNotLoadedError) throw error;
      const configuration = this.startConfig();
      return {
        value: stateValueOf(this.chart, configuration.states),
        status: 'error',
        context,
        error,
        _configuration: configuration,
      };
    }
  }

  /**
   * `prefix + task`, made once per type the chart listens for: the same string object each time, hashed once, where a
   * new concatenation per event was flattened and hashed again by each lookup by type (runtime/fold.ts toMachineEvent).
   * Types no region listens for are not kept (the record stays as large as the chart).
   */
  typeName(prefix: string, task: string): string {
    let byTask = this.typeNames.get(prefix);
    let named = byTask?.get(task);
    if (named === undefined) {
      const name = prefix + task;
      const listeners = this.chart.listeners.get(name);
      if (listeners === undefined) return name;
      if (byTask === undefined) this.typeNames.set(prefix, (byTask = new Map()));
      named = { name, listeners, state: null, transitions: null };
      byTask.set(task, named);
    }
    // In a long run each task's entries are cold when its turn comes: one lookup here, none in select.
    this.lastNamed = named;
    return named.name;
  }

  /** XState's macrostep for an external event. */
  transition(snapshot: FoldSnapshot, event: MachineEvent): FoldSnapshot {
    if (snapshot.status !== 'active') return snapshot;
    if (event.type.startsWith('xstate.')) {
      throw new LedgerflowError(
        'LF_FOLD_EVENT_INVALID',
        `${event.type} is one of XState's internal events, which a fold never applies`,
        { type: event.type },
      );
    }
    const queue: Raised[] = [];
    const step = this.select(snapshot, event);
    const next = step ? this.microstep(snapshot, step, event, queue) : snapshot;
    return this.settle(next, event, queue);
  }

  /** The snapshot as data (persisted-fold.ts). */
  persist(snapshot: FoldSnapshot): PersistedFold {
    return persistFold(snapshot);
  }

  /** The snapshot `persist` gave, rebuilt on this chart (persisted-fold.ts); throws SnapshotMismatchError if it does not fit. */
  restore(p: PersistedFold): FoldSnapshot {
    return restoreFold(this.chart, p);
  }

  /** The rest of a macrostep: eventless transitions, then raised events one by one, until the machine rests or is done. */
  private settle(snapshot: FoldSnapshot, event: ImplementationEvent, queue: Raised[]): FoldSnapshot {
    let current = snapshot;
    let processing = event;
    while (current.status === 'active') {
      let step = this.selectEventless(current, processing);
      if (!step) {
        const raised = queue.shift();
        if (!raised) break;
        processing = raised.event;
        step = this.select(current, processing, raised.listeners);
        if (!step) continue;
      }
      current = this.microstep(current, step, processing, queue);
    }
    return current;
  }

  /**
   * The transitions an event takes: each listening region's first enabled one; failing all, the parallel state's.
   * `known`: the regions listening for a raised done event (in a long run, looking its type up missed in a map of
   * thousands of cold keys at every task's end).
   */
  private select(
    snapshot: FoldSnapshot,
    event: ImplementationEvent,
    known: readonly Region[] | null = null,
  ): Step | null {
    const { states } = snapshot._configuration!;
    const args = { context: snapshot.context, event };
    let taken: RegionTransition[] | null = null; // most steps take none: no list then
    const named =
      known === null && this.lastNamed !== null && this.lastNamed.name === event.type ? this.lastNamed : null;
    const listeners = named !== null ? named.listeners : (known ?? this.chart.listeners.get(event.type) ?? NONE);
    if (named !== null && listeners.length === 1) {
      // One region listens (a task's own events): its state's transitions for the type, remembered with the state they are of.
      const state = states.get(listeners[0]!.index);
      if (named.state !== state) {
        named.transitions = state.on.get(event.type) ?? null;
        named.state = state;
      }
      const t = firstEnabled(named.transitions, args);
      if (t) taken = [t];
    } else {
      for (const region of listeners) {
        const t = firstEnabled(states.get(region.index).on.get(event.type), args);
        if (t) (taken ??= []).push(t);
      }
    }
    if (taken) return { kind: 'regions', transitions: taken, eventless: false };
    const exit = firstEnabled(this.chart.exitOn.get(event.type), args);
    if (exit) return { kind: 'exit', transition: exit };
    const own = firstEnabled(this.chart.targetlessOn.get(event.type), args);
    return own ? { kind: 'targetless', transition: own } : null;
  }

  /** Enabled eventless transitions, regions in the order their states were entered; the parallel state's only if none is. */
  private selectEventless(snapshot: FoldSnapshot, event: ImplementationEvent): Step | null {
    const config = snapshot._configuration as Config;
    const { states, stamps } = config;
    const args = { context: snapshot.context, event };
    let taken: RegionTransition[] | null = null;
    // Only the dirty regions (and those that declare nothing) can have an enabled eventless transition; in entry order.
    const ordered = inEntryOrder(union(config.dirty, this.indexes.scanned), stamps);
    for (const region of ordered) {
      const t = firstEnabled(states.get(region.index).always, args);
      if (t) (taken ??= []).push(t);
    }
    if (taken) return { kind: 'regions', transitions: taken, eventless: true };
    config.dirty = []; // none is enabled on this context (see Config.dirty)
    const exit = firstEnabled(this.chart.exitAlways, args);
    return exit ? { kind: 'exit', transition: exit } : null;
  }

  private microstep(snapshot: FoldSnapshot, step: Step, event: ImplementationEvent, queue: Raised[]): FoldSnapshot {
    if (step.kind === 'targetless') return this.runInPlace(snapshot, step.transition, event);
    return step.kind === 'exit'
      ? this.exit(snapshot, step.transition, event)
      : this.moveRegions(snapshot, step, event, queue);
  }

  /** A targetless transition of the parallel state: its actions, and every region stays where it is. */
  private runInPlace(snapshot: FoldSnapshot, t: TargetlessTransition, event: ImplementationEvent): FoldSnapshot {
    const context = runActions(t.actions, snapshot.context, event);
    const before = snapshot._configuration as Config;
    let dirty: readonly Region[] = before.dirty;
    for (const a of t.actions) {
      if (a.writes === null) {
        dirty = this.chart.regions;
        break;
      }
      for (const id of a.writes) dirty = union(dirty, this.indexes.watchers.get(id) ?? []);
    }
    const configuration = new Config(
      this.chart.parallelKey,
      this.chart.regions,
      before.states,
      before.stamps,
      before.nextStamp,
      before.finals,
      dirty,
    );
    return active(this.chart, context, configuration);
  }

  /** Leaves the parallel state for a top-level final state: the transition's actions, then the final state's entry actions. */
  private exit(snapshot: FoldSnapshot, t: ExitTransition, event: ImplementationEvent): FoldSnapshot {
    const context = runActions(t.target.entry, runActions(t.actions, snapshot.context, event), event);
    return { value: t.target.key, status: 'done', context, _configuration: null };
  }

  /** Each transition moves one region (at most one per region): actions in order, then the targets are entered. */
  private moveRegions(
    snapshot: FoldSnapshot,
    step: Step & { kind: 'regions' },
    event: ImplementationEvent,
    queue: Raised[],
  ): FoldSnapshot {
    const { transitions } = step;
    let context = snapshot.context;
    for (const t of transitions) context = runActions(t.actions, context, event);
    const before = snapshot._configuration as Config;
    const { states, stamps, moved } =
      transitions.length === 1 ? moveOne(before, transitions[0]!) : moveMany(before, transitions);
    let finals = before.finals;
    for (const r of moved) {
      if (!states.get(r.index).final) continue;
      finals++;
      queue.push(this.regionDone[r.index]!);
    }
    // XState checks this as each final state is entered: it first holds as the last of them is, after the regions' own done events.
    if (finals === states.length) queue.push(this.allDone);
    const configuration = new Config(
      this.chart.parallelKey,
      this.chart.regions,
      states,
      stamps,
      before.nextStamp + moved.length,
      finals,
      this.dirtyAfter(before, step.eventless, moved, transitions),
    );
    return active(this.chart, context, configuration);
  }

  /**
   * The regions that may have an enabled eventless transition after these transitions: those that moved, those whose
   * guards read a task the transitions' actions wrote, and the dirty ones not yet looked at (after an eventless
   * selection, every dirty one was). An action that does not say what it writes makes every region dirty.
   */
  private dirtyAfter(
    before: Config,
    eventless: boolean,
    moved: readonly Region[],
    transitions: readonly RegionTransition[],
  ): readonly Region[] {
    const dirty: Region[] = eventless ? [] : before.dirty.slice();
    for (const r of moved) dirty.push(r);
    for (const t of transitions) {
      for (const a of t.actions) {
        if (a.writes === null) return this.chart.regions;
        if (a.watching !== null) for (const r of a.watching) dirty.push(r);
        else for (const id of a.writes) for (const r of this.indexes.watchers.get(id) ?? NONE) dirty.push(r);
      }
    }
    return dirty.length === 0 ? NONE : distinct(dirty);
  }
}

/**
 * A type the chart listens for, as typeName made it, and the regions listening; with one region, the last state select
 * found it in and that state's transitions for the type (a memo of the chart's lookup: the next run of the definition
 * finds the region in the same state).
 */
interface Named {
  readonly name: string;
  readonly listeners: readonly Region[];
  state: RegionState | null;
  transitions: readonly RegionTransition[] | null;
}

/** An event a microstep raised (a done event), with the regions listening for it. */
interface Raised {
  readonly event: ImplementationEvent;
  readonly listeners: readonly Region[];
}
