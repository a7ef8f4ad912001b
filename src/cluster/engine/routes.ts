/**
 * What an engine does with a timer, an approval, a signal or a run control
 * once parseInbound (parse.ts) has read it: judge it on the run as it is now
 * (read fresh; a person's input by reviewInput, the rule the in-process
 * executor records by too: executor/outside-inputs.ts), record it through the run host's one commit (so its effects
 * go out as any step's), and tell the sender waiting the verdict. One for a
 * run that does not exist is dead-lettered. Inputs and trigger events have
 * their own files (inputs.ts, trigger-events.ts).
 */
import { atLeast, type Level } from '../../authority/index.js';
import type { JsMsg } from '@nats-io/jetstream';
import { instanceFields, instanceKey, instanceToken, iso } from '../../compiler/index.js';
import type { EventEnvelope, PendingEvent, RunSource } from '../../events/index.js';
import { DEFAULT_SIGNALER_LEVEL, refusedBefore, reviewInput, runView, type InputSender, type RunInput } from '../../runtime/index.js';
import { parseInbound, rawOf, type DeadLetterDetails, type ApprovalVerdict, type ControlVerdict, type SignalVerdict, type Inbound, type Custody } from '../transport/index.js';
import { judgeInput } from '../../executor/index.js';
import type { Inbox } from './inbox.js';
import type { Loaded, RunHost } from './run-host.js';
import { LetterRate } from './letter-rate.js';
import { trimOldest } from '../../bounded.js';

export interface RoutesOptions {
  host: RunHost;
  inbox: Inbox;
  stats: { approvals: number; signals: number; controls: number; refused: number; unletteredDecisions: number };
  /** Whether the server proves who publishes (it has users): else the names recorded are marked unauthenticated. */
  sendersProven: () => boolean;
  now: () => number;
  log: (line: string) => void;
  /** A run's history as stored (read only when a refusal would be recorded, to keep one per person and task). */
  history: (runId: string) => Promise<readonly EventEnvelope[]>;
  /** A sender's level when the engine was given a users file (`engine --users`): the approval, signal and control rules judge it. */
  levelOf?: (user: string) => Level | undefined;
  /** The run's run.started source (who started it: `by`), read when a signal's sender is below L1 and the load did not read it. */
  started?: (runId: string) => Promise<RunSource | undefined>;
}

/** Refusals this engine knows a run's history keeps (run, task, person); bounded, the oldest forgotten (read again). */
const KNOWN_REFUSALS = 10_000;
/** Dead letters of decisions that name no HUMAN task, per person and minute; the rest are answered and counted only. */
const NO_TASK_LETTERS_PER_MINUTE = 10;

export class Routes {
  private readonly refused = new Set<string>();
  private readonly letters: LetterRate;

  constructor(private readonly o: RoutesOptions) {
    this.letters = new LetterRate({ perMinute: NO_TASK_LETTERS_PER_MINUTE, what: 'decisions naming no HUMAN task', now: o.now, log: o.log });
  }

  /** Who sent an input, as the server let them publish, and the engine's clock (never the sender's). */
  private sender(user: string): InputSender {
    const level = this.o.levelOf?.(user);
    return { by: user, time: iso(this.o.now()), ...(this.o.sendersProven() ? {} : { unauthenticated: true }), ...(level ? { level } : {}) };
  }

  /** Whether the run's history keeps a refusal of `user` on `taskId` already. */
  private async refusedBefore(runId: string, taskId: string, user: string): Promise<boolean> {
    const key = `${runId}\n${taskId}\n${user}`;
    if (this.refused.has(key)) return true;
    if (!refusedBefore(await this.o.history(runId), taskId, user)) return false;
    this.remember(key);
    return true;
  }

  private remember(key: string): void {
    this.refused.add(key);
    trimOldest(this.refused, KNOWN_REFUSALS);
  }

