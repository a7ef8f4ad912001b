/**
 * Outcomes handed straight to an engine: a worker's NATS request on lf.reports.<sender>.<queue>.<runId>, taken by
 * whichever engine of the queue group `engines` the server picks, and answered once the outcome is in the run's log and
 * the commit's effects are handed on (the next attempt published, notifications delivered). No stream holds it: the
 * run's log is where the outcome is recorded once, instead of a message in LF_INPUTS, an engine's pull of it and its
 * ack besides.
 *
 * A report may say which handlers its worker takes next (TAKES_NEXT_HEADER): the run's next attempt for one of them is
 * then the answer itself (DirectDispatch. expectFollowOn; docs/nats.md "The next attempt comes back with the answer").
 *
 * Nothing is lost by skipping the stream: the worker holds the outcome, and its attempt's delivery unacked, until an
 * engine answers `recorded`. Any other answer, no answer in time, or no engine listening, and it publishes the same
 * outcome on LF_INPUTS (inputs.ts), the durable path; an outcome recorded here whose answer was lost is then stale
 * there, and dropped.
 *
 * Checked as on LF_INPUTS, by the same code (recordOutcome): the sender and queue are the subject's, which nats.conf
 * lets each worker user publish only under its own name and for its own queues; the outcome counts only with its
 * attempt's token, and only on the attempt's own queue. What fails a check is not recorded and not dead-lettered here:
 * the answer says why, and a worker that publishes it on LF_INPUTS has it refused there, with the dead letter every
 * refusal gets.
 */
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { instanceFields, instanceToken, iso } from '../../compiler/index.js';
import { DirectDispatch, type Carried } from './direct-dispatch.js';
import { randomHex } from '../../executor/index.js';
import {
  ATTEMPT_MAC_HEADER,
  ATTEMPT_SIG_HEADER,
  SESSION_HEADER,
  encode,
  parseInbound,
  maxReportBytes,
  REPORT_RECORDED_HEADER,
  TAKES_NEXT_HEADER,
  type InHand,
  type ReportAnswer,
} from '../transport/index.js';
import { headers } from '../../store/index.js';
import { withHeldDeliveries, type Lifecycle } from './inbox.js';
import { recordOutcome, type InputHost } from './inputs.js';
import { errorMessage } from '../../errors/index.js';

/** Handlers a report's TAKES_NEXT_HEADER names that are looked at, at most (a worker serves a few). */
const MAX_HANDLERS_TAKEN = 64;

/** The queue group every engine serves lf.reports.> in: each report goes to one engine. */
export const REPORTS_QUEUE_GROUP = 'engines';

export interface DirectReportsOptions {
  nc: NatsConnection;
  host: InputHost;
  inHand: InHand;
  life: Lifecycle;
  stats: { directReports: number };
  /** The attempts this engine offered straight to workers (their reports, and their word they still run them, come to it). */
  direct?: { dispatch: DirectDispatch; engine: string } | null;
}

/**
 * Serves lf.reports.<sender>.<queue>.<runId> (the queue group: outcomes of queued attempts) and, with
 * `direct`, lf.reports.<sender>.<queue>.<runId>.<engine> (of the attempts this engine offered) until the
 * engine stops taking messages (the worker then falls back to LF_INPUTS). Returns what closes the
 * subscription of this engine's own, which the engine keeps while its custody lasts.
 */
export function serveDirectReports(o: DirectReportsOptions): () => void {
  const nonce = randomHex(4);
  let n = 0;
  const callback = (err: Error | null, msg: Msg) => {
    // The subscription's own failure (a permission the server refused): said, not swallowed; workers fall back to LF_INPUTS.
    if (err) {
      o.host.log(`lf.reports: ${err.message}`);
      return;
    }
    if (!o.inHand.open && !msg.subject.endsWith(`.${o.direct?.engine ?? '\u0000'}`)) {
      answer(msg, { recorded: false, reason: 'the engine is stopping' });
      return;
    }
    void o.inHand.track(
      [],
      take(
        o.host,
        msg,
        `d${nonce}.${(n++).toString(36)}`,
        o.direct?.dispatch ?? null,
        maxReportBytes(o.nc.info?.max_payload),
      ).then(
        (a) => {
          if (!a) return;
          if (a.recorded) o.stats.directReports++;
          if (a.next && msg.reply) {
            // The run's next attempt, to the worker that reported (TAKES_NEXT_HEADER): its body, sealed for its session or signed as an offer is.
            const h = headers();
            h.set(REPORT_RECORDED_HEADER, '1');
            if (a.next.mac !== undefined) h.set(ATTEMPT_MAC_HEADER, a.next.mac);
            else if (a.next.sig !== undefined) h.set(ATTEMPT_SIG_HEADER, a.next.sig);
            msg.respond(a.next.body, { headers: h });
            return;
          }
          answer(msg, a);
        },
        (e: unknown) => answer(msg, { recorded: false, reason: errorMessage(e) }),
      ),
    );
  };
  const shared = o.nc.subscribe('lf.reports.*.*.*', { queue: REPORTS_QUEUE_GROUP, callback });
  o.life.stops.push(() => shared.unsubscribe());
  const own = o.direct ? o.nc.subscribe(`lf.reports.*.*.*.${o.direct.engine}`, { callback }) : null;
  return () => own?.unsubscribe();
}

