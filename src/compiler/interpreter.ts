/**
 * The fold's statechart interpreter: XState v5's algorithm (macrostep,
 * microstep, eventless transitions, done events) for exactly the subset of
 * statecharts the compiler writes, which chart.ts checks:
 *
 *   root ─ initial: a parallel state (`running`) with one compound region per
 *          task (atomic and final states, `on` and `always` transitions)
 *          and its own `always`, `onDone` and `on`, all targeting
 *        ─ top-level final states whose `entry` actions end the run.
 *
 * Guards and actions are the same functions XState calls (implementations.ts),
 * called with the same event and context in the same order, so the snapshots
 * are identical: test/compiler/interpreter.test.ts checks that against XState
 * itself. What XState does in general, and why it comes to this here:
 *
 * - An event's transitions: in each region (document order), the first
 *   enabled transition of its state for that type; if no region has one,
 *   the parallel state's. Guards all see the context from before the step.
 * - A targetless transition of the parallel state (run.pause, run.resume)
 *   runs its actions only: nothing is exited or entered, the value stays.
 * - Microstep: the transitions' actions in order, each assign seeing the
 *   previous one's context; then the targets are entered in document order,
 *   each final one raising its region's done event, and the parallel state's
 *   once every region is final. Entering a top-level final state runs its
 *   entry actions and ends the machine.
 * - Then, until nothing is enabled: eventless transitions, evaluated with the
 *   event being processed; when none are enabled, the next raised done event
 *   becomes the event being processed.
 * - Eventless selection walks XState's node list, in which a state entered
 *   later comes later: so region states are visited in the order they were
 *   entered, not in document order. Each takes its first enabled `always`
 *   transition, or else the parallel state's. A region's transition preempts
 *   the parallel state's (it is a descendant's), so the parallel state's only
 *   runs when no region's is enabled.
 */
import { LedgerflowError } from '../errors/index.js';
import type { BoundAction, BoundGuard, Chart, ExitTransition, Region, RegionState, RegionTransition, TargetlessTransition } from './chart.js';
import type { MachineEvent, MachineInput, RunContext } from './context.js';
import type { ImplementationEvent } from './implementations.js';
import { PersistentVector } from './persistent-vector.js';
import { rememberedRegionStates } from './region-states-cache.js';

/** `{ running: { <task>: <state>, ... } }` with regions in document order, or the top-level final state's name. */
export type StateValue = string | Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface FoldSnapshot {
  readonly value: StateValue;
  /** 'error': XState's status when start-up itself threw (the thrown value is in `error`); transitions never return it. */
  readonly status: 'active' | 'done' | 'error';
  readonly context: RunContext;
  readonly error?: unknown;
  /** Where the machine is; internal to the interpreter. null once it is done. */
  readonly _configuration: Configuration | null;
}

/** The active states under the parallel state: what XState keeps as the snapshot's `_nodes`. */
export interface Configuration {
  /** The state each region is in, by region index (persistent: a step copies one chunk, not every region). */
  readonly states: PersistentVector<RegionState>;
  /** The regions in the order their current state was entered: the order eventless transitions are selected (and run) in. Built on demand. */
  readonly entered: readonly Region[];
  /** How many regions are in a final state (which they never leave: final states have no transitions). */
  readonly finals: number;
}

/**
 * A configuration as the interpreter keeps it. The entry order is kept as a
 * stamp per region (later entered, higher stamp) so that entering a state is
 * O(1) rather than a rebuilt list. `dirty` is what makes eventless selection
 * incremental: the regions whose eventless transitions may be enabled. Every
 * other region's eventless guards were all false on a context that differs
 * from this one only in tasks those guards do not read (guards declare what
 * they read: BoundGuard.reads), so they are false still, and XState would
 * select nothing there either. Regions whose guards declare nothing are
 * always looked at (Indexes.scanned).
 */