  /** A timer on lf.timers.<runId>, put back until due: then timer.fired, when the run still wants it. */
  async timer(m: JsMsg, custody: Custody): Promise<void> {
    const { host, inbox } = this.o;
    const parsed = parseInbound('timer', rawOf(m));
    if (!parsed.ok) return inbox.dropMalformed('timers', m, parsed);
    const t = parsed.value;
    const wait = Date.parse(t.dueAt) - this.o.now();
    if (wait > 0) { m.nak(wait); return; } // not due: come back with the remaining delay
    if (await inbox.spent(m, 'timers')) return;
    // The run's own record of the timer decides when it is due, not the message: a timer never fires early.
    const early = await host.withRun(t.runId, async () => {
      const run = await host.load(t.runId);
      if (!run) return null;
      const recorded = run.snapshot.context.timers[`${instanceKey(t)}/${t.kind}/${t.attempt}`];
      const remaining = recorded ? Date.parse(recorded.dueAt) - this.o.now() : 0;
      if (remaining > 0) return remaining;
      const fired: PendingEvent = { type: 'timer.fired', time: iso(this.o.now()), data: { task: t.task, timer: t.kind, attempt: t.attempt, ...instanceFields(t) } };
      await host.process(t.runId, [fired], { commitKey: `timer-${instanceToken(t)}-${t.kind}-${t.attempt}`, custody });
      return 0;
    });
    // A timer of a run this log does not hold would otherwise vanish without a trace.
    if (early === null) await inbox.deadLetter('timers', `timer ${t.task}/${t.kind}/${t.attempt} of run ${t.runId}, which does not exist`, m, { runId: t.runId, taskId: t.task });
    else if (early > 0) { m.nak(early); return; }
    m.ack();
  }

  /** An approval on lf.approvals.<runId>.<taskId>.<user>: recorded (accepted or refused, by = the user) when it names a HUMAN task of the run. */
  approval(m: JsMsg, custody: Custody): Promise<void> {
    const { host, inbox, stats } = this.o;
    return this.judge('approval', 'approvals', m, custody, ({ runId, taskId, user, decision }) => {
      const reason = `approval of ${taskId} by ${user} for run ${runId}, which does not exist`;
      return { reason, details: { runId, taskId, by: user }, verdict: { decision, accepted: false, reason } satisfies ApprovalVerdict };
    }, async ({ runId, taskId, user, decision, comment, verdictTo }, st) => {
      const input: RunInput = { kind: 'approval', taskId, decision, ...(comment !== undefined ? { comment } : {}) };
      const who = this.sender(user);
      // A refusal to record: one per person and task is kept (the history is read for it only then).
      const review = await judgeInput(st.compiled, st.snapshot, input, who, { refusedBefore: () => this.refusedBefore(runId, taskId, user) });
      if (review.accepted) stats.approvals++;
      else {
        stats.refused++;
        this.o.log(`run ${runId}: refused ${decisionNoun(decision)} of ${taskId} by ${user}: ${review.reason}`);
      }
      const notApprover = !review.accepted && review.notApprover ? { notApprover: true as const } : {};
      if (!review.accepted && review.event === null) {
        // Nothing for its history. One naming no HUMAN task of the run is kept as a dead letter with the reason (a
        // few a minute per person: a flood must not push out other letters); a repeat or a settled run's is answered only.
        if (review.noTask && !this.letters.allow(user)) stats.unletteredDecisions++;
        else if (review.noTask) await inbox.deadLetter('approvals', `${decisionNoun(decision)} of ${taskId} by ${user} for run ${runId}: ${review.reason}`, m, { runId, taskId, by: user });
        inbox.tell(verdictTo, { decision, accepted: false, reason: review.reason, ...notApprover } satisfies ApprovalVerdict);
        return;
      }
      if (!review.accepted) this.remember(`${runId}\n${taskId}\n${user}`);
      let seq: number | undefined;
      await host.process(runId, [review.event!], { commitKey: `ap${m.seq}`, firstSeq: (s) => { seq = s; }, custody });
      inbox.tell(verdictTo, { decision, accepted: review.accepted, ...(review.accepted ? {} : { reason: review.reason, ...notApprover }), ...(seq !== undefined ? { seq } : {}) } satisfies ApprovalVerdict);
    });
  }

  /**
   * A signal on lf.signals.<sender>.<runId>: recorded (by = the sender) when a
   * WAIT of the run takes it (reviewSignal), else refused with the reason and
   * not recorded.
   */
  signal(m: JsMsg, custody: Custody): Promise<void> {
    const { host, inbox, stats } = this.o;
    return this.judge('signal', 'signals', m, custody, ({ runId, sender, name }) => {
      const reason = `signal "${name}" from ${sender} for run ${runId}, which does not exist`;
      return { reason, details: { runId, by: sender }, verdict: { name, accepted: false, reason } satisfies SignalVerdict };
    }, async ({ runId, sender, name, data, verdictTo }, st) => {
      const who = this.sender(sender);
      // Below L1 (a users file), a WAIT without from: takes the signal from the run's starter only: who that is.
      const starter = who.level !== undefined && !atLeast(who.level, DEFAULT_SIGNALER_LEVEL)
        ? (st.source !== undefined ? st.source?.by : (await this.o.started?.(runId))?.by) : undefined;
      const review = reviewInput(st.compiled, st.snapshot, { kind: 'signal', name, ...(data !== undefined ? { data } : {}) }, who, starter !== undefined ? { starter } : {});
      if (!review.accepted) {
        stats.refused++;
        this.o.log(`run ${runId}: refused signal "${name}" from ${sender}: ${review.reason}`);
        inbox.tell(verdictTo, { name, accepted: false, reason: review.reason } satisfies SignalVerdict);
        return;
      }
      stats.signals++;
      let seq: number | undefined;
      await host.process(runId, [review.event], { commitKey: `sg${m.seq}`, firstSeq: (s) => { seq = s; }, custody });
      inbox.tell(verdictTo, { name, accepted: true, ...(seq !== undefined ? { seq } : {}) } satisfies SignalVerdict);
    });
  }

