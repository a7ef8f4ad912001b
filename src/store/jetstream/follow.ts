/** follow() on JetStream: a run's events as any writer appends them, live, until closed. */
import type { ConsumerMessages } from '@nats-io/jetstream';
import { DeliverPolicy } from './nats-lib.js';
import type { OnEvents, Subscription } from '../port.js';
import { assertRunId, deliver } from '../common.js';
import { anyRunSubject, decodeNextCommit, describe, isArchiveMarker } from './codec.js';
import type { JetStreamLink } from './connection.js';
import { getMessage } from './run-messages.js';
import { permissionDenied } from '../../errors/index.js';
import type { ResolvedOptions } from './options.js';

const FOLLOW_EXPIRES_MS = 5000;
/** How often a follower that may make no consumer (a person's) asks for what was appended since. */
const POLL_MS = 500;

/**
 * Stops `messages` when its consumer is lost: two missed heartbeats (its node is gone, say), or the server saying it is
 * gone. The client would make a new one itself, but after a node loss it could keep waiting for one on the dead node
 * for a minute; the follow loop makes a new one at once from where delivery got to.
 */
async function stopWhenLost(messages: ConsumerMessages): Promise<void> {
  try {
    for await (const s of await messages.status()) {
      const missed = s.type === 'heartbeats_missed' && s.count >= 2;
      if (missed || s.type === 'consumer_deleted' || s.type === 'consumer_not_found') {
        await messages.close();
        return;
      }
    }
  } catch {
    // The status stream ends with the messages: nothing to stop.
  }
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface FollowContext {
  link: JetStreamLink;
  o: ResolvedOptions;
  /** Where the run's subject ended when the store last saw it: a hint, as in the store. */
  position(runId: string): { subject: string; lastStreamSeq: number; lastEventSeq: number } | undefined;
  /** The store's open subscriptions: closed with it. */
  follows: Set<Subscription>;
}

/**
 * An ordered consumer on the run's subject (on `<prefix>.*.<runId>` while the run is unknown). Starts after the cached
 * end when `afterSeq` is there, else at the subject's start, skipping events up to `afterSeq`. Errors have no channel
 * in follow(): they are emitted as warnings. A user that may make no consumer (a person's: connection.ts, getsOnly)
 * asks for the run's next messages by gets every POLL_MS instead.
 */
export function followRun(store: FollowContext, runId: string, afterSeq: number, onEvents: OnEvents): Subscription {
  assertRunId(runId);
  let closed = false;
  let delivered = afterSeq;
  let messages: ConsumerMessages | undefined;
  let warned = false;
  const warn = (err: unknown) => {
    if (closed || warned) return;
    warned = true;
    process.emitWarning(
      `ledgerflow: follow(${runId}) on JetStream stream ${store.o.stream}: ${describe(err)}`,
      'LedgerflowFollowWarning',
    );
  };
  const sub: Subscription = {
    close: () => {
      if (closed) return;
      closed = true;
      store.follows.delete(sub);
      void messages?.close().catch(() => undefined);
    },
  };
  store.follows.add(sub);
  // The next stream sequence to deliver from: after the cached end when afterSeq is
  // there (no history replay), else the subject's start; then after each message seen.
  let nextStreamSeq = 0;
  let subject: string | undefined;
  /** The event seq the run's history ended at in the last commit seen (null: none seen yet). */
  let chainEnd: number | null = null;
  const take = (m: { seq: number; subject: string; data: Uint8Array }) => {
    if (closed) return;
    nextStreamSeq = m.seq + 1;
    subject = m.subject;
    if (isArchiveMarker(m.data)) return; // the run moving to the archive (compare-purge.ts): not an event
    try {
      const commit = decodeNextCommit(
        m.data,
        runId,
        { stream: store.o.stream, seq: m.seq, subject: m.subject },
        chainEnd,
      );
      if (!commit) return; // lost a race to an earlier commit (codec.ts)
      chainEnd = commit.events[commit.events.length - 1]!.seq;
      const events = commit.events.filter((e) => e.seq > delivered);
      if (events.length === 0) return;
      delivered = events[events.length - 1]!.seq;
      deliver(onEvents, events, runId);
    } catch (err) {
      warn(err);
    }
  };
  void (async () => {
    // Runs until closed: a consumer that stops (server restarted mid-set-up, stream
    // briefly missing) is recreated from where delivery got to.
    for (let pause = 100; !closed; pause = Math.min(pause * 2, 5000)) {
      try {
        const c = await store.link.ready();
        const pos = store.position(runId);
        if (nextStreamSeq === 0) {
          const after = pos && afterSeq >= pos.lastEventSeq;
          nextStreamSeq = after ? pos.lastStreamSeq + 1 : 1;
          if (after) chainEnd = pos.lastEventSeq;
        }
        subject ??= pos?.subject;
        if (store.link.getsOnly) {
          // A user that may make no consumer (a person's: connection.ts): what was appended since, by gets, every POLL_MS.
          for (;;) {
            const query = { next_by_subj: subject ?? anyRunSubject(store.o.subjectPrefix, runId), seq: nextStreamSeq };
            const m = closed ? null : await getMessage(store.link, store.o, c, query, store.link.deadline());
            if (!m) break;
            take(m);
          }
          pause = 50; // a failure after a good poll is tried again soon
          if (!closed) await sleep(POLL_MS);
          continue;
        }
        // (Not DeliverPolicy.All: nats.js's ordered consumer always sends opt_start_seq, which the server refuses with All.)
        const opts = {
          filter_subjects: subject ?? anyRunSubject(store.o.subjectPrefix, runId),
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: nextStreamSeq,
        };
        const consumer = await store.link.call('follow', store.link.deadline(), () =>
          c.js.consumers.get(store.o.stream, opts),
        );
        if (closed) return;
        messages = await consumer.consume({
          // Pulls that expire in 5 s (heartbeats every 2.5 s), not 30 s: nats.js notices a consumer lost
          // with a node (an ordered consumer has one replica) after two missed heartbeats and makes a new
          // one, its retries spaced by the same expiry. With 30 s a follower stalled for up to a minute.
          expires: FOLLOW_EXPIRES_MS,
          callback: take,
        });
        if (closed) return void messages.close().catch(() => undefined);
        pause = 50;
        void stopWhenLost(messages);
        await messages.closed();
      } catch (err) {
        if (permissionDenied(err) !== null && !store.link.getsOnly) {
          store.link.getsOnly = true; // polled by gets from now on, at once
          continue;
        }
        warn(err);
      }
      if (!closed) await sleep(pause);
    }
  })();
  return sub;
}
