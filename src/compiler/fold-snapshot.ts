/**
 * What a fold snapshot is: its value, status and context, and the configuration (which state each region is in, and the
 * order they were entered) the interpreter steps from. Apart from interpreter.ts because the interpreter, persisting
 * and restoring (persisted-fold.ts) and the state hash (valueChunks) all read it, and none of them needs the others.
 */
import type { Chart, Region, RegionState } from './chart-model.js';
import type { RunContext } from './context.js';
import { lazyRegions } from './lazy-value.js';
import type { PersistentVector } from './persistent-vector.js';

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
 * A configuration as the interpreter keeps it. The entry order is kept as a stamp per region (later entered, higher
 * stamp) so that entering a state is O(1) rather than a rebuilt list. `dirty` is what makes eventless selection
 * incremental: the regions whose eventless transitions may be enabled. Every other region's eventless guards were all
 * false on a context that differs from this one only in tasks those guards do not read (guards declare what they read:
 * BoundGuard.reads), so they are false still, and XState would select nothing there either. Regions whose guards
 * declare nothing are always looked at (Indexes.scanned).
 */
export class Config implements Configuration {
  private order: readonly Region[] | null = null;
  constructor(
    readonly parallelKey: string,
    private readonly regions: readonly Region[],
    readonly states: PersistentVector<RegionState>,
    readonly stamps: PersistentVector<number>,
    readonly nextStamp: number,
    readonly finals: number,
    /**
     * A memo of pure evaluations: once the interpreter found none of them enabled on this snapshot's context (which
     * never changes), it empties the list, which changes no result, only what later steps re-evaluate.
     */
    public dirty: readonly Region[],
  ) {}

  get entered(): readonly Region[] {
    return (this.order ??= [...this.regions].sort((a, b) => this.stamps.get(a.index) - this.stamps.get(b.index)));
  }
}

export function stateValueOf(chart: Chart, states: PersistentVector<RegionState>): StateValue {
  // The same keys in the same order as regionRecord(states), stored into a clone of the chart's template.
  const regions: Record<string, string> = { ...chart.regionsTemplate };
  for (const chunk of states.chunks) for (const s of chunk) regions[s.region.key] = s.key;
  return { [chart.parallelKey]: regions };
}

/**
 * Charts with at most this many regions get their snapshot's value built at once: a small object, cheaper than the lazy
 * record (lazy-value.ts).
 */
const EAGER_VALUE_REGIONS = 64;

/**
 * An active snapshot. A long run's regions record (a key per region) is built when first read, not at every microstep
 * (lazy-value.ts): a plain data property, so the snapshot spreads, serializes and compares as a plain one.
 */
export function active(chart: Chart, context: RunContext, configuration: Config): FoldSnapshot {
  const { states } = configuration;
  const value =
    states.length <= EAGER_VALUE_REGIONS ? stateValueOf(chart, states) : { [chart.parallelKey]: lazyRegions(states) };
  return { value, status: 'active', context, _configuration: configuration };
}

/**
 * An active snapshot's regions' states, in document order, as the persistent vector the interpreter keeps them in: its
 * chunks are shared between the snapshots of a run, and carry what the state hash derives from them
 * (runtime/chunk-hash.ts). null for a snapshot that is not active.
 */
export function valueChunks(
  snapshot: FoldSnapshot,
): { parallelKey: string; states: PersistentVector<RegionState> } | null {
  const config = snapshot._configuration;
  if (snapshot.status !== 'active' || !(config instanceof Config)) return null;
  return { parallelKey: config.parallelKey, states: config.states };
}