class Config implements Configuration {
  private order: readonly Region[] | null = null;
  constructor(
    readonly parallelKey: string,
    private readonly regions: readonly Region[],
    readonly states: PersistentVector<RegionState>,
    readonly stamps: PersistentVector<number>,
    readonly nextStamp: number,
    readonly finals: number,
    /**
     * A memo of pure evaluations: once the interpreter found none of them
     * enabled on this snapshot's context (which never changes), it empties the
     * list, which changes no result, only what later steps re-evaluate.
     */
    public dirty: readonly Region[],
  ) {}

  get entered(): readonly Region[] {
    return (this.order ??= [...this.regions].sort((a, b) => this.stamps.get(a.index) - this.stamps.get(b.index)));
  }
}

/** What the interpreter works out once per chart to select eventless transitions incrementally. */
interface Indexes {
  /** Task id → the regions whose eventless guards read it. */
  readonly watchers: ReadonlyMap<string, readonly Region[]>;
  /** Regions with an eventless guard that does not declare what it reads: looked at on every selection. */
  readonly scanned: readonly Region[];
}

function indexesOf(chart: Chart): Indexes {
  const watchers = new Map<string, Region[]>();
  const scanned: Region[] = [];
  for (const region of chart.regions) {
    const reads = new Set<string>();
    let unknown = false;
    for (const state of statesOf(region).values()) {
      for (const t of state.always ?? []) {
        if (t.guard === null) continue; // always enabled: selected when the region enters its state (it is dirty then)
        if (t.guard.reads === null) unknown = true;
        else for (const id of t.guard.reads) reads.add(id);
      }
    }
    if (unknown) scanned.push(region);
    else for (const id of reads) watchers.set(id, [...(watchers.get(id) ?? []), region]);
  }
  return { watchers, scanned };
}

/**
 * A snapshot as data (JSON), to store and restore later: the state value, the
 * context, and the order the regions' states were entered in, which the value
 * does not tell and eventless transitions depend on.
 */
export interface PersistedFold {
  readonly value: StateValue;
  readonly status: 'active' | 'done';
  readonly context: RunContext;
  /** Region keys in the order their current state was entered; [] once the machine is done. */
  readonly entered: readonly string[];
}

/** A persisted snapshot that does not fit this chart (another definition, or damaged). */
export class SnapshotMismatchError extends LedgerflowError {
  constructor(reason: string) {
    super('LF_SNAPSHOT_MISMATCH', `the snapshot does not fit this workflow's statechart: ${reason}`, { reason });
  }
}

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

const passes = (guard: BoundGuard | null, args: { context: RunContext; event: ImplementationEvent }): boolean =>
  guard === null || guard.check(args, guard.params as never);

function runActions(actions: readonly BoundAction[], context: RunContext, event: ImplementationEvent): RunContext {
  let ctx = context;
  // As XState's assign: a new context object with the returned keys merged in, never a mutated one.
  // Spread rather than Object.assign({}, ...): the same object (actions return only context keys),
  // built by V8's object-clone fast path in a quarter of the time.
  for (const a of actions) ctx = { ...ctx, ...a.run({ context: ctx, event }, a.params as never) };
  return ctx;
}

function firstEnabled<T extends { readonly guard: BoundGuard | null }>(ts: readonly T[] | null | undefined, args: { context: RunContext; event: ImplementationEvent }): T | null {
  if (ts) for (const t of ts) if (passes(t.guard, args)) return t;
  return null;
}

function valueOf(chart: Chart, states: PersistentVector<RegionState>): StateValue {
  const regions: Record<string, string> = {};
  for (const chunk of states.chunks) for (const s of chunk) regions[s.region.key] = s.key;
  return { [chart.parallelKey]: regions };
}

/**
 * An active snapshot. Its value (an object with a key per region) is built
 * when first read, not at every microstep: most snapshots are never asked
 * (the state hash reads the configuration). An enumerable own getter, so the
 * snapshot spreads, serializes and compares as a plain one.
 */
