/**
 * How an engine takes messages: a pull loop on each shared durable consumer, a bound on how often one message is tried
 * (then it is dead-lettered, never retried forever), its ack held until the notification deliveries its processing
 * started have ended, and the two ways an engine answers: a dead letter on lf.dlq.<kind>, a verdict to the sender
 * waiting. What a message means is the routes' (routes.ts, inputs.ts, trigger-events.ts), which parse it first
 * (parse.ts).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { iso } from '../../compiler/index.js';
import {
  deadLetterOf,
  publishDeadLetter,
  REDELIVERY_DEFAULTS,
  retryDelayMs,
  encode,
  PULL_EXPIRES_MS,
  subjects,
  type AttemptTokens,
  type Custody,
  type DeadLetterDetails,
  type InHand,
  type ApprovalVerdict,
  type ControlVerdict,
  type SignalVerdict,
  type TriggerVerdict,
  type StartVerdict,
  type DeployVerdict,
  type Malformed,
  type ClusterSettings,
} from '../transport/index.js';
import { errorMessage, LedgerflowError } from '../../errors/index.js';

/**
 * Codes of failures no retry of the message mends: a large payload whose stored body no longer hashes to its digest
 * (LF_BLOB_ALTERED) reads the same on every delivery until someone puts the original back, so backing off up to
 * maxDeliver only keeps the sender waiting for nothing. Not LF_DECRYPT_FAILED: it cannot tell a changed body from this
 * engine holding another key under the same id, which another engine (or this one, its key fixed) opens, and a
 * redelivery may reach one. LF_BLOB_MISSING is left to the bound as before: not judged in this change.
 */
const FINAL_CODES: ReadonlySet<string> = new Set(['LF_BLOB_ALTERED']);

/**
 * A failure no retry mends by itself (finalFailure) that came after the message's input was recorded (thrown by the run
 * host for what follows a commit, and by a person's input route): its run could not go on. Not final: the message comes
 * back with the growing delay (never given up at once), so that its first delivery after the fix the error names
 * carries the run on; at the bound it is dead-lettered as any failure is.
 */
export class StalledAfterRecording extends Error {
  constructor(readonly failure: LedgerflowError) {
    super(`recorded, then its run could not go on: ${failure.message}`);
    this.name = 'StalledAfterRecording';
  }
}

/** The error when retrying the message cannot mend it (FINAL_CODES), else null. */
export function finalFailure(err: unknown): LedgerflowError | null {
  return err instanceof LedgerflowError && FINAL_CODES.has(err.code) ? err : null;
}

/**
 * Runs `fn` as a message's processing is run, its notification deliveries collected in the custody it is given
 * (custody.ts), and resolves after them: for a message answered rather than acked (an outcome handed straight to the
 * engine, direct-reports.ts), whose answer waits for them as an ack does. Nothing is offered under it: it is not held.
 */
export async function withHeldDeliveries<T>(fn: (custody: Custody) => Promise<T>): Promise<T> {
  const custody: Custody = { deliveries: [], holds: false };
  const value = await fn(custody);
  // Deliveries may start more while they run (none do today): wait for what is there at the end.
  await Promise.allSettled(custody.deliveries);
  return value;
}

/** The engine's life the loops follow: stopped, what stop() calls, the loops it waits for. */
export interface Lifecycle {
  stopped(): boolean;
  readonly stops: (() => void)[];
  readonly loops: Promise<void>[];
}

/**
 * Runs `round` now and every `everyMs` until the engine stops (its stop wakes the wait); a round that throws
 * is told to `failed` (unless the engine stopped meanwhile) and the next round tries again.
 */
export function everyUntilStopped(
  life: Lifecycle,
  everyMs: number,
  round: () => Promise<unknown>,
  failed: (err: unknown) => void,
): void {
  let wake: (() => void) | undefined;
  life.stops.push(() => wake?.());
  life.loops.push(
    (async () => {
      while (!life.stopped()) {
        await round().catch((err: unknown) => {
          if (!life.stopped()) failed(err);
        });
        if (life.stopped()) break;
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, everyMs).unref?.();
        });
      }
    })(),
  );
}

export interface InboxOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  tokens: AttemptTokens;
  inHand: InHand;
  life: Lifecycle;
  stats: { deadLetters: number; retries: number; refused: number };
  settings?: ClusterSettings;
  /** Messages handled at once, per consumer. */
  concurrency?: number;
  now: () => number;
  log: (line: string) => void;
}

