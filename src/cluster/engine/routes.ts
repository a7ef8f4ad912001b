/**
 * What an engine does with a timer, an approval, a signal or a run control once parseInbound (parse.ts) has read it:
 * judge it on the run as it is now (read fresh; a person's input by reviewInput, the rule the in-process executor
 * records by too: executor/outside-inputs.ts), record it through the run host's one commit (so its effects go out as
 * any step's), and tell the sender waiting the verdict. One for a run that does not exist is dead-lettered. Inputs and
 * trigger events have their own files (inputs.ts, trigger-events.ts).
 */
import { atLeast, type Level } from '../../authority/index.js';
import type { JsMsg } from '@nats-io/jetstream';
import { instanceFields, instanceKey, instanceToken, iso } from '../../compiler/index.js';
import type { EventEnvelope, PendingEvent, RunSource } from '../../events/index.js';
import { DEFAULT_SIGNALER_LEVEL, refusedBefore, runView, type InputSender } from '../../runtime/index.js';
import {
  parseInbound,
  personInput,
  rawOf,
  type DeadLetterDetails,
  type ApprovalVerdict,
  type ControlVerdict,
  type SignalVerdict,
  type Custody,
  type Inbound,
} from '../transport/index.js';
import { evaluateLoaded, judgeInput } from '../../executor/index.js';
import { finalFailure, StalledAfterRecording, type Inbox } from './inbox.js';
import type { RunHost } from './run-host.js';
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
    this.letters = new LetterRate(NO_TASK_LETTERS_PER_MINUTE, 'decisions naming no HUMAN task', o);
  }

  /** Who sent an input, as the server let them publish, and the engine's clock (never the sender's). */
  private sender(user: string): InputSender {
    const level = this.o.levelOf?.(user);
    return {
      by: user,
      time: iso(this.o.now()),
      ...(this.o.sendersProven() ? {} : { unauthenticated: true }),
      ...(level ? { level } : {}),
    };
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
    if (wait > 0) {
      m.nak(wait);
      return;
    } // not due: come back with the remaining delay
    if (await inbox.spent(m, 'timers')) return;
    // The run's own record of the timer decides when it is due, not the message: a timer never fires early.
    const early = await host.withRun(t.runId, async () => {
      const run = await host.load(t.runId);
      if (!run) return null;
      const recorded = run.snapshot.context.timers[`${instanceKey(t)}/${t.kind}/${t.attempt}`];
      const remaining = recorded ? Date.parse(recorded.dueAt) - this.o.now() : 0;
      if (remaining > 0) return remaining;
      const fired: PendingEvent = {
        type: 'timer.fired',
        time: iso(this.o.now()),
        data: { task: t.task, timer: t.kind, attempt: t.attempt, ...instanceFields(t) },
      };
      await host.process(t.runId, [fired], { commitKey: `timer-${instanceToken(t)}-${t.kind}-${t.attempt}`, custody });
      return 0;
    });
    // A timer of a run this log does not hold would otherwise vanish without a trace.
    if (early === null)
      await inbox.deadLetter(
        'timers',
        `timer ${t.task}/${t.kind}/${t.attempt} of run ${t.runId}, which does not exist`,
        m,
        { runId: t.runId, taskId: t.task },
      );
    else if (early > 0) {
      m.nak(early);
      return;
    }
    m.ack();
  }

  /**
   * A person's input: an approval on lf.approvals.<runId>.<taskId>.<user>, a signal on lf.signals.<sender>.<runId>, a
   * pause, resume or cancel on lf.control.<sender>.<runId>, judged under the run's lock (judgeInput). What the review
   * records (the input's event, or an approval's refusal, kept once per person and task) is committed; a refusal that
   * records nothing is said only, and one naming no HUMAN task kept as a dead letter too (a few a minute per person: a
   * flood must not push out other letters). Acked either way. A failure no retry mends (finalFailure) before anything
   * was recorded is dead-lettered at once, terminated, and its code and words are the sender's verdict; one after (the
   * input stands, its run cannot go on) is told as recorded and `stalled`, and retried until it is mended.
   */
  async input(kind: 'approval' | 'signal' | 'control', m: JsMsg, custody: Custody): Promise<void> {
    const { inbox } = this.o;
    const dlq = kind === 'approval' ? 'approvals' : kind === 'signal' ? 'signals' : 'control';
    const parsed = parseInbound(kind, rawOf(m));
    if (!parsed.ok) return inbox.dropMalformed(dlq, m, parsed);
    const msg = parsed.value;
    const { runId, verdictTo } = msg;
    const { input, by: user } = personInput(msg);
    const [echo, what, details]: [
      Pick<ApprovalVerdict, 'decision'> | Pick<SignalVerdict, 'name'> | Pick<ControlVerdict, 'action'>,
      string,
      DeadLetterDetails,
    ] =
      input.kind === 'approval'
        ? [{ decision: input.decision }, `of ${input.taskId} by ${user}`, { runId, taskId: input.taskId, by: user }]
        : input.kind === 'signal'
          ? [{ name: input.name }, `signal "${input.name}" from ${user}`, { runId, by: user }]
          : [{ action: input.action }, `${input.action} from ${user}`, { runId, by: user }];
    const tell = (verdict: object) =>
      inbox.tell(verdictTo, { ...echo, ...verdict } as ApprovalVerdict | SignalVerdict | ControlVerdict);
    /** The event that recorded the input once its commit is appended, and whether the review accepted it. */
    let recorded: { seq: number; accepted: boolean } | undefined;
    /** Whether the run is being carried on past the input (recorded now, or by an earlier delivery: a redelivery's reconcile). */
    let carrying = false;
    try {
      await this.judgeAndRecord(kind, m, custody, msg, { dlq, what, details, tell }, (step) => {
        if (step === 'carrying') carrying = true;
        else recorded = step;
      });
    } catch (err) {
      // Stalled after the commit (the run host's word for it) or in a redelivery's reconcile: the same, told below.
      const final = err instanceof StalledAfterRecording ? err.failure : finalFailure(err);
      if (!final) throw err;
      if (recorded === undefined && !carrying) {
        // A failure no retry mends (a large payload the review's fold reads was changed in the store), before anything
        // was recorded: given up on at once, and the sender told why in the error's own code and words, which name the fix.
        await inbox.giveUp(dlq, m, final, details);
        this.o.log(`run ${runId}: gave up on ${what}: ${final.message}`);
        tell({ accepted: false, reason: final.message, code: final.code });
        return;
      }
      // Recorded, then the run could not go on: what follows the input reads what no retry mends by itself, but the
      // fix the error names does (the payload put back). The sender hears that it was recorded, and why the run waits;
      // the message comes back with the inbox's growing delay instead of being given up, and its first delivery after
      // the fix carries the run on (the redelivery's reconcile publishes what the run has outstanding).
      if (recorded)
        tell({
          accepted: recorded.accepted,
          seq: recorded.seq,
          reason: final.message,
          code: final.code,
          stalled: true,
        });
      this.o.log(
        `run ${runId}: ${what}${recorded ? ' recorded' : ' (recorded before)'}; the run cannot go on until this is mended: ${final.message}`,
      );
      throw err instanceof StalledAfterRecording ? err : new StalledAfterRecording(final);
    }
    m.ack();
  }

  /** The input judged under the run's lock and what the review records committed; the sender told (input()). */
  private async judgeAndRecord(
    kind: 'approval' | 'signal' | 'control',
    m: JsMsg,
    custody: Custody,
    msg: Inbound['approval'] | Inbound['signal'] | Inbound['control'],
    o: { dlq: string; what: string; details: DeadLetterDetails; tell: (verdict: object) => void },
    step: (at: { seq: number; accepted: boolean } | 'carrying') => void,
  ): Promise<void> {
    const { host, inbox, stats } = this.o;
    const { dlq, what, details, tell } = o;
    const { runId } = msg;
    const { input, by: user } = personInput(msg);
    await host.withRun(runId, async () => {
      const st = await host.load(runId, true);
      if (!st) {
        const reason = `${input.kind === 'approval' ? 'approval ' : ''}${what} for run ${runId}, which does not exist`;
        await inbox.deadLetter(dlq, reason, m, details);
        stats.refused++;
        tell({ accepted: false, reason });
        return;
      }
      const who = this.sender(user);
      // Below L1 (a users file), a WAIT without from: takes the signal from the run's starter only: who that is.
      const starter =
        input.kind === 'signal' && who.level !== undefined && !atLeast(who.level, DEFAULT_SIGNALER_LEVEL)
          ? st.source !== undefined
            ? st.source?.by
            : (await this.o.started?.(runId))?.by
          : undefined;
      // A refusal to record: one per person and task is kept (the history is read for it only then).
      // The review folds the input (a signal ending a WAIT runs on into a DECISION): a large payload that fold reads and
      // this engine has not loaded (a worker wrote it) is loaded, and the review done again, as the run host's commit does.
      const review = await evaluateLoaded(
        host.blobs,
        () =>
          judgeInput(st.compiled, st.snapshot, input, who, {
            starter,
            refusedBefore: (taskId) => this.refusedBefore(runId, taskId, user),
            blobs: host.blobs,
          }),
        `a template of run ${runId}`,
      );
      // 'approval' or 'rejection': what a reason names ("rejection of sign by bob"), not the verb the message carries.
      const said =
        input.kind === 'approval' ? `${input.decision === 'approved' ? 'approval' : 'rejection'} ${what}` : what;
      if (review.accepted) stats[kind === 'approval' ? 'approvals' : kind === 'signal' ? 'signals' : 'controls']++;
      else {
        stats.refused++;
        this.o.log(`run ${runId}: refused ${said}: ${review.reason}`);
      }
      const refusal = review.accepted
        ? {}
        : { reason: review.reason, ...(review.notApprover ? { notApprover: true as const } : {}) };
      if (!review.accepted && review.event === null) {
        if (review.noTask && !this.letters.allow(user)) stats.unletteredDecisions++;
        else if (review.noTask) await inbox.deadLetter(dlq, `${said} for run ${runId}: ${review.reason}`, m, details);
        tell({
          accepted: false,
          ...refusal,
          ...(input.kind === 'control' ? { status: runView(st.snapshot, st.seq).status } : {}),
        });
      } else {
        if (!review.accepted && input.kind === 'approval') this.remember(`${runId}\n${input.taskId}\n${user}`);
        let seq: number | undefined;
        const after = await host.process(runId, [review.event!], {
          commitKey: `${kind === 'approval' ? 'ap' : kind === 'signal' ? 'sg' : 'ct'}${m.seq}`,
          firstSeq: (s) => {
            seq = s;
            step({ seq: s, accepted: review.accepted });
          },
          custody,
        });
        const status = input.kind === 'control' && after ? { status: runView(after.snapshot, after.seq).status } : {};
        // Another engine may have settled the run between the check and the commit (an outcome it folded): then process() found the cancel stale and recorded nothing.
        if (
          input.kind === 'control' &&
          input.action === 'cancel' &&
          status.status !== undefined &&
          status.status !== 'CANCELLED'
        )
          tell({ accepted: false, reason: `the run is already ${status.status}`, ...status });
        else tell({ accepted: review.accepted, ...refusal, ...status, ...(seq !== undefined ? { seq } : {}) });
      }
      // Delivered again: the engine before may have died holding it while attempts it offered to workers ran
      // (direct-dispatch.ts), whatever became of the input: what the run has outstanding goes to the queues.
      if (m.redelivered) {
        step('carrying');
        await host.process(runId, [], { commitKey: 'rc', reconcile: true, custody });
      }
    });
  }
}