function active(chart: Chart, context: RunContext, configuration: Config): FoldSnapshot {
  let value: StateValue | undefined;
  return {
    get value() { return (value ??= valueOf(chart, configuration.states)); },
    status: 'active', context, _configuration: configuration,
  };
}

/** The regions in `a` and `b`, each once. */
function union(a: readonly Region[], b: readonly Region[]): readonly Region[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return [...new Set([...a, ...b])];
}

export class Interpreter implements FoldLogic<FoldSnapshot> {
  private readonly startStates: PersistentVector<RegionState>;
  private readonly startStamps: PersistentVector<number>;
  private readonly indexes: Indexes;

  constructor(private readonly chart: Chart, private readonly initialContext: (input: MachineInput) => RunContext) {
    this.startStates = PersistentVector.from(chart.regions.map((r) => r.initial));
    this.startStamps = PersistentVector.from(chart.regions.map((r) => r.index));
    this.indexes = indexesOf(chart);
  }

  /** Every region in its initial state, entered in document order, every one dirty. */
  private startConfig(): Config {
    return new Config(this.chart.parallelKey, this.chart.regions, this.startStates, this.startStamps, this.chart.regions.length, 0, this.chart.regions);
  }

  /**
   * XState's getInitialSnapshot: the context from the input, every region in
   * its initial state, then eventless transitions with the xstate.init event.
   * Like XState, an exception during start-up becomes a snapshot with status
   * 'error' (with an empty context if the context itself could not be built).
   */
  initial(input: MachineInput): FoldSnapshot {
    const event: ImplementationEvent = { type: 'xstate.init', input };
    let context = {} as RunContext;
    try {
      context = this.initialContext(input);
      return this.settle(active(this.chart, context, this.startConfig()), event, []);
    } catch (error) {
      const configuration = this.startConfig();
      return { value: valueOf(this.chart, configuration.states), status: 'error', context, error, _configuration: configuration };
    }
  }

  /** XState's macrostep for an external event. */
  transition(snapshot: FoldSnapshot, event: MachineEvent): FoldSnapshot {
    if (snapshot.status !== 'active') return snapshot;
    if (event.type.startsWith('xstate.')) {
      throw new LedgerflowError('LF_FOLD_EVENT_INVALID', `${event.type} is one of XState's internal events, which a fold never applies`, { type: event.type });
    }
    const queue: ImplementationEvent[] = [];
    const step = this.select(snapshot, event);
    const next = step ? this.microstep(snapshot, step, event, queue) : snapshot;
    return this.settle(next, event, queue);
  }

  /** The snapshot as data. A snapshot of a failed start-up (status 'error') is not kept: its run never began. */
  persist(snapshot: FoldSnapshot): PersistedFold {
    if (snapshot.status === 'error') throw new SnapshotMismatchError('a snapshot whose start-up failed cannot be persisted');
    const entered = snapshot._configuration?.entered.map((r) => r.key) ?? [];
    return { value: snapshot.value, status: snapshot.status, context: snapshot.context, entered };
  }

