/**
 * What a process without the data key shows of a run whose course turned on sealed values (runtime/sealed-parting.ts):
 * the tasks as of the last event its fold still agrees with, the run's status, end and error as its last event recorded
 * them, and `sealedFrom`, the event from which the tasks are not shown. A run the fold follows to its end (most: a
 * sealed value only handlers read) is shown whole, as before. `status`, the HTTP API (the dashboard) and `replay` show
 * a run so; a process with the key never gets here.
 */
import { readWithoutKey } from '../encryption/index.js';
import type { EventEnvelope } from '../events/index.js';
import {
  derivedHidden,
  foldEvents,
  partedView,
  partingAt,
  runView,
  sealedParting,
  type ReplayReport,
  type RunSnapshot,
  type RunView,
  type SealedFrom,
} from '../runtime/index.js';
import type { EventStore } from '../store/index.js';

/**
 * Where the fold of `events` (ending in `snapshot`, folded here when not given) parts from the run, when this process
 * read it without the data key; null with the key, or when the fold follows the run to its end. The one check every
 * keyless reader makes (the views here, migrate's judgement, the deploy gate, the state file).
 */
export function keylessParting(
  store: EventStore,
  events: EventEnvelope[],
  snapshot?: RunSnapshot,
): { index: number; from: SealedFrom } | null {
  if (events.length === 0 || !readWithoutKey(store, events[0]!.runId)) return null;
  return sealedParting(events, snapshot ?? foldEvents(events).snapshot);
}

/**
 * Where a verdict on `events` stops being one for want of the key: the run's parting, unless `divergence` (the
 * verdict's own, a candidate version's) comes before it, which is then a verdict as any other. Null with the key.
 */
export function unjudgedFrom(store: EventStore, events: EventEnvelope[], divergence?: number): SealedFrom | null {
  const parting = keylessParting(store, events);
  return parting && (divergence === undefined || divergence >= parting.from.seq) ? parting.from : null;
}

/** `view` (the fold's of `events`, ending in `snapshot`), or what the run's recorded states let a reader without the key show. */
export function keylessView(store: EventStore, events: EventEnvelope[], snapshot: RunSnapshot, view: RunView): RunView {
  if (events.length === 0 || !readWithoutKey(store, events[0]!.runId)) return view;
  const parting = sealedParting(events, snapshot);
  return derivedHidden(
    parting
      ? partedView(viewBefore(events, parting.index, view), events.at(-1)!, lastFailed(events), parting.from)
      : view,
  );
}

/**
 * A replay by a process without the key: a divergence is where the fold could not follow the run's sealed values (it
 * cannot tell one from a log changed by hand), so it is reported as `sealedFrom` with the view the run's records give.
 */
export function keylessReplay(store: EventStore, events: EventEnvelope[], report: ReplayReport): ReplayReport {
  if (!readWithoutKey(store, report.runId)) return report;
  if (!report.divergence) return { ...report, view: derivedHidden(report.view) };
  const upTo = events.filter((e) => e.seq <= report.toSeq);
  const parting = partingAt(upTo, report.divergence.seq);
  return {
    ...report,
    divergence: null,
    sealedFrom: parting.from,
    view: derivedHidden(
      partedView(viewBefore(upTo, parting.index, report.view), upTo.at(-1)!, lastFailed(upTo), parting.from),
    ),
  };
}

/** The view after the events before index `index`; with none before (it parted at run.started), `view` without tasks. */
function viewBefore(events: EventEnvelope[], index: number, view: RunView): RunView {
  if (index === 0) {
    const { variables: _variables, ...rest } = view;
    return { ...rest, tasks: {}, timers: [] };
  }
  const { compiled, snapshot, seq } = foldEvents(events.slice(0, index));
  return runView(snapshot, seq, compiled.definition);
}

const lastFailed = (events: EventEnvelope[]) => [...events].reverse().find((e) => e.type === 'run.failed');
