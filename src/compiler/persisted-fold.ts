/**
 * A fold snapshot as data (JSON) and back: what lets a run's state be stored and folding go on from it later without
 * replaying its history. Apart from interpreter.ts because it only reads and rebuilds configurations
 * (fold-snapshot.ts); it takes no step.
 */
import { LedgerflowError } from '../errors/index.js';
import type { Chart } from './chart-model.js';
import { statesOf } from './chart.js';
import type { RunContext } from './context.js';
import { Config, active, type FoldSnapshot, type StateValue } from './fold-snapshot.js';
import { PersistentVector } from './persistent-vector.js';

/**
 * A snapshot as data (JSON), to store and restore later: the state value, the context, and the order the regions'
 * states were entered in, which the value does not tell and eventless transitions depend on.
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

/** The snapshot as data. A snapshot of a failed start-up (status 'error') is not kept: its run never began. */
export function persistFold(snapshot: FoldSnapshot): PersistedFold {
  if (snapshot.status === 'error')
    throw new SnapshotMismatchError('a snapshot whose start-up failed cannot be persisted');
  const entered = snapshot._configuration?.entered.map((r) => r.key) ?? [];
  return { value: snapshot.value, status: snapshot.status, context: snapshot.context, entered };
}

/**
 * The snapshot `persistFold` gave, rebuilt on this chart: the same value, context and entry order, so folding on from
 * it takes the same steps as folding on from the original. Throws SnapshotMismatchError when the value or the entry
 * order names a state or region the chart does not have.
 */
export function restoreFold(chart: Chart, p: PersistedFold): FoldSnapshot {
  if (typeof p.value === 'string') {
    if (p.status !== 'done' || p.entered.length !== 0)
      throw new SnapshotMismatchError(`final state ${p.value} with status ${p.status}`);
    if (
      !chart.exitAlways.some((t) => t.target.key === p.value) &&
      ![...chart.exitOn.values()].some((ts) => ts.some((t) => t.target.key === p.value))
    ) {
      throw new SnapshotMismatchError(`no final state ${p.value}`);
    }
    return { value: p.value, status: 'done', context: p.context, _configuration: null };
  }
  if (p.status !== 'active') throw new SnapshotMismatchError('a done snapshot must be in a final state');
  const regions = p.value[chart.parallelKey];
  if (!regions || Object.keys(p.value).length !== 1)
    throw new SnapshotMismatchError(`expected the value { ${chart.parallelKey}: ... }`);
  if (Object.keys(regions).length !== chart.regions.length)
    throw new SnapshotMismatchError(`expected ${chart.regions.length} regions, got ${Object.keys(regions).length}`);
  const byKey = new Map(chart.regions.map((r) => [r.key, r]));
  const states = chart.regions.map((r) => {
    const key = regions[r.key];
    const state = key === undefined ? undefined : statesOf(r).get(key);
    if (!state) throw new SnapshotMismatchError(`region ${r.key} has no state ${String(key)}`);
    return state;
  });
  const entered = p.entered.map((k) => byKey.get(k));
  if (
    entered.length !== chart.regions.length ||
    entered.some((r) => r === undefined) ||
    new Set(entered).size !== entered.length
  ) {
    throw new SnapshotMismatchError('the entry order must name every region once');
  }
  const stamps = new Array<number>(chart.regions.length);
  entered.forEach((r, i) => {
    stamps[r!.index] = i;
  });
  const configuration = new Config(
    chart.parallelKey,
    chart.regions,
    PersistentVector.from(states),
    PersistentVector.from(stamps),
    stamps.length,
    states.filter((s) => s.final).length,
    chart.regions,
  );
  return active(chart, p.context, configuration);
}
