/**
 * The messages an engine or a worker has taken and not finished, for a graceful stop in order: stop taking (one that
 * still arrives is handed back at once), let what is in hand finish within a grace, hand back what did not (a nak:
 * another process takes it now, not after the ack wait), and only then close the connection.
 */
import type { JsMsg } from '@nats-io/jetstream';

/** How long a stopping engine or worker lets what it has in hand finish (as `serve --grace`). */
export const STOP_GRACE_MS = 10_000;

export class InHand {
  private readonly work = new Map<Promise<void>, JsMsg[]>();
  private readonly heartbeats = new Set<ReturnType<typeof setInterval>>();
  private taking = true;
  private cut = false;

  /** False once stop began: nothing new is taken. */
  get open(): boolean {
    return this.taking;
  }
  /** True once the grace ran out: what is still in hand was handed back, and is neither acked nor put back again. */
  get handedBack(): boolean {
    return this.cut;
  }

  /** A message just pulled: true to process it, false when stopping (then it is handed back). */
  accept(m: JsMsg): boolean {
    if (this.taking) return true;
    handBack(m);
    return false;
  }

  /**
   * Tracks the processing of `msgs` (their ack or putting back is part of `work`), telling the server every
   * `heartbeatMs` (if given) that they are still worked on, until `work` ends or they are handed back.
   */
  track(msgs: JsMsg[], work: Promise<void>, heartbeatMs?: number): Promise<void> {
    const heartbeat =
      heartbeatMs === undefined
        ? undefined
        : setInterval(() => {
            for (const m of msgs) m.working();
          }, heartbeatMs);
    if (heartbeat) this.heartbeats.add(heartbeat);
    const done = () => {
      if (heartbeat) {
        clearInterval(heartbeat);
        this.heartbeats.delete(heartbeat);
      }
      this.work.delete(work);
    };
    this.work.set(work, msgs);
    return work.then(done, (err: unknown) => {
      done();
      throw err;
    });
  }

  stopTaking(): void {
    this.taking = false;
  }

  /** Resolves once everything in hand ended (true) or `ms` passed (false). */
  async settle(ms: number): Promise<boolean> {
    if (this.work.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), ms);
    });
    try {
      return await Promise.race([Promise.allSettled([...this.work.keys()]).then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The grace is over: what is still in hand goes back to the server now. Returns how many messages went
   * back, and how many pieces of work were unfinished with none (a worker's offered attempts: no
   * delivery to hand back, their engine queues them when it stops hearing of them).
   */
  handBackRest(): { messages: number; withoutMessages: number } {
    this.cut = true;
    for (const h of this.heartbeats) clearInterval(h);
    this.heartbeats.clear();
    let messages = 0;
    let withoutMessages = 0;
    for (const msgs of this.work.values()) {
      if (msgs.length === 0) withoutMessages++;
      for (const m of msgs) {
        handBack(m);
        messages++;
      }
    }
    return { messages, withoutMessages };
  }
}

/** Puts a message back for another consumer at once. */
export function handBack(m: JsMsg): void {
  try {
    m.nak();
  } catch {
    // The connection is already gone: the server redelivers the message once its ack wait passes, as after a crash.
  }
}
