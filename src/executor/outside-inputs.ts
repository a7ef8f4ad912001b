/**
 * Inputs from outside a run, recorded by the in-process Engine: an approval or rejection, a signal, a cancellation, a
 * pause and its end. Each is one round of the executors' commit loop: load the run, let the core's rule decide
 * (reviewInput, the one a NATS engine judges by), append the one event at the sequence it was decided on, and on a lost
 * race load and decide again (commitWithRetry). A driver running the run (this process's or another's) follows the log
 * and acts on it; a later resume does too. What became of a person's input is one shape on every store and path
 * (InputOutcome, the CLI's `--json`), over NATS too when no engine listens (cluster/client/run-inputs.ts).
 */
import type { Level } from '../authority/index.js';
import type { Definition } from '../definition/index.js';
import { judgedApprovalRefusal, PauseRefusedError, RunNotFoundError, SignalRefusedError } from '../errors/index.js';
import {
  nestsDeeperThan,
  tooDeepText,
  type EventEnvelope,
  type PendingEvent,
  type WorkflowStatus,
} from '../events/index.js';
import type { BlobStore, EventStore } from '../store/index.js';
import { evaluateLoaded, externalize } from './payloads.js';
import type { Clock } from './clock.js';
import { randomHex } from './ids.js';
import { commitWithRetry } from './commit-with-retry.js';
import { appendCommit } from './run-log.js';
import {
  slotsFreed,
  applyEvent,
  inputWouldRecordRefusal,
  envelopeOf,
  reviewInput,
  rejectionReason,
  refusedBefore,
  runView,
  type InputReview,
  type InputSender,
  type RunInput,
  type RunSnapshot,
  type RunView,
} from '../runtime/index.js';
import type { LoadedRunLog } from './start-options.js';
import { instanceFields, instanceKey, type CompiledWorkflow, type InstanceRef } from '../compiler/index.js';
import type { TaskError } from '../events/index.js';
import { attemptStartSeq, attemptToken } from './attempt-token.js';
import { readLimits, releaseSlots } from '../limits/index.js';

export type { RunInput };

/** What became of an input: one shape on every store and path. */
export interface InputOutcome {
  /** Who it is recorded as. */
  by: string;
  /** A name given, not proven by a server (recorded so). */
  unauthenticated: boolean;
  /** In the run's log now (recorded here, or by an engine whose verdict came in time). */
  recorded: boolean;
  /** Published and not taken yet: the next engine, or the next `resume` of the run, takes it. */
  queued: boolean;
  /** False when the run did not take it and nothing was recorded (resume of a run not paused, cancel of a settled one). */
  changed: boolean;
  /** The event that recorded it. */
  seq: number | null;
  /** The run's status after it, when known. */
  status: WorkflowStatus | null;
}

/**
 * Judged and recorded now, as `by` (marked `unauthenticated` when the name is given, not proven: over NATS without a
 * user). Refusals throw (an approval not allowed, a pause of a settled run); a resume of a run not paused and a cancel
 * of a settled one record nothing and say so (`changed: false`).
 */
export async function recordInput(
  engine: Pick<OutsideInputs, 'input'>,
  runId: string,
  input: RunInput,
  opts: { by: string; unauthenticated?: boolean; level?: Level },
): Promise<InputOutcome> {
  const { by, unauthenticated = false, level } = opts;
  const r = await engine.input(runId, input, {
    by,
    ...(unauthenticated ? { unauthenticated } : {}),
    ...(level && input.kind !== 'control' ? { level } : {}),
  });
  return {
    by,
    unauthenticated,
    recorded: r.changed,
    queued: false,
    changed: r.changed,
    seq: r.changed ? r.view.seq : null,
    status: r.view.status,
  };
}

/** What became of an outcome an agent outside the engine's process reported (recordOutcome). */
export type AgentOutcomeVerdict =
  | { kind: 'recorded'; seq: number }
  /** This very outcome (same token, same result) is in the log already: a report repeated after a crash. */
  | { kind: 'already'; seq: number }
  | { kind: 'refused'; reason: string };

interface OutsideInputsOptions {
  store: EventStore;
  clock: Clock;
  /** The run folded from its log (the Engine's load): every round reads it afresh. */
  load(runId: string): Promise<LoadedRunLog>;
  /** Told each event appended here with the state it led to (a settle frees a concurrency slot: admissions.ts). */
  onAppended?(events: EventEnvelope[], after: RunSnapshot, def: Definition): void;
}

/**
 * A person's input judged on the run as it is (reviewInput), by both executors: an approval's refusal to record is
 * judged again when `refusedBefore` (asked only then) says the history keeps this person's refusal of the task already.
 */
