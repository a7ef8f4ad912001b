/**
 * Replay: rebuild a run's state from its events and check it against the
 * state each event recorded. With another definition, tell whether that
 * version could take over the run: every recorded event must still be
 * accepted, and every task both versions share must reach the same status.
 */
import { compile, workflowOf, type CompiledWorkflow } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import { recordedDefinitionOf, type EventEnvelope, type RecordedState, type TornTail } from '../events/index.js';
import { applyEvent, foldStartOf, recordedState, rejectionReason, startFold, type RunSnapshot } from './fold.js';
import { runView, type RunView } from './view.js';

export interface Divergence {
  seq: number;
  type: string;
  reason: string;
  recorded?: RecordedState;
  computed?: RecordedState;
}

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
  /** Only with a candidate definition: whether it could take over this run, and if not, where it breaks. */
  candidate?: { workflowId: string; version: number; compatible: boolean; divergence: Divergence | null };
}

/** The workflow value of the definition recorded in run.started (shared by every run of that definition: compiler/workflow.ts). */
export function compiledForRun(started: EventEnvelope): CompiledWorkflow {
  if (started.type !== 'run.started') throw new Error(`a run's first event must be run.started, got ${started.type}`);
  return workflowOf(recordedDefinitionOf(started.data), started.data.definitionHash);
}

/** Folds events without checks: the fast path used to load a run. */
export function foldEvents(events: EventEnvelope[]): { compiled: CompiledWorkflow; snapshot: RunSnapshot; seq: number } {
  const [first, ...rest] = events;
  if (!first) throw new Error('cannot fold a run with no events');
  const compiled = compiledForRun(first);
  if (first.type !== 'run.started') throw new Error('unreachable');
  let snapshot = startFold(compiled, foldStartOf(first));
  for (const ev of rest) snapshot = applyEvent(compiled, snapshot, ev).snapshot;
  return { compiled, snapshot, seq: events.at(-1)!.seq };
}

export function replayRun(events: EventEnvelope[], opts: { to?: number; candidate?: Definition } = {}): ReplayReport {
  const upTo = events.filter((e) => opts.to === undefined || e.seq <= opts.to);
  const [first] = upTo;
  if (!first || first.type !== 'run.started') throw new Error('a run starts with run.started');
  const compiled = compiledForRun(first);
  const cand = opts.candidate ? compile(opts.candidate) : null;
  const start = foldStartOf(first);

  let snapshot = startFold(compiled, start);
  let candSnap = cand ? startFold(cand, start) : null;
  let divergence: Divergence | null = null;
  let candDivergence: Divergence | null = null;

  const check = (ev: EventEnvelope) => {
    const computed = recordedState(snapshot);
    if (!divergence && (computed.hash !== ev.state.hash || computed.status !== ev.state.status)) {
      divergence = { seq: ev.seq, type: ev.type, reason: 'the recomputed state differs from the recorded one', recorded: ev.state, computed };
    }
  };
  const compareCandidate = (ev: EventEnvelope) => {
    if (!cand || !candSnap || candDivergence) return;
    for (const [id, t] of Object.entries(snapshot.context.tasks)) {
      const other = candSnap.context.tasks[id];
      if (other && other.status !== t.status) {
        candDivergence = { seq: ev.seq, type: ev.type, reason: `task ${id} would be ${other.status} under the candidate definition but is ${t.status} in this run` };
        return;
      }
    }
  };

  check(first);
  compareCandidate(first);
  for (const ev of upTo.slice(1)) {
    const before = snapshot;
    const r = applyEvent(compiled, snapshot, ev);
    snapshot = r.snapshot;
    if (!r.accepted && !divergence) divergence = { seq: ev.seq, type: ev.type, reason: `event not accepted: ${rejectionReason(before, ev)}` };
    check(ev);
    if (cand && candSnap && !candDivergence) {
      const cr = applyEvent(cand, candSnap, ev);
      if (!cr.accepted) candDivergence = { seq: ev.seq, type: ev.type, reason: `the candidate definition cannot accept this event: ${rejectionReason(candSnap, ev)}` };
      candSnap = cr.snapshot;
      compareCandidate(ev);
    }
  }
  const report: ReplayReport = {
    runId: first.runId, events: upTo.length, toSeq: upTo.at(-1)!.seq,
    view: runView(snapshot, upTo.at(-1)!.seq, compiled.definition), divergence,
  };
  if (opts.candidate) {
    report.candidate = { workflowId: opts.candidate.id, version: opts.candidate.version, compatible: candDivergence === null, divergence: candDivergence };
  }
  return report;
}