  /**
   * A pause, resume or cancel on lf.control.<sender>.<runId>: recorded
   * (run.paused / run.resumed / run.cancelled, by = the sender) when the run
   * takes it, so its effects go out as any step's (a cancel aborts the run's
   * attempts and cancels the child runs of its SUB_WORKFLOW and MAP-workflow
   * attempts); else refused with the reason (settled, already paused, not
   * paused) and not recorded. Either way the sender hears the verdict.
   */
  control(m: JsMsg, custody: Custody): Promise<void> {
    const { host, inbox, stats } = this.o;
    return this.judge('control', 'control', m, custody, ({ runId, sender, action }) => {
      const why = `${action} from ${sender} for run ${runId}, which does not exist`;
      return { reason: why, details: { runId, by: sender }, verdict: { action, accepted: false, reason: why } satisfies ControlVerdict };
    }, async ({ runId, sender, action, reason, verdictTo }, st) => {
      // Judged on the run as it is now (read fresh above), by the rule every path uses; a refusal records nothing.
      const review = reviewInput(st.compiled, st.snapshot, { kind: 'control', action, ...(reason !== undefined ? { reason } : {}) }, this.sender(sender));
      if (!review.accepted) {
        const why = review.reason;
        stats.refused++;
        this.o.log(`run ${runId}: refused ${action} from ${sender}: ${why}`);
        inbox.tell(verdictTo, { action, accepted: false, reason: why, status: runView(st.snapshot, st.seq).status } satisfies ControlVerdict);
        return;
      }
      stats.controls++;
      let seq: number | undefined;
      const after = await host.process(runId, [review.event], { commitKey: `ct${m.seq}`, firstSeq: (s) => { seq = s; }, custody });
      const status = after ? runView(after.snapshot, after.seq).status : undefined;
      // Another engine may have settled the run between the check and the commit (an outcome it folded): then process() found the cancel stale and recorded nothing.
      if (action === 'cancel' && status !== undefined && status !== 'CANCELLED') {
        inbox.tell(verdictTo, { action, accepted: false, reason: `the run is already ${status}`, status } satisfies ControlVerdict);
        return;
      }
      inbox.tell(verdictTo, { action, accepted: true, ...(after ? { status: status! } : {}), ...(seq !== undefined ? { seq } : {}) } satisfies ControlVerdict);
    });
  }

  /**
   * A person's input, read (a malformed one is dead-lettered), then judged
   * under the run's lock on the run as it is now (read fresh). One for a run
   * that does not exist is dead-lettered with the reason (`missing`), counted
   * as refused, and its sender told. Acked either way.
   */
  private async judge<K extends 'approval' | 'signal' | 'control'>(
    kind: K, dlqKind: string, m: JsMsg, custody: Custody,
    missing: (input: Inbound[K]) => { reason: string; details: DeadLetterDetails; verdict: ApprovalVerdict | SignalVerdict | ControlVerdict },
    judge: (input: Inbound[K], run: Loaded) => Promise<void>,
  ): Promise<void> {
    const { host, inbox } = this.o;
    const parsed = parseInbound(kind, rawOf(m));
    if (!parsed.ok) return inbox.dropMalformed(dlqKind, m, parsed);
    const input = parsed.value;
    await host.withRun(input.runId, async () => {
      const st = await host.load(input.runId, true);
      if (st) {
        await judge(input, st);
        // Delivered again: the engine before may have died holding it while attempts it offered to workers ran
        // (direct-dispatch.ts), whatever became of the input: what the run has outstanding goes to the queues.
        if (m.redelivered) await host.process(input.runId, [], { commitKey: 'rc', reconcile: true, custody });
        return;
      }
      const { reason, details, verdict } = missing(input);
      await inbox.deadLetter(dlqKind, reason, m, details);
      this.o.stats.refused++;
      inbox.tell(input.verdictTo, verdict);
    });
    m.ack();
  }
}

/** 'approval' or 'rejection': what a reason names ("rejection of sign by bob"), not the verb the message carries. */
function decisionNoun(decision: 'approved' | 'rejected'): string {
  return decision === 'approved' ? 'approval' : 'rejection';
}
