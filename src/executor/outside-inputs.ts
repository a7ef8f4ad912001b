/**
 * Inputs from outside a run, recorded by the in-process Engine: an approval
 * or rejection, a signal, a cancellation, a pause and its end. Each is one
 * round of the executors' commit loop: load the run, let the core's rule
 * decide (reviewApproval, reviewSignal, the fold), append the one event at
 * the sequence it was decided on, and on a lost race load and decide again
 * (commitWithRetry). A driver running the run (this process's or another's)
 * follows the log and acts on it; a later resume does too.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import { judgedApprovalRefusal, PauseRefusedError, RunNotFoundError, SignalRefusedError } from '../errors/index.js';
import type { EventEnvelope, PendingEvent } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import type { Clock } from './clock.js';
import { randomHex } from './ids.js';
import { commitWithRetry } from './commit-with-retry.js';
import { appendCommit } from './run-log.js';
import { applyEvent, controlEvent, recordedState, rejectionReason, type RunSnapshot, refusedBefore, reviewApproval, reviewSignal, runView, type RunView } from '../runtime/index.js';
import type { LoadedRunLog } from './start-options.js';

export interface OutsideInputsOptions {
  store: EventStore;
  clock: Clock;
  /** The run folded from its log (the Engine's load): every round reads it afresh. */
  load(runId: string): Promise<LoadedRunLog>;
  /** Told each event appended here with the state it led to (a settle frees a concurrency slot: admissions.ts). */
  onAppended?(events: EventEnvelope[], after: RunSnapshot, def: Definition): void;
}

export class OutsideInputs {
  private readonly store: EventStore;
  private readonly clock: Clock;

  constructor(private readonly o: OutsideInputsOptions) {
    this.store = o.store;
    this.clock = o.clock;
  }

  private load(runId: string): Promise<LoadedRunLog> {
    return this.o.load(runId);
  }

  /**
   * Appends `ev`, which leads run `runId` from sequence `seq` to `after`. Not marked as built by the fold:
   * its fields come from outside (a library caller, who and why, a signal's data), so the store parses it.
   */
  private async appendOne(runId: string, seq: number, ev: PendingEvent, after: RunSnapshot, def: Definition): Promise<void> {
    const ctx = after.context;
    const env = { ...ev, runId, workflowId: ctx.workflowId, version: ctx.version, seq: seq + 1, state: recordedState(after) } as EventEnvelope;
    await appendCommit(this.store, runId, seq, randomHex(6), [env]);
    this.o.onAppended?.([env], after, def);
  }

  /**
   * Appends one outside event (approval, cancellation) if the run accepts it,
   * retrying on a concurrent append. Returns null when the run does not accept it, with the reason.
   */
  private async record(runId: string, make: (snap: RunSnapshot, compiled: CompiledWorkflow, history: readonly EventEnvelope[]) => PendingEvent | null): Promise<{ view: RunView; refused: string | null }> {
    return commitWithRetry(runId, async () => {
      const { compiled, snapshot, seq, events } = await this.load(runId);
      const ev = make(snapshot, compiled, events);
      // Refused before anything is written (make said why).
      if (ev === null) return { view: runView(snapshot, seq), refused: 'refused' };
      const r = applyEvent(compiled, snapshot, ev);
      if (!r.accepted) return { view: runView(snapshot, seq, compiled.definition), refused: rejectionReason(snapshot, ev) };
      await this.appendOne(runId, seq, ev, r.snapshot, compiled.definition);
      return { view: runView(r.snapshot, seq + 1, compiled.definition), refused: null };
    });
  }

