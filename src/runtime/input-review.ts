/**
 * A person's input to a run — an approval, a signal, a pause, resume or cancel — as one value, judged by one rule on
 * every path that records one: the library and CLI on any store (executor/outside-inputs.ts) and a NATS engine taking
 * one off its subjects (cluster/engine/routes.ts). Each kind keeps its own rule (reviewApproval, reviewSignal,
 * reviewControl); this picks it and fills in who and when the same way everywhere, so an input cannot be recorded in
 * one shape on one store and another shape on the other.
 */
import { judge } from '../authority/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import type { PendingEvent } from '../events/index.js';
import { reviewApproval } from './approvals.js';
import type { RunSnapshot } from './fold.js';
import { reviewControl } from './run-control.js';
import { reviewSignal, type SignalRequest } from './signals.js';

export type RunInput =
  | { kind: 'approval'; taskId: string; decision: 'approved' | 'rejected'; comment?: string }
  | { kind: 'signal'; name: string; data?: unknown }
  | { kind: 'control'; action: 'pause' | 'resume' | 'cancel'; reason?: string };

/** Who sends it (an approval without `by` is refused; one asks for the task's level: approvals.ts) and when it is recorded (the recorder's clock, never the sender's). */
export type InputSender = Pick<SignalRequest, 'by' | 'unauthenticated' | 'level' | 'time'>;

/**
 * `accepted`: the event to record. Refused: the reason, and the event the run's history keeps of the refusal (an
 * approval.refused: who tried what) or null when nothing is recorded (a signal no WAIT takes, a control the run's state
 * refuses, a decision naming no HUMAN task (`noTask`), on a settled run, or refused before).
 */
export type InputReview =
  | { accepted: true; event: PendingEvent }
  | { accepted: false; event: PendingEvent | null; reason: string; notApprover?: true; noTask?: true };

/**
 * Judges `input` against the run's recorded definition and its state now. `refusedBefore`: the history already keeps
 * this person's refusal of this task (refusedBefore() in approvals.ts); a caller that has not read the history asks
 * again with it only when the first answer would record a refusal (inputWouldRecordRefusal). `starter`: who started the
 * run (its run.started's `source.by`), for a signal judged with the sender's level.
 */
export function reviewInput(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  input: RunInput,
  who: InputSender,
  opts: { refusedBefore?: boolean; starter?: string } = {},
): InputReview {
  const by = who.by !== undefined ? { by: who.by } : {};
  const flag = who.unauthenticated ? { unauthenticated: true } : {};
  if (input.kind === 'approval') {
    if (who.by === undefined) return { accepted: false, event: null, reason: 'a decision must say who takes it' };
    const comment = input.comment !== undefined ? { comment: input.comment } : {};
    const r = reviewApproval(
      compiled,
      snapshot,
      {
        taskId: input.taskId,
        decision: input.decision,
        by: who.by,
        time: who.time,
        ...comment,
        ...flag,
        ...(who.level ? { level: who.level } : {}),
      },
      opts,
    );
    return r.accepted ? { accepted: true, event: r.event } : r;
  }
  if (input.kind === 'signal') {
    // With a level (a users file), a WAIT without from: takes its signal from the run's starter and L1 or higher only (signals.ts).
    const level =
      who.level !== undefined
        ? { level: who.level, ...(opts.starter !== undefined ? { starter: opts.starter } : {}) }
        : {};
    const r = reviewSignal(compiled, snapshot, {
      name: input.name,
      time: who.time,
      ...(input.data !== undefined ? { data: input.data } : {}),
      ...by,
      ...flag,
      ...level,
    });
    return r.accepted ? { accepted: true, event: r.event } : { accepted: false, event: null, reason: r.reason };
  }
  // Pausing, resuming and cancelling are the bridge's (L1) where a level is known (a users file); a refusal records nothing.
  if (who.level !== undefined) {
    const verdict = judge({ name: who.by ?? 'someone', level: who.level }, 'control');
    if (!verdict.allowed) return { accepted: false, event: null, reason: verdict.reason };
  }
  const r = reviewControl(compiled, snapshot, {
    action: input.action,
    time: who.time,
    ...by,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...flag,
  });
  return r.accepted ? { accepted: true, event: r.event } : { accepted: false, event: null, reason: r.reason };
}

/** Whether the review records a refusal in the run's history: then it is asked again knowing whether one is kept already. */
export function inputWouldRecordRefusal(review: InputReview): boolean {
  return !review.accepted && review.event !== null;
}
