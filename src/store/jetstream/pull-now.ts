/**
 * What a durable pull consumer holds now, in one batch: a pull request with `no_wait`, as a request of our own
 * (the client's `fetch` waits at least a second, and takes each message as it arrives meanwhile).
 *
 * Why: the run index projection (query/jetstream-projection.ts) took every commit as it was stored, while
 * its fetch waited. One run at a time, that was a delivery and, later, an ack per commit, each in a turn of
 * the engine's event loop of its own, often in the very read that brought the commit's PubAck, ahead of
 * the step the run was waiting for: about 1 ms of the engine's CPU per five-step run and 1 to 1.5 ms of the
 * run's latency. Pulled now and then instead, a batch holds every commit stored since the last one.
 *
 * The server (2.9) answers a pull with `no_wait` with the messages it has, up to the batch, then, when it
 * had fewer, a status: 404 (none at all), 408 (some; the rest of the batch timed out), or 409 (the
 * consumer's max_ack_pending is reached). Those end the batch; any other status fails it, as does no answer
 * within `timeoutMs` with nothing received (a consumer that is gone answers nothing).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JsMsg } from '@nats-io/jetstream';
import { apiPrefix, createInbox, toJsMsg } from './nats-lib.js';
import { inboxPrefixOf } from './replies.js';

/** Statuses that end a no_wait batch short: nothing (more) to deliver now. */
const DONE = new Set([404, 408, 409]);

export function pullNow(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  batch: number,
  timeoutMs: number,
): Promise<JsMsg[]> {
  return new Promise((resolve, reject) => {
    const got: JsMsg[] = [];
    const inbox = createInbox(inboxPrefixOf(nc));
    let over = false;
    const finish = (err?: Error) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      sub.unsubscribe();
      if (err && got.length === 0) reject(err);
      else resolve(got);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer in ${timeoutMs} ms to a pull of ${consumer} on ${stream}`)),
      timeoutMs,
    );
    const sub = nc.subscribe(inbox, {
      callback: (err, m) => {
        if (err) {
          finish(err);
          return;
        }
        const code = m.data.length === 0 ? (m.headers?.code ?? 0) : 0;
        if (code === 100) return; // a heartbeat
        if (code !== 0) {
          finish(
            DONE.has(code)
              ? undefined
              : new Error(`a pull of ${consumer} on ${stream}: ${code} ${m.headers?.description ?? ''}`.trim()),
          );
          return;
        }
        got.push(toJsMsg(m));
        if (got.length >= batch) finish();
      },
    });
    nc.publish(`${apiPrefix(nc)}.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify({ batch, no_wait: true }), {
      reply: inbox,
    });
  });
}