  /**
   * Records an approval or rejection of a HUMAN task; a running engine or a
   * later resume acts on it. A decision the rule refuses (reviewApproval) is
   * recorded as `approval.refused` for the audit trail, as engines on NATS do,
   * and then thrown as an ApprovalRefusedError.
   */
  async decide(runId: string, taskId: string, decision: 'approved' | 'rejected', by: string, comment?: string, opts: { unauthenticated?: boolean } = {}): Promise<RunView> {
    const time = new Date(this.clock.now()).toISOString();
    let refused: string | null = null;
    let notApprover = false;
    let kept = true;
    const { view } = await this.record(runId, (snap, compiled, history) => {
      const review = reviewApproval(compiled, snap, { taskId, decision, by, time, ...(comment !== undefined ? { comment } : {}), ...(opts.unauthenticated ? { unauthenticated: true } : {}) },
        { refusedBefore: refusedBefore(history, taskId, by) });
      refused = review.accepted ? null : review.reason;
      notApprover = !review.accepted && review.notApprover === true;
      // A decision naming no HUMAN task of the run (a typo), one on a settled run, or a refusal this person already has
      // on this task has no place in its audit trail: refused, nothing written.
      kept = review.event !== null;
      return review.event;
    });
    if (refused !== null) {
      throw judgedApprovalRefusal({ runId, taskId, by, decision, reason: refused, kept, notApprover });
    }
    return view;
  }

  /**
   * Records a signal for the run's WAITs on `name` (reviewSignal); a running
   * engine or a later resume acts on it. A signal no WAIT would take is
   * refused with the reason (SignalRefusedError) and nothing is recorded.
   */
  async signal(runId: string, name: string, opts: { data?: unknown; by?: string; unauthenticated?: boolean } = {}): Promise<RunView> {
    const time = new Date(this.clock.now()).toISOString();
    const req = { name, time, ...(opts.data !== undefined ? { data: opts.data } : {}), ...(opts.by !== undefined ? { by: opts.by } : {}), ...(opts.unauthenticated ? { unauthenticated: true } : {}) };
    const refuse = (why: string) => new SignalRefusedError(`cannot signal "${name}" to run ${runId}: ${why}; nothing was recorded`, { runId, name });
    return commitWithRetry(runId, async () => {
      let loaded: LoadedRunLog;
      try {
        loaded = await this.load(runId);
      } catch (err) {
        if (err instanceof RunNotFoundError) throw refuse(err.message);
        throw err;
      }
      const { compiled, snapshot, seq } = loaded;
      const review = reviewSignal(compiled, snapshot, req);
      if (!review.accepted) throw refuse(review.reason);
      await this.appendOne(runId, seq, review.event, review.snapshot, compiled.definition);
      return runView(review.snapshot, seq + 1, compiled.definition);
    });
  }

  /** Cancels a run that has not settled. `changed` is false (and nothing is written) when it already had. */
  async cancel(runId: string, opts: { by?: string; reason?: string; unauthenticated?: true } = {}): Promise<{ changed: boolean; view: RunView }> {
    const time = new Date(this.clock.now()).toISOString();
    const { view, refused } = await this.record(runId, () => controlEvent({ action: 'cancel', time, ...opts }));
    return { changed: refused === null, view };
  }

  /**
   * Pauses a run (run.paused): no new attempt starts until it is resumed;
   * running ones finish and are recorded. A settled or already paused run is
   * refused with PauseRefusedError, and nothing is recorded.
   */
  async pause(runId: string, opts: { by?: string; reason?: string; unauthenticated?: true } = {}): Promise<RunView> {
    const time = new Date(this.clock.now()).toISOString();
    const { view, refused } = await this.record(runId, () => controlEvent({ action: 'pause', time, ...opts }));
    if (refused !== null) throw new PauseRefusedError(`cannot pause run ${runId}: ${refused}; nothing was recorded`, { runId, status: view.status });
    return view;
  }

  /**
   * Un-pauses a paused run (run.resumed): the next commit starts every task
   * scheduled meanwhile. `changed` is false (nothing written) when the run
   * was not paused.
   */
  async unpause(runId: string, opts: { by?: string; unauthenticated?: true } = {}): Promise<{ changed: boolean; view: RunView }> {
    const time = new Date(this.clock.now()).toISOString();
    const { view, refused } = await this.record(runId, () => controlEvent({ action: 'resume', time, ...opts }));
    return { changed: refused === null, view };
  }
}