export async function judgeInput(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  given: RunInput,
  who: InputSender,
  o: {
    starter?: string | undefined;
    refusedBefore(taskId: string): boolean | Promise<boolean>;
    /** Where a signal's data over the workflow's inline limit is kept (the event records its reference). */
    blobs?: BlobStore | undefined;
  },
): Promise<InputReview> {
  const starter = o.starter !== undefined ? { starter: o.starter } : {};
  const input =
    given.kind === 'signal' && given.data !== undefined && o.blobs
      ? {
          ...given,
          data: await externalize(
            given.data,
            JSON.stringify(given.data) ?? 'null',
            o.blobs,
            compiled.definition.inlineLimit,
          ),
        }
      : given;
  const review = reviewInput(compiled, snapshot, input, who, starter);
  if (input.kind !== 'approval' || !inputWouldRecordRefusal(review) || !(await o.refusedBefore(input.taskId)))
    return review;
  return reviewInput(compiled, snapshot, input, who, { ...starter, refusedBefore: true });
}

export class OutsideInputs {
  constructor(private readonly o: OutsideInputsOptions) {}

  /**
   * Appends `ev`, which leads run `runId` from sequence `seq` to `after`. Not marked as built by the fold:
   * its fields come from outside (a library caller, who and why, a signal's data), so the store parses it.
   */
  private async appendOne(
    runId: string,
    seq: number,
    ev: PendingEvent,
    after: RunSnapshot,
    def: Definition,
  ): Promise<EventEnvelope> {
    const env = envelopeOf(runId, seq + 1, ev, after);
    await appendCommit(this.o.store, runId, seq, randomHex(6), [env]);
    this.o.onAppended?.([env], after, def);
    return env;
  }

  /**
   * Judges `input` on the run as its log has it now (reviewInput, the rule a NATS engine uses too) and
   * appends what the review records: the input's event, or an approval's refusal for the audit trail.
   * On a concurrent append it loads and judges again (commitWithRetry). `recorded`: whether anything was appended.
   */
  private record(
    runId: string,
    input: RunInput,
    who: Omit<InputSender, 'time'>,
  ): Promise<{ view: RunView; review: InputReview; recorded: boolean }> {
    const sender = { ...who, time: new Date(this.o.clock.now()).toISOString() };
    const blobs = this.o.store.blobs?.();
    return commitWithRetry(runId, async () => {
      // Judged and folded before anything is written: a large payload the fold reads is loaded, and all of it done again.
      type Recorded = { view: RunView; review: InputReview; recorded: boolean };
      type Judged =
        | { done: Recorded }
        | { compiled: CompiledWorkflow; seq: number; review: InputReview; event: PendingEvent; after: RunSnapshot };
      const judged = await evaluateLoaded(
        blobs,
        async (): Promise<Judged> => {
          const { compiled, snapshot, seq, events } = await this.o.load(runId);
          const first = events[0];
          const starter = first?.type === 'run.started' ? first.data.source?.by : undefined;
          // The history is at hand: whether it keeps this person's refusal of this task already (then none is added).
          const review = await judgeInput(compiled, snapshot, input, sender, {
            starter,
            refusedBefore: (taskId) => refusedBefore(events, taskId, who.by ?? ''),
            blobs,
          });
          if (review.event === null)
            return { done: { view: runView(snapshot, seq, compiled.definition), review, recorded: false } };
          const r = applyEvent(compiled, snapshot, review.event);
          // The review judged this very state, so the fold takes what it decided; should they ever disagree, the fold's no is kept: nothing is written.
          if (!r.accepted)
            return {
              done: {
                view: runView(snapshot, seq, compiled.definition),
                review: { accepted: false, event: null, reason: rejectionReason(snapshot, review.event) },
                recorded: false,
              },
            };
          return { compiled, seq, review, event: review.event, after: r.snapshot };
        },
        `a template of run ${runId}`,
      );
      if ('done' in judged) return judged.done;
      const { compiled, seq, review, event, after } = judged;
      await this.appendOne(runId, seq, event, after, compiled.definition);
      return { view: runView(after, seq + 1, compiled.definition), review, recorded: true };
    });
  }

  /**
   * Records a person's input (an approval or rejection of a HUMAN task, a signal for the run's WAITs, a pause, resume
   * or cancel) as the rule judges it; a running engine or a later resume acts on it. Refusals throw: an approval's
   * (ApprovalRefusedError; one the rule keeps is recorded as `approval.refused` for the audit trail, as engines on
   * NATS do), a signal's (SignalRefusedError, a run that does not exist too), a pause's (PauseRefusedError); a resume
   * of a run not paused and a cancel of a settled one record nothing and say so (`changed: false`).
   */
  async input(
    runId: string,
    input: RunInput,
    who: Omit<InputSender, 'time'>,
  ): Promise<{ changed: boolean; view: RunView }> {
    const refuseSignal = (name: string, why: string) =>
      new SignalRefusedError(`cannot signal "${name}" to run ${runId}: ${why}; nothing was recorded`, { runId, name });
    let r: Awaited<ReturnType<OutsideInputs['record']>>;
    try {
      r = await this.record(runId, input, who);
    } catch (err) {
      if (input.kind === 'signal' && err instanceof RunNotFoundError) throw refuseSignal(input.name, err.message);
      throw err;
    }
    const { view, review, recorded } = r;
    if (review.accepted) return { changed: true, view };
    // A decision naming no HUMAN task of the run (a typo), one on a settled run, or a refusal this person already has
    // on this task has no place in its audit trail: refused, nothing written.
    if (input.kind === 'approval')
      throw judgedApprovalRefusal({
        runId,
        taskId: input.taskId,
        by: who.by ?? '',
        decision: input.decision,
        reason: review.reason,
        kept: recorded,
        notApprover: review.notApprover === true,
      });
    if (input.kind === 'signal') throw refuseSignal(input.name, review.reason);
    if (input.action === 'pause')
      throw new PauseRefusedError(`cannot pause run ${runId}: ${review.reason}; nothing was recorded`, {
        runId,
        status: view.status,
      });
    return { changed: recorded, view };
  }

