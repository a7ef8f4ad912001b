/**
 * A worker's side of the attempts engines offer straight to an idle worker (the engines' direct-dispatch.ts): the
 * subscription to lf.offer.<queue>.<handler> in the queue's group w_<queue> (nats.conf lets a worker user subscribe
 * there only in that group, so that it sees no more attempts than it would pull), and the answer: `taken` at once when
 * a slot is free, after which the worker claims and runs the attempt as a pulled one (worker.ts), tells the engine that
 * it still runs it and hands the outcome to that engine; else `not taken`, and the engine queues it.
 */
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import {
  encode,
  parseInbound,
  rawOf,
  offerGroup,
  subjects,
  type OfferAnswer,
  type TaskMessage,
} from '../transport/index.js';

export interface OfferTaker {
  nc: NatsConnection;
  queue: string;
  sender: string;
  /** Whether a slot of `handler` is free (the worker's concurrency) and the worker still takes work. */
  free(handler: string): boolean;
  /** Claims and runs an attempt taken (its errors are the caller's to log). */
  run(task: TaskMessage): void;
  /** Whether the offer was signed by the engines (attempt-keys.ts): one that was not is never taken. */
  signed(msg: Msg): boolean;
  log(line: string): void;
}

/** Takes offers of `handler` until the returned function unsubscribes. */
export function takeOffers(o: OfferTaker, handler: string): () => void {
  let refused = false;
  const unsigned = { count: 0 };
  const sub = o.nc.subscribe(subjects.offer(o.queue, handler), {
    queue: offerGroup(o.queue),
    callback: (err, msg) => {
      if (err) {
        // A user nats.conf does not give the offers: it pulls from the queue only, which the engines fall back to.
        if (!refused)
          o.log(
            `offers of ${handler} on queue ${o.queue}: ${err.message}; taking its attempts from the queue only (nats.conf must give ${o.sender} "lf.offer.${o.queue}.> ${offerGroup(o.queue)}" and allow_responses)`,
          );
        refused = true;
        return;
      }
      take(o, handler, msg, unsigned);
    },
  });
  return () => sub.unsubscribe();
}

/** `unsigned`: offers of this subscription refused for want of an engine's signature, so far. */
function take(o: OfferTaker, handler: string, msg: Msg, unsigned: { count: number }): void {
  const signed = o.signed(msg);
  if (!signed) {
    // Not taken (its engine, if an engine made it, queues it: so before this worker knows the engines' key), and said (1st, 10th, 100th…).
    const n = ++unsigned.count;
    if (Number.isInteger(Math.log10(n)))
      o.log(`an offer on ${msg.subject} not verified as signed by the engines: not taken (${n} so far)`);
  }
  const parsed = signed ? parseInbound('task', rawOf(msg)) : null;
  const taken =
    parsed?.ok === true && parsed.value.reportTo !== undefined && parsed.value.handler === handler && o.free(handler);
  msg.respond(encode({ taken } satisfies OfferAnswer));
  if (taken && parsed?.ok) o.run(parsed.value);
}

/**
 * An attempt an engine handed over in the answer to this worker's report (TAKES_NEXT_HEADER): run as a
 * taken offer, once verified as the engines' and for a handler the report named. Else not run, and said:
 * its engine stops hearing of it and queues it (the lease), as an offer whose answer was lost.
 */
export function takeCarried(o: OfferTaker, msg: Msg, asked: readonly string[]): void {
  const parsed = o.signed(msg) ? parseInbound('task', rawOf(msg)) : null;
  if (parsed?.ok && parsed.value.reportTo && asked.includes(parsed.value.handler)) {
    o.run(parsed.value);
    return;
  }
  const why = !parsed
    ? 'not verified as signed by the engines'
    : !parsed.ok
      ? `that does not parse (${parsed.reason})`
      : `for ${parsed.value.handler}, which this worker did not ask for`;
  o.log(`an attempt handed over in a report's answer ${why}: not run; its engine will queue it`);
}
