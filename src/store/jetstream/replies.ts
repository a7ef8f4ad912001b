/**
 * Core NATS requests on one reply subscription per connection.
 *
 * nats.js's `nc.request` builds per request a request object, a deferred, a timer and, even when the reply comes, a
 * RequestError for its own cancellation (a stack trace captured each time): measured at ~43 µs of CPU per request
 * against ~14 µs here. The engines' offers and the workers' outcomes handed to an engine are a request each per step of
 * every run, so they go this way, as the store's appends do (publisher.ts).
 *
 * Failures are the ones `nc.request` gives for the same cases: TimeoutError when no reply comes in time (timeouts
 * checked by one sweep, SWEEP_MS apart, not a timer per request), a RequestError caused by a NoRespondersError when
 * nobody listens on the subject (the server's 503), the server's PermissionViolationError when the user may not publish
 * there, and a ClosedConnectionError for what waits when the connection closes.
 */
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/nats-core';
import { ClosedConnectionError, NoRespondersError, RequestError, TimeoutError, createInbox } from './nats-lib.js';

interface Waiting {
  subject: string;
  resolve: (msg: Msg) => void;
  reject: (err: Error) => void;
  expires: number;
}

/** How often pending requests are checked for an expired timeout. */
const SWEEP_MS = 100;

/** The decimal token after `from` in a reply subject; undefined when it is not one (no such request). */
function tokenOf(subject: string, from: number): number | undefined {
  if (subject.length === from || subject.length - from > 15) return undefined;
  let n = 0;
  for (let i = from; i < subject.length; i++) {
    const d = subject.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n;
}

/** The inbox prefix the connection was made with (inbox.ts), where only its user may listen. */
export function inboxPrefixOf(nc: NatsConnection): string | undefined {
  return (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
}

export class SharedReplies {
  private readonly prefix: string;
  private readonly sub: Subscription;
  /** By token: the number the reply subject ends with (a number, not a string: no string to cut out and hash per reply). */
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;
  private sweeper: NodeJS.Timeout | null = null;

  /** `inboxPrefix`: the connection's own unless given (inbox.ts). */
  constructor(
    private readonly nc: NatsConnection,
    inboxPrefix = inboxPrefixOf(nc),
  ) {
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        if (!err) this.answer(msg);
      },
    });
    // The connection closed: nothing pending will be answered.
    void this.sub.closed.then(() => this.failAll(new ClosedConnectionError()));
    void this.permissions();
  }

  /** Publishes `body` on `subject` with a reply subject of this connection's; resolves with the reply. */
  request(
    subject: string,
    body: Uint8Array,
    opts: { headers?: MsgHdrs | { encode(): Uint8Array }; timeoutMs: number },
  ): Promise<Msg> {
    const token = this.next++;
    return new Promise<Msg>((resolve, reject) => {
      try {
        this.nc.publish(subject, body, {
          reply: this.prefix + token,
          ...(opts.headers ? { headers: opts.headers as MsgHdrs } : {}),
        });
      } catch (err) {
        reject(err);
        return;
      }
      this.waiting.set(token, { subject, resolve, reject, expires: Date.now() + opts.timeoutMs });
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    });
  }

  /** Fails every request waiting for a reply with `err`. */
  abandon(err: Error): void {
    this.failAll(err);
  }

  private answer(msg: Msg): void {
    const token = tokenOf(msg.subject, this.prefix.length);
    const w = token === undefined ? undefined : this.waiting.get(token);
    if (!w) return; // timed out already
    this.waiting.delete(token!);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      // As nc.request says it: nobody listens on the subject.
      const none = new NoRespondersError(w.subject);
      w.reject(new RequestError(none.message, { cause: none }));
      return;
    }
    w.resolve(msg);
  }

  /**
   * The server refuses a publish with an error on the connection, not on the reply subject: the oldest
   * request waiting on that subject is the one refused (nats.js matches them the same way).
   */
  private async permissions(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type !== 'error') continue;
      const e = s.error as { name?: string; operation?: string; subject?: string };
      if (e.name !== 'PermissionViolationError' || e.operation !== 'publish') continue;
      for (const [token, w] of this.waiting) {
        if (w.subject !== e.subject) continue;
        this.waiting.delete(token);
        w.reject(s.error as Error);
        break;
      }
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, w] of this.waiting) {
      if (w.expires > now) continue;
      this.waiting.delete(token);
      w.reject(new TimeoutError());
    }
    if (this.waiting.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
