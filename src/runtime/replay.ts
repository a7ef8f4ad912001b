/**
 * Replay: rebuild a run's state from its events and check it against the state each event recorded. With another
 * definition, tell whether that version could take over the run: every recorded event must still be accepted, and every
 * task both versions share must reach the same status.
 */
import { compile, type CompiledWorkflow } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import type { EventEnvelope, TornTail } from '../events/index.js';
import { applyEvent, foldStartOf, recordedState, rejectionReason, startFold, type RunSnapshot } from './fold.js';
import type { Divergence } from './divergence.js';
import { compiledForRun, migrationProblem, rehearse, startedOf, workflowAfter } from './migration.js';
import { stateHashOf } from './state-hash.js';
import { runView, type RunView } from './view.js';
import type { SealedFrom } from './sealed-from.js';

export type { Divergence } from './divergence.js';

export interface ReplayReport {
  runId: string;
  /** Events folded (up to `toSeq`). */
  events: number;
  toSeq: number;
  view: RunView;
  /** First event whose recomputed state differs from the recorded one; null when replay matches. */
  divergence: Divergence | null;
  /** Torn last lines once cut from the run's log and where their bytes are kept (file store), when there were any. */
  torn?: TornTail;
  /**
   * The run's large payloads (kept apart, events/payload-ref.ts), checked by the executor's edge: how many it read and
   * each one missing or altered (LF_BLOB_MISSING, LF_BLOB_ALTERED). Absent when the run holds none.
   */
  payloads?: { checked: number; problems: { code: string; message: string; meta: Record<string, unknown> }[] };
  /**
   * Read without the data key, a run whose course turned on sealed values (sealed-parting.ts): the event from which
   * the fold could not follow it, checked up to the event before (executor's replay). `divergence` is then null.
   */
  sealedFrom?: SealedFrom;
  /** Only with a candidate definition: whether it could take over this run, and if not, where it breaks. */
  candidate?: { workflowId: string; version: number; compatible: boolean; divergence: Divergence | null };
}

/**
 * Folds events without checks: the fast path used to load a run. `compiled`
 * is the run's workflow after its last event (a migrated run's new one).
 */
export function foldEvents(events: EventEnvelope[]): {
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
  seq: number;
} {
  const first = startedOf(events[0]);
  let compiled = compiledForRun(first);
  let snapshot = startFold(compiled, foldStartOf(first));
  for (const ev of events.slice(1)) {
    snapshot = applyEvent(compiled, snapshot, ev).snapshot;
    if (ev.type === 'run.migrated') compiled = workflowAfter(compiled, ev);
  }
  return { compiled, snapshot, seq: events.at(-1)!.seq };
}

export function replayRun(events: EventEnvelope[], opts: { to?: number; candidate?: Definition } = {}): ReplayReport {
  const upTo = events.filter((e) => opts.to === undefined || e.seq <= opts.to);
  const first = startedOf(upTo[0]);
  let compiled = compiledForRun(first);
  const start = foldStartOf(first);

  let snapshot = startFold(compiled, start);
  let divergence: Divergence | null = null;

  const check = (ev: EventEnvelope) => {
    const computed = recordedState(snapshot);
    if (!divergence && (computed.hash !== ev.state.hash || computed.status !== ev.state.status)) {
      divergence = {
        seq: ev.seq,
        type: ev.type,
        reason: 'the recomputed state differs from the recorded one',
        recorded: ev.state,
        computed,
      };
    }
  };
  check(first);
  upTo.slice(1).forEach((ev, i) => {
    const before = snapshot;
    const r = applyEvent(compiled, snapshot, ev);
    snapshot = r.snapshot;
    if (!r.accepted && !divergence)
      divergence = { seq: ev.seq, type: ev.type, reason: `event not accepted: ${rejectionReason(before, ev)}` };
    if (ev.type === 'run.migrated' && r.accepted) {
      compiled = workflowAfter(compiled, ev);
      const problem = divergence ? null : migrationProblem(upTo.slice(0, i + 1), ev, snapshot, stateHashOf);
      if (problem) divergence = { seq: ev.seq, type: ev.type, reason: `run.migrated does not check: ${problem}` };
    }
    check(ev);
  });
  // Whether another version could take over: the run's events rehearsed under it (migration.ts).
  // A definition of another workflow takes over nothing, whatever its tasks: said as that, at the run's first event.
  const other =
    opts.candidate && opts.candidate.id !== compiled.definition.id
      ? {
          seq: first.seq,
          type: first.type,
          reason: `it is workflow ${opts.candidate.id} and the run is of workflow ${compiled.definition.id}: a version takes over only runs of its own workflow`,
        }
      : null;
  const cand = opts.candidate && !other ? rehearse(upTo, compile(opts.candidate)) : null;
  const candDivergence = other ?? cand?.divergence ?? null;
  const report: ReplayReport = {
    runId: first.runId,
    events: upTo.length,
    toSeq: upTo.at(-1)!.seq,
    view: runView(snapshot, upTo.at(-1)!.seq, compiled.definition),
    divergence,
  };
  if (opts.candidate) {
    report.candidate = {
      workflowId: opts.candidate.id,
      version: opts.candidate.version,
      compatible: candDivergence === null,
      divergence: candDivergence,
    };
  }
  return report;
}