  /**
   * The snapshot `persist` gave, rebuilt on this chart: the same value,
   * context and entry order, so folding on from it takes the same steps as
   * folding on from the original. Throws SnapshotMismatchError when the value
   * or the entry order names a state or region the chart does not have.
   */
  restore(p: PersistedFold): FoldSnapshot {
    const { chart } = this;
    if (typeof p.value === 'string') {
      if (p.status !== 'done' || p.entered.length !== 0) throw new SnapshotMismatchError(`final state ${p.value} with status ${p.status}`);
      if (!chart.exitAlways.some((t) => t.target.key === p.value) && ![...chart.exitOn.values()].some((ts) => ts.some((t) => t.target.key === p.value))) {
        throw new SnapshotMismatchError(`no final state ${p.value}`);
      }
      return { value: p.value, status: 'done', context: p.context, _configuration: null };
    }
    if (p.status !== 'active') throw new SnapshotMismatchError('a done snapshot must be in a final state');
    const regions = p.value[chart.parallelKey];
    if (!regions || Object.keys(p.value).length !== 1) throw new SnapshotMismatchError(`expected the value { ${chart.parallelKey}: ... }`);
    if (Object.keys(regions).length !== chart.regions.length) throw new SnapshotMismatchError(`expected ${chart.regions.length} regions, got ${Object.keys(regions).length}`);
    const byKey = new Map(chart.regions.map((r) => [r.key, r]));
    const states = chart.regions.map((r) => {
      const key = regions[r.key];
      const state = key === undefined ? undefined : statesOf(r).get(key);
      if (!state) throw new SnapshotMismatchError(`region ${r.key} has no state ${String(key)}`);
      return state;
    });
    const entered = p.entered.map((k) => byKey.get(k));
    if (entered.length !== chart.regions.length || entered.some((r) => r === undefined) || new Set(entered).size !== entered.length) {
      throw new SnapshotMismatchError('the entry order must name every region once');
    }
    const stamps = new Array<number>(chart.regions.length);
    entered.forEach((r, i) => { stamps[r!.index] = i; });
    const configuration = new Config(chart.parallelKey, chart.regions, PersistentVector.from(states), PersistentVector.from(stamps), stamps.length, states.filter((s) => s.final).length, chart.regions);
    return active(chart, p.context, configuration);
  }

  /** The rest of a macrostep: eventless transitions, then raised events one by one, until the machine rests or is done. */
  private settle(snapshot: FoldSnapshot, event: ImplementationEvent, queue: ImplementationEvent[]): FoldSnapshot {
    let current = snapshot;
    let processing = event;
    while (current.status === 'active') {
      let step = this.selectEventless(current, processing);
      if (!step) {
        const raised = queue.shift();
        if (!raised) break;
        processing = raised;
        step = this.select(current, processing);
        if (!step) continue;
      }
      current = this.microstep(current, step, processing, queue);
    }
    return current;
  }

  /** The transitions an event takes: each listening region's first enabled one; failing all, the parallel state's. */
  private select(snapshot: FoldSnapshot, event: ImplementationEvent): Step | null {
    const { states } = snapshot._configuration!;
    const args = { context: snapshot.context, event };
    let taken: RegionTransition[] | null = null; // most steps take none: no list then
    for (const region of this.chart.listeners.get(event.type) ?? []) {
      const t = firstEnabled(states.get(region.index).on.get(event.type), args);
      if (t) (taken ??= []).push(t);
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
    const candidates = union(config.dirty, this.indexes.scanned);
    const ordered = candidates.length > 1 ? [...candidates].sort((a, b) => stamps.get(a.index) - stamps.get(b.index)) : candidates;
    for (const region of ordered) {
      const t = firstEnabled(states.get(region.index).always, args);
      if (t) (taken ??= []).push(t);
    }
    if (taken) return { kind: 'regions', transitions: taken, eventless: true };
    config.dirty = []; // none is enabled on this context (see Config.dirty)
    const exit = firstEnabled(this.chart.exitAlways, args);
    return exit ? { kind: 'exit', transition: exit } : null;
  }

  private microstep(snapshot: FoldSnapshot, step: Step, event: ImplementationEvent, queue: ImplementationEvent[]): FoldSnapshot {
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
      if (a.writes === null) { dirty = this.chart.regions; break; }
      for (const id of a.writes) dirty = union(dirty, this.indexes.watchers.get(id) ?? []);
    }
    const configuration = new Config(this.chart.parallelKey, this.chart.regions, before.states, before.stamps, before.nextStamp, before.finals, dirty);
    return active(this.chart, context, configuration);
  }

  /** Leaves the parallel state for a top-level final state: the transition's actions, then the final state's entry actions. */
  private exit(snapshot: FoldSnapshot, t: ExitTransition, event: ImplementationEvent): FoldSnapshot {
    const context = runActions(t.target.entry, runActions(t.actions, snapshot.context, event), event);
    return { value: t.target.key, status: 'done', context, _configuration: null };
  }