  /**
   * Records the outcome of an attempt run outside any engine's process (a file agent: src/agent/), fenced by
   * its token (attempt-token.ts): recorded only while that very attempt is the one in flight, as the core's
   * fold judges it (a timed-out, cancelled or superseded attempt is refused, with the reason). An outcome
   * the log already holds for the token is `already`, never written twice.
   */
  async recordOutcome(
    runId: string,
    ref: InstanceRef,
    attempt: number,
    token: string,
    reported: { output: unknown } | { error: TaskError },
    by: string,
    proven = false,
  ): Promise<AgentOutcomeVerdict> {
    const key = instanceKey(ref);
    // An output nested past what a payload may (events/json-depth.ts) fails the attempt, as a handler's does.
    const outcome: typeof reported =
      'output' in reported && nestsDeeperThan(reported.output)
        ? {
            error: { message: tooDeepText(`the output of task ${key}`), code: 'LF_OUTPUT_TOO_LARGE', retryable: false },
          }
        : reported;
    let written: { compiled: CompiledWorkflow; before: RunSnapshot; after: RunSnapshot; env: EventEnvelope } | null =
      null;
    const verdict = await commitWithRetry(runId, async (): Promise<AgentOutcomeVerdict> => {
      const { compiled, snapshot, seq, events } = await this.o.load(runId);
      const startSeq = attemptStartSeq(events, key, attempt);
      if (startSeq === undefined || attemptToken(runId, key, attempt, startSeq) !== token) {
        return {
          kind: 'refused',
          reason: `token ${token} is not the token of attempt ${attempt} of task ${key} in run ${runId} (a result for another attempt, or a task file from another store)`,
        };
      }
      const recorded = events.find(
        (e) =>
          e.seq > startSeq &&
          (e.type === 'task.completed' || e.type === 'task.failed') &&
          e.data.attempt === attempt &&
          instanceKey(e.data) === key,
      );
      if (recorded) {
        const same =
          'error' in outcome
            ? recorded.type === 'task.failed' && recorded.data.error.message === outcome.error.message
            : recorded.type === 'task.completed' &&
              JSON.stringify(recorded.data.output) === JSON.stringify(outcome.output);
        return same
          ? { kind: 'already', seq: recorded.seq }
          : {
              kind: 'refused',
              reason: `attempt ${attempt} of task ${key} already has another outcome (${recorded.type}, event ${recorded.seq})`,
            };
      }
      const time = new Date(this.o.clock.now()).toISOString();
      // `by` is the agent's own claim unless a users file proved who runs it (cli/flags/acting.ts).
      const data = {
        task: ref.task,
        attempt,
        ...instanceFields(ref),
        by,
        ...(proven ? {} : { unauthenticated: true as const }),
      };
      const ev: PendingEvent =
        'error' in outcome
          ? { type: 'task.failed', time, data: { ...data, error: outcome.error } }
          : { type: 'task.completed', time, data: { ...data, output: outcome.output } };
      const r = applyEvent(compiled, snapshot, ev);
      if (!r.accepted) return { kind: 'refused', reason: rejectionReason(snapshot, ev) };
      const env = await this.appendOne(runId, seq, ev, r.snapshot, compiled.definition);
      written = { compiled, before: snapshot, after: r.snapshot, env };
      return { kind: 'recorded', seq: seq + 1 };
    });
    if (written) await this.afterOutcome(written);
    return verdict;
  }

  /**
   * The task gate slot the attempt held is freed now (with the stored limits', as the driver's compiled workflow has
   * them), not only when a driver following the run sees the outcome: none may be (a run left to a serve that stopped).
   * Freeing a slot twice is harmless. Its breakers are not counted here: the driver that holds the attempt counts every
   * outcome it follows (local/driver.ts), and a count is not idempotent.
   */
  private async afterOutcome(w: {
    compiled: CompiledWorkflow;
    before: RunSnapshot;
    after: RunSnapshot;
    env: EventEnvelope;
  }): Promise<void> {
    const freed = slotsFreed(w.compiled.bound(await readLimits(this.o.store)), w.before, w.after, [w.env]);
    if (freed.length > 0) await releaseSlots(this.o.store, freed);
  }
}