export class Inbox {
  /** The shortest interval at which a message in hand is heartbeated (a third of the shortest consumer ack wait). */
  heartbeatMs = Number.POSITIVE_INFINITY;

  constructor(private readonly o: InboxOptions) {}

  /**
   * A pull loop on a shared durable consumer, handling messages concurrently up to the engine's limit. A message is
   * never tried forever: a failure puts it back with a delay that doubles (retryDelayMs), and the delivery at the bound
   * (`maxDeliver`) that fails too is dead-lettered with the error and terminated; a delivery past the bound (the ones
   * before never finished: an engine died or hung on it) is dead-lettered unprocessed. The engine counts deliveries
   * itself (m.info.deliveryCount) rather than waiting for the server's max-deliveries advisory: the advisory is core
   * NATS, lost when no engine listens at that moment, and once the server gives up the message stays in its work-queue
   * stream where no consumer can take it. The server's own bound is a few deliveries higher (setup.ts), a last resort.
   * `boundFirst: false`: the handler checks the bound itself (spent()).
   */
  consume(
    stream: string,
    durable: string,
    kind: string,
    handle: (m: JsMsg, custody: Custody) => Promise<void>,
    opts: { boundFirst?: boolean } = {},
  ): void {
    const { life, inHand } = this.o;
    const limit = this.o.concurrency ?? 64;
    let active = 0;
    const waiters: (() => void)[] = [];
    const loop = (async () => {
      while (!life.stopped()) {
        try {
          const consumer = await this.o.js.consumers.get(stream, durable);
          // The consumer's own ack wait, which may be shorter than this engine's settings say (another engine, or an
          // operator, set it): a message held longer (an offered attempt's custody, direct-dispatch.ts) must be
          // heartbeated within it, or it is redelivered to another engine while this one still acts on it.
          const serverAckWaitMs = ((await consumer.info(true).catch(() => null))?.config.ack_wait ?? 0) / 1_000_000;
          const settingsAckWaitMs = this.o.settings?.engineAckWaitMs ?? 10_000;
          const heartbeatMs = Math.max(
            250,
            Math.min(settingsAckWaitMs, serverAckWaitMs > 0 ? serverAckWaitMs : settingsAckWaitMs) / 3,
          );
          this.heartbeatMs = Math.min(this.heartbeatMs, heartbeatMs);
          const messages = await consumer.consume({ max_messages: limit, expires: PULL_EXPIRES_MS });
          life.stops.push(() => messages.stop());
          // A stop that came while the consumer was being set up ran before this one was listed: it would pull on.
          if (life.stopped()) messages.stop();
          for await (const m of messages) {
            if (active >= limit) await new Promise<void>((r) => waiters.push(r));
            if (!inHand.accept(m)) continue;
            active++;
            const held = holdAck(m, () => inHand.handedBack);
            // Kept ours (working()) while it is processed slowly, e.g. appends waiting out a server restart, and
            // while attempts offered straight to workers under it have not reported (direct-dispatch.ts: its custody).
            void inHand
              .track(
                [m],
                (async () => {
                  try {
                    if (opts.boundFirst === false || !(await this.spent(m, kind))) {
                      // Its notification deliveries and the attempts offered under it: the ack waits for both (custody.ts).
                      await handle(held.msg, { deliveries: held.deliveries, holds: true });
                    }
                  } finally {
                    // Its processing is done: a message whose ack waits for its custody takes no slot meanwhile.
                    active--;
                    waiters.shift()?.();
                  }
                  await held.acked();
                })(),
                heartbeatMs,
              )
              .catch((err: unknown) => this.failed(m, kind, durable, err));
          }
        } catch (err) {
          if (life.stopped()) break;
          this.o.log(`${durable} consumer: ${errorMessage(err)}; reconnecting`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
    life.loops.push(loop);
  }

  private get maxDeliver(): number {
    return this.o.settings?.maxDeliver ?? REDELIVERY_DEFAULTS.maxDeliver;
  }

  /** A delivery past the bound: the ones before never finished, so this one is dead-lettered, not processed. True when it was. */
  async spent(m: JsMsg, kind: string): Promise<boolean> {
    const n = m.info.deliveryCount;
    if (n <= this.maxDeliver) return false;
    await this.deadLetter(
      kind,
      `delivered ${n} times (the bound is ${this.maxDeliver}) and never processed to the end: an engine died or hung on it each time`,
      m,
    );
    m.term();
    return true;
  }

  /**
   * Processing failed: dead-letter at the bound, or at once when no retry can mend it (finalFailure), else put it back
   * with a growing delay.
   */
  private async failed(m: JsMsg, kind: string, durable: string, err: unknown): Promise<void> {
    // Handed back when the stop's grace ran out: it failed for the store closing under it, and is another engine's now.
    if (this.o.inHand.handedBack) return;
    const n = m.info.deliveryCount;
    const message = errorMessage(err);
    const final = finalFailure(err);
    if (final) {
      try {
        await this.giveUp(kind, m, final);
        return;
      } catch (dlqErr) {
        this.o.log(`${durable}: could not dead-letter message ${m.seq} (${errorMessage(dlqErr)}); it comes back`);
      }
    } else if (n >= this.maxDeliver) {
      try {
        await this.deadLetter(
          kind,
          `gave up after ${n} deliveries (the bound is ${this.maxDeliver}); the last failed with: ${message}`,
          m,
        );
        m.term();
        return;
      } catch (dlqErr) {
        this.o.log(`${durable}: could not dead-letter message ${m.seq} (${errorMessage(dlqErr)}); it comes back`);
      }
    }
    const delay = retryDelayMs(n, this.o.settings);
    this.o.stats.retries++;
    this.o.log(`${durable}: ${message}; delivery ${n} of ${this.maxDeliver}, trying again in ${delay} ms`);
    m.nak(delay);
  }

  /**
   * A failure no retry mends (finalFailure): dead-lettered with its code and words on this delivery, and terminated, so
   * it is neither tried again nor dead-lettered again at the bound. Whoever answers the sender does so after this.
   */
  async giveUp(kind: string, m: JsMsg, err: LedgerflowError, details: DeadLetterDetails = {}): Promise<void> {
    await this.deadLetter(
      kind,
      `failed with ${err.code}, which no retry mends (delivery ${m.info.deliveryCount}, not tried again): ${err.message}`,
      m,
      details,
    );
    m.term();
  }

  /**
   * Writes a reference to the message and a bounded part of it to lf.dlq.<kind> (dead-letters.ts), never a copy larger
   * than a fixed bound. `discriminator` tells apart several dead letters of one message (a trigger event whose runs
   * fail to start); without it, dead-lettering a message again (after a crash before its ack) writes nothing new.
   */
  async deadLetter(
    kind: string,
    reason: string,
    m: JsMsg,
    details: DeadLetterDetails = {},
    discriminator?: string,
  ): Promise<void> {
    this.o.stats.deadLetters++;
    this.o.log(`dead letter (${kind}): ${reason.length > 300 ? `${reason.slice(0, 300)}…` : reason}`);
    await publishDeadLetter(
      this.o.js,
      subjects.dlq(kind),
      deadLetterOf(m, reason, iso(this.o.now()), details),
      discriminator,
      (id) => this.o.tokens.engineMessageId(id),
    );
  }

  /** A message parseInbound refused: dead-lettered with the reason, and acked (it would be refused again). */
  async dropMalformed(kind: string, m: JsMsg, malformed: Malformed): Promise<void> {
    if (malformed.misdirected) this.o.stats.refused++;
    await this.deadLetter(kind, malformed.reason, m, malformed.details);
    m.ack();
  }

  /** Tells whoever waits on a verdict subject what became of their message (core NATS: nobody listening is fine). */
  tell(
    subject: string | null,
    verdict: ApprovalVerdict | TriggerVerdict | SignalVerdict | ControlVerdict | StartVerdict | DeployVerdict,
  ): void {
    if (subject) this.o.nc.publish(subject, encode(verdict));
  }
}

/**
 * The message as a handler sees it, with its ack held until the notification deliveries its processing started have
 * ended (delivered or given up on, and noted): an engine that dies before leaves it unacked for another. Everything
 * else (nak, term, working) goes to the message as it is.
 */
function holdAck(
  m: JsMsg,
  handedBack: () => boolean,
): { msg: JsMsg; deliveries: Promise<void>[]; acked: () => Promise<void> } {
  const deliveries: Promise<void>[] = [];
  let acked: Promise<void> = Promise.resolve();
  const msg = new Proxy(m, {
    get(target, prop) {
      if (prop === 'ack') {
        return () => {
          if (deliveries.length === 0) target.ack();
          // Deliveries cut off by a stop were not noted: the message was handed back, so that the next engine delivers them.
          else
            acked = Promise.allSettled(deliveries).then(() => {
              if (!handedBack()) target.ack();
            });
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { msg, deliveries, acked: () => acked };
}
