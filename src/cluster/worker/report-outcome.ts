/**
 * Reporting an attempt's outcome (or its loss). An outcome is first handed straight to an engine (a request on
 * lf.reports.<sender>.<queue>.<runId>, direct-reports.ts), which answers once it is in the run's log; failing that (no
 * engine answers in time, or it answers not recorded), and for a loss, it is published to
 * lf.inputs.<sender>.<queue>.<runId> (LF_INPUTS, where an engine folds it), retried while the failure is transient.
 * Every delivery of the attempt is acked once the outcome is recorded or published. The outcomes reported lately are
 * remembered, so that a redelivery of a finished attempt is answered with the same outcome rather than run again.
 */
import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { domainOf, headers, isNoResponders, isTransient, JetStreamApiError, SharedReplies } from '../../store/index.js';
import { instanceFields, instanceKey } from '../../compiler/index.js';
import {
  decodeOrUndefined,
  encode,
  REPORT_RECORDED_HEADER,
  ReportAnswer,
  subjects,
  reportDigest,
  SESSION_HEADER,
  TAKES_NEXT_HEADER,
  type InputMessage,
  type TaskMessage,
} from '../transport/index.js';
import { errorMessage, permissionDenied } from '../../errors/index.js';
import { trimOldest } from '../../bounded.js';

/** How many reported outcomes a worker keeps, to answer a redelivery of an attempt it finished. */
const REMEMBERED_OUTCOMES = 10_000;

/** How long a report the hub does not take is retried before it is given up; a station's worker waiting for its link says so this often (WorkerOptions.reportPatienceMs). */
const REPORT_PATIENCE_MS = 60_000;

/** How long a worker waits for an engine's answer to an outcome handed to it before publishing it on LF_INPUTS instead. */
export const DIRECT_REPORT_TIMEOUT_MS = 5_000;

/** After no engine answered (none of this version runs, say), outcomes go to LF_INPUTS for this long before handing one over is tried again. */
const DIRECT_BACKOFF_MS = 10_000;

export class OutcomeReporter {
  /** The latest outcomes this worker reported, oldest first (a redelivery far later is a new worker's business). */
  private readonly reported = new Map<string, InputMessage>();

  /** Until when outcomes skip the direct hand-over (0: try it); never again once the server refused it (permissions). */
  private directAfter = 0;
  /** Outcomes handed to engines wait for their answers on one subscription (replies.ts), made on first use. */
  private replies: SharedReplies | undefined;