  /** Each transition moves one region (at most one per region): actions in order, then the targets are entered. */
  private moveRegions(snapshot: FoldSnapshot, step: Step & { kind: 'regions' }, event: ImplementationEvent, queue: ImplementationEvent[]): FoldSnapshot {
    const { transitions } = step;
    let context = snapshot.context;
    for (const t of transitions) context = runActions(t.actions, context, event);
    const before = snapshot._configuration as Config;
    // A region whose transition targets the state it is in (a self-transition: XState v5's default does not
    // re-enter) neither leaves nor enters it: only its actions ran.
    const moving = transitions.filter((t) => before.states.get(t.target.region.index) !== t.target);
    const states = moving.length === 0 ? before.states : before.states.withAll(moving.map((t) => [t.target.region.index, t.target] as const));
    // XState enters states in document order and appends each to its node list.
    const moved = moving.length <= 1 ? moving.map((t) => t.target.region) : moving.map((t) => t.target.region).sort((a, b) => a.index - b.index);
    const stamps = moved.length === 0 ? before.stamps : before.stamps.withAll(moved.map((r, k) => [r.index, before.nextStamp + k] as const));
    let finals = before.finals;
    for (const r of moved) {
      if (!states.get(r.index).final) continue;
      finals++;
      queue.push(r.doneEvent);
    }
    // XState checks this as each final state is entered: it first holds as the last of them is, after the regions' own done events.
    if (finals === states.length) queue.push(this.chart.doneEvent);
    const configuration = new Config(this.chart.parallelKey, this.chart.regions, states, stamps, before.nextStamp + moved.length, finals, this.dirtyAfter(before, step.eventless, moved, transitions));
    return active(this.chart, context, configuration);
  }

  /**
   * The regions that may have an enabled eventless transition after these
   * transitions: those that moved, those whose guards read a task the
   * transitions' actions wrote, and the dirty ones not yet looked at (after an
   * eventless selection, every dirty one was). An action that does not say
   * what it writes makes every region dirty.
   */
  private dirtyAfter(before: Config, eventless: boolean, moved: readonly Region[], transitions: readonly RegionTransition[]): readonly Region[] {
    const dirty = new Set<Region>(eventless ? [] : before.dirty);
    for (const r of moved) dirty.add(r);
    for (const t of transitions) {
      for (const a of t.actions) {
        if (a.writes === null) return this.chart.regions;
        for (const id of a.writes) for (const r of this.indexes.watchers.get(id) ?? []) dirty.add(r);
      }
    }
    return [...dirty];
  }
}

/** A region's states by key, found by walking its transitions from the initial state (once per region: region-states-cache.ts). */
function statesOf(region: Region): ReadonlyMap<string, RegionState> {
  return rememberedRegionStates(region, walkStates);
}

function walkStates(region: Region): ReadonlyMap<string, RegionState> {
  const seen = new Map<string, RegionState>();
  const visit = (s: RegionState) => {
    if (seen.has(s.key)) return;
    seen.set(s.key, s);
    for (const ts of s.on.values()) for (const t of ts) visit(t.target);
    for (const t of s.always ?? []) visit(t.target);
  };
  visit(region.initial);
  return seen;
}

/**
 * An active snapshot's value as chunks of [region key, state key] pairs in
 * document order, each chunk the same object in every snapshot that shares
 * it: what lets the state hash (runtime/fold.ts) reuse the text of what did
 * not change. null for a snapshot that is not active.
 */
export function valueChunks(snapshot: FoldSnapshot): { parallelKey: string; chunks: readonly (readonly { readonly key: string; readonly region: { readonly key: string } }[])[] } | null {
  const config = snapshot._configuration;
  if (snapshot.status !== 'active' || !(config instanceof Config)) return null;
  return { parallelKey: config.parallelKey, chunks: config.states.chunks };
}
