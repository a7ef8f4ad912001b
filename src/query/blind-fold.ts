/**
 * A run folded by a reader without the data key (docs/security.md#the-run-index): the values are sealed, so a DECISION
 * on one would take another case than the run took, and the record's tasks and counts would be wrong. The log records
 * the state hash after each event, which holds each task's status, attempts and case but no value: when the fold's
 * hash is not the recorded one, each DECISION not yet told is told each of its cases in turn (RunContext.decided)
 * until the fold gives the recorded hash. A run whose fold matches from the start (a clear run, or one whose course no
 * value decides) costs a hash per event and nothing more. Pure.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';
import { applyEvent, foldStartOf, recordedState, startFold, type RunSnapshot } from '../runtime/index.js';

type Decided = Record<string, string | null>;

/** The fold run.started leads to, its DECISIONs' cases found by the recorded hash. */
export function blindStart(compiled: CompiledWorkflow, first: EventEnvelope & { type: 'run.started' }): RunSnapshot {
  const start = foldStartOf(first);
  const folded = startFold(compiled, start);
  if (recordedState(folded).hash === first.state.hash) return folded;
  return told(compiled, {}, (decided) => startFold(compiled, { ...start, decided }), first.state.hash) ?? folded;
}

/** The fold after event `e`, its DECISIONs' cases found by the hash `e` records. */
export function blindApply(compiled: CompiledWorkflow, before: RunSnapshot, e: EventEnvelope): RunSnapshot {
  const folded = applyEvent(compiled, before, e).snapshot;
  if (recordedState(folded).hash === e.state.hash) return folded;
  const fold = (decided: Decided) =>
    applyEvent(compiled, { ...before, context: { ...before.context, decided } }, e).snapshot;
  return told(compiled, before.context.decided ?? {}, fold, e.state.hash) ?? folded;
}

/** The first fold that gives hash `want` with one more DECISION told a case; null when none does (kept as folded). */
function told(
  compiled: CompiledWorkflow,
  decided: Decided,
  fold: (decided: Decided) => RunSnapshot,
  want: string,
): RunSnapshot | null {
  for (const t of compiled.definition.tasks) {
    if (t.type !== 'DECISION' || Object.hasOwn(decided, t.id)) continue;
    for (const c of [...t.cases.map((x) => x.name), 'default', null]) {
      const s = fold({ ...decided, [t.id]: c });
      if (recordedState(s).hash === want) return s;
    }
  }
  return null;
}