function answer(msg: Msg, a: ReportAnswer): void {
  // A report published without a reply subject is processed all the same; nobody waits for its answer.
  if (msg.reply) msg.respond(encode(a));
}

/**
 * One report: recorded, or why not (the worker then uses LF_INPUTS), with the run's next attempt when the
 * worker takes one in the answer and the commit started one it can run (`next`); null for a worker's word
 * that it still runs an attempt (no answer).
 */
async function take(
  host: InputHost,
  msg: Msg,
  commitKey: string,
  dispatch: DirectDispatch | null,
  maxBytes: number,
): Promise<(ReportAnswer & { next?: Carried }) | null> {
  // Refused unread: LF_INPUTS refuses it as well, so the worker cannot fall back to it (it is no honest worker's report).
  if (msg.data.length > maxBytes)
    return {
      recorded: false,
      reason: `a report of ${msg.data.length} bytes, over the ${maxBytes} an outcome may carry (half max_payload and 64 KiB)`,
    };
  const parsed = parseInbound('report', { subject: msg.subject, data: msg.data });
  if (!parsed.ok) return { recorded: false, reason: parsed.reason };
  const { sender, queue, input } = parsed.value;
  if (!host.tokens.verify(input.runId, instanceToken(input.data), input.data.attempt, input.token)) {
    host.stats.forged++;
    host.log(
      `${input.type} of ${input.data.task} attempt ${input.data.attempt} in run ${input.runId}, handed over by ${sender}, does not carry that attempt's token: not recorded`,
    );
    return input.type === 'task.held'
      ? null
      : {
          recorded: false,
          reason: "the report does not carry the attempt's token: only the worker handed the attempt may report it",
        };
  }
  if (input.type === 'task.held') {
    dispatch?.heard(
      input.runId,
      DirectDispatch.keyOf({
        runId: input.runId,
        taskId: input.data.task,
        ...instanceFields(input.data),
        attempt: input.data.attempt,
        restart: input.data.restart,
      }),
      input.token,
      input.claimToken,
    );
    return null;
  }
  host.stats.inputs++;
  const by = { by: sender, ...(host.sendersProven() ? {} : { unauthenticated: true as const }) };
  const takes = msg.headers?.get(TAKES_NEXT_HEADER);
  // The worker's session (attempt-sessions.ts): what it takes is sealed for it, once its token verified above.
  const session = msg.headers?.get(SESSION_HEADER);
  const seal = session ? (body: Uint8Array) => host.tokens.sessions().seal(session, body) : undefined;
  const follow =
    takes && dispatch
      ? dispatch.expectFollowOn(input.runId, queue, takes.split(',').slice(0, MAX_HANDLERS_TAKEN), seal)
      : null;
  let next: Carried | undefined;
  let done: Awaited<ReturnType<typeof recordOutcome>>;
  try {
    done = await withHeldDeliveries((custody) =>
      recordOutcome(host, input, queue, by, iso(host.now()), { commitKey, custody }),
    );
  } finally {
    // Carried but not answered with (a failure after the commit): handed over all the same, its lease queues it.
    next = follow?.end();
  }
  if (!done) return { recorded: false, reason: `run ${input.runId} reads as empty here` };
  if ('refused' in done)
    return { recorded: false, reason: `the attempt was handed out on queue ${done.refused}, not ${queue}` };
  return { recorded: true, ...(next ? { next } : {}) };
}