  /**
   * `sender`: the NATS user this worker publishes as (nats.conf lets it publish under its own name only); `queue`: the
   * queue its attempts come from (nats.conf lets it report only on the queues it is given). `nc`: the connection to
   * hand outcomes over on (null: always LF_INPUTS). `session`: the worker's session key (SESSION_HEADER,
   * attempt-sessions.ts), sent with a report that takes a next attempt, once known.
   */
  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: {
      sender: string;
      queue: string;
      log: (line: string) => void;
      stopped: () => boolean;
      nc?: NatsConnection | null;
      patienceMs?: number;
      session?: () => string | undefined;
    },
  ) {}

  /** The outcome remembered for an attempt (`runId/taskId/attempt`), if this worker reported one lately. */
  remembered(key: string): InputMessage | undefined {
    return this.reported.get(key);
  }

  remember(key: string, outcome: InputMessage): void {
    this.reported.set(key, outcome);
    trimOldest(this.reported, REMEMBERED_OUTCOMES);
  }

  /**
   * The outcome must outlive a server restart or a dropped connection: a publish left unanswered
   * is sent again (same message id, so it is written once) while the heartbeat keeps the attempt
   * ours, rather than nak'ed into a redelivery that would count a finished attempt as lost.
   */
  async report(
    msgs: readonly JsMsg[],
    task: TaskMessage,
    outcome: InputMessage,
    takes?: readonly string[],
  ): Promise<{ how: 'recorded' | 'published'; next?: Msg }> {
    const handed =
      outcome.type === 'task.completed' || outcome.type === 'task.failed'
        ? await this.handOver(outcome, task.reportTo, takes)
        : null;
    if (handed) {
      for (const m of msgs) m.ack();
      return { how: 'recorded', ...handed };
    }
    await this.publish(msgs, task, outcome);
    return { how: 'published' };
  }

  /**
   * Hands the outcome straight to an engine: null unless one answers that it is in the run's log, with
   * `next`, that answer itself, when it carries the run's next attempt for this worker (asked for with
   * `takes`, the handlers whose attempt it runs in the slot this one frees: TAKES_NEXT_HEADER).
   */
  private async handOver(
    outcome: InputMessage,
    engine: string | undefined,
    takes?: readonly string[],
  ): Promise<{ next?: Msg } | null> {
    const nc = this.opts.nc;
    // An offered attempt goes back to the engine that offered it (it holds it); a queued one to any engine.
    if (!nc || (Date.now() < this.directAfter && !engine)) return null;
    try {
      this.replies ??= new SharedReplies(nc);
      let h: MsgHdrs | undefined;
      if (takes && takes.length > 0) {
        h = headers();
        h.set(TAKES_NEXT_HEADER, takes.join(','));
        const session = this.opts.session?.();
        if (session) h.set(SESSION_HEADER, session);
      }
      const reply = await this.replies.request(
        subjects.directReport(this.opts.sender, this.opts.queue, outcome.runId, engine),
        encode(outcome),
        { timeoutMs: DIRECT_REPORT_TIMEOUT_MS, ...(h ? { headers: h } : {}) },
      );
      if (reply.headers?.get(REPORT_RECORDED_HEADER) === '1') return { next: reply };
      const answer = ReportAnswer.safeParse(decodeOrUndefined(reply.data));
      if (answer.success && answer.data.recorded) return {};
      this.opts.log(
        `${outcome.runId}: the engine did not record the outcome handed to it (${answer.success ? (answer.data.reason ?? 'no reason given') : 'an answer that does not parse'}); publishing it on LF_INPUTS`,
      );
    } catch (err) {
      if (permissionDenied(err) !== null) {
        this.directAfter = Number.POSITIVE_INFINITY;
        this.opts.log(
          `NATS user ${this.opts.sender} may not hand outcomes to the engines (${errorMessage(err)}): reporting on LF_INPUTS only; give it "lf.reports.${this.opts.sender}.${this.opts.queue}.*" in nats.conf to spare that stream`,
        );
      } else if (!engine) {
        // No engine of this version listening, or none answering in time: LF_INPUTS, and leave the engines alone a while.
        this.directAfter = Date.now() + DIRECT_BACKOFF_MS;
        if (!isNoResponders(err))
          this.opts.log(
            `${outcome.runId}: handing the outcome to an engine failed (${errorMessage(err)}); publishing it on LF_INPUTS`,
          );
      }
    }
    return null;
  }

  /**
   * Gives back a run of an attempt as this worker stops (give-back.ts): published once on LF_INPUTS, within `timeoutMs`
   * (the stop waits for it), then its deliveries are acked; a failure throws, and the stop hands them back instead.
   */
  async release(msgs: readonly JsMsg[], task: TaskMessage, release: InputMessage, timeoutMs: number): Promise<void> {
    const subject = subjects.report(this.opts.sender, this.opts.queue, task.runId);
    await this.js.publish(subject, encode(release), { msgID: reportMessageId(task, release.type), timeout: timeoutMs });
    for (const m of msgs) m.ack();
  }

  /** Publishes the outcome or loss on LF_INPUTS (its message id makes a second publish harmless), then acks. */
  private async publish(msgs: readonly JsMsg[], task: TaskMessage, outcome: InputMessage): Promise<void> {
    const msgID = reportMessageId(task, outcome.type);
    const subject = subjects.report(this.opts.sender, this.opts.queue, task.runId);
    const patience = this.opts.patienceMs ?? REPORT_PATIENCE_MS;
    let giveUpAt = Date.now() + patience;
    // A station's worker (its connection reaches JetStream through a domain: docs/nats.md#stations) whose link
    // to the hub is down hears "no responders": the outcome waits for the link, however long, rather than be
    // given up on (its attempt would be reported lost and run again). Said once a minute meanwhile.
    const station = this.opts.nc ? domainOf(this.opts.nc) !== undefined : false;
    let saidAt = 0;
    let pause = 250;
    let linkWasDown = false;
    for (;;) {
      try {
        await this.js.publish(subject, encode(outcome), { msgID });
        break;
      } catch (err) {
        if (permissionDenied(err) !== null) {
          throw new Error(
            `NATS user ${this.opts.sender} may not report attempts of queue ${this.opts.queue} (${errorMessage(err)}): give it "${subject.replace(/\.[^.]+$/, '.*')}" in nats.conf, or run this worker on a queue it is given`,
            { cause: err },
          );
        }
        const waitsForLink = station && isNoResponders(err);
        if (waitsForLink) linkWasDown = true;
        else if (linkWasDown) {
          // The link is back: patience counts from here, not from the first try, so a publish timing out as the
          // leaf reconnects is retried as any other rather than given up on at once (the attempt would be run again).
          linkWasDown = false;
          giveUpAt = Date.now() + patience;
          pause = 250;
        }
        if (
          this.opts.stopped() ||
          (Date.now() + pause > giveUpAt && !waitsForLink) ||
          !isTransient(err) ||
          err instanceof JetStreamApiError
        )
          throw err;
        if (!waitsForLink || Date.now() - saidAt >= patience) {
          saidAt = Date.now();
          this.opts.log(
            `${task.runId}/${task.taskId} attempt ${task.attempt}: reporting ${outcome.type} failed (${errorMessage(err)}); retrying${waitsForLink ? " until the station's link to the hub is back" : ''}`,
          );
        }
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 2000);
      }
    }
    for (const m of msgs) m.ack();
  }
}

/**
 * The message id of a report on LF_INPUTS: one outcome per attempt (whichever run of it reports first is written), one
 * loss and one release per run of it. It holds reportDigest(token), which only the worker handed the attempt can compute and no ledger
 * key gives away: an id of run, task and attempt alone another worker could write ahead of the run (event-started run
 * ids are predictable), and the real report would be dropped as a duplicate.
 */
export function reportMessageId(
  task: Pick<TaskMessage, 'runId' | 'taskId' | 'attempt' | 'token' | 'restart' | 'iteration' | 'item'>,
  type: InputMessage['type'],
): string {
  const id = `${task.runId}/${instanceKey({ task: task.taskId, ...instanceFields(task) })}/${task.attempt}/${reportDigest(task.token)}`;
  if (type === 'task.released') return `${id}/released-${task.restart ?? 0}`;
  return type === 'task.lost' ? `${id}/lost-${task.restart ?? 0}` : `${id}/result`;
}
