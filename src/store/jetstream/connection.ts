/**
 * The JetStream store's connection: opened lazily by the first call (so openStore() stays synchronous), the stream
 * created if missing, and reconnection that never gives up. `call()` runs one server request within a bounded time,
 * retrying timeouts and disconnections: a publish made while disconnected is lost, not queued, so a request in flight
 * when the connection comes back is sent again at once (same message id). Internal to src/store.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from './nats-lib.js';
import { StoreError } from '../../errors/index.js';
import {
  ERR_STREAM_NAME_IN_USE,
  ERR_STREAM_NOT_FOUND,
  apiErrorCode,
  connectRefusal,
  describe,
  isAmbiguous,
  isTransient,
  storeFailure,
} from './codec.js';
import { displayServers, type ResolvedOptions } from './options.js';
import { inboxPrefixFor } from './inbox.js';
import { JetStreamPublisher, ReplyLostError } from './publisher.js';
import { connect } from './write-coalesce.js';

export interface Conn {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Appends' publishes (publisher.ts): js.publish without its per-request overhead. */
  pub: JetStreamPublisher;
  /**
   * The stream has replicas: nats-server then checks an append's expectation
   * before replicating it, not atomically, and an append must check it won (store.ts).
   */
  replicated: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class JetStreamLink {
  private conn: Promise<Conn> | undefined;
  /** What `conn` resolved to (kept while `conn` is the promise it came from). */
  private opened: Conn | undefined;
  private nc: NatsConnection | undefined;
  private connected = false;
  private readonly wakers = new Set<() => void>();
  /** Requests in flight, told when the connection comes back (their answer may never come). */
  private readonly reconnectWaiters = new Set<() => void>();
  private closed = false;
  /**
   * This connection's user was refused a consumer on the log: a person's, whose nats.conf grants only message gets and
   * the stream's info (users/nats-conf-grants.ts), so that they cannot make the server publish anywhere or fill the
   * account's consumers. Reads then walk the log by message gets (run-messages.ts, read-all.ts, follow.ts) and do not
   * ask for a consumer again, which the server would refuse and log each time.
   */
  getsOnly = false;

  constructor(private readonly o: ResolvedOptions) {}

  /** Drains the connection (bounded: a server that is down cannot hold close() up). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    const pending = this.conn;
    this.conn = undefined;
    this.opened = undefined;
    if (!pending) return;
    const conn = await pending.catch(() => undefined);
    if (!conn || conn.nc.isClosed()) return;
    const timer = setTimeout(() => void conn.nc.close().catch(() => undefined), this.o.requestTimeoutMs);
    try {
      await conn.nc.drain();
    } catch {
      await conn.nc.close().catch(() => undefined); // draining failed (e.g. disconnected): close outright
    } finally {
      clearTimeout(timer);
    }
  }

  deadline(): number {
    return Date.now() + this.o.operationTimeoutMs;
  }

  ready(): Promise<Conn> {
    if (this.closed) return Promise.reject(new StoreError('the JetStream store is closed', { stream: this.o.stream }));
    if (!this.conn) {
      const opening = this.open().then(
        (c) => {
          if (this.conn === opening) this.opened = c;
          return c;
        },
        (err: unknown) => {
          if (this.conn === opening) this.conn = undefined; // the next call tries again
          throw connectRefusal(err, displayServers(this.o), Boolean(this.o.user || this.o.token), {
            stream: this.o.stream,
          });
        },
      );
      this.conn = opening;
    }
    return this.conn;
  }

  /** The connection when it is open (else undefined): appends skip awaiting ready() then, one promise less each. */
  get current(): Conn | undefined {
    return this.closed || !this.conn ? undefined : this.opened;
  }

  private async open(): Promise<Conn> {
    const nc = await connect({
      servers: this.o.servers,
      user: this.o.user,
      pass: this.o.pass,
      inboxPrefix: inboxPrefixFor(this.o.user),
      token: this.o.token,
      ...(this.o.domain ? { domain: this.o.domain } : {}),
      name: this.o.name,
      timeout: this.o.connectTimeoutMs,
      maxReconnectAttempts: -1, // publishes made while disconnected are lost, not queued: never stop reconnecting
      reconnectTimeWait: this.o.reconnectTimeWaitMs,
      // Else the client builds two or three Error objects (stack traces) per request to decorate a
      // possible timeout: ~10% of an engine's CPU. Errors keep their code and message.
      noAsyncTraces: true,
    });
    this.nc = nc;
    this.connected = true;
    const pub = new JetStreamPublisher(nc, inboxPrefixFor(this.o.user));
    void this.watch(nc, pub);
    // Setting up only reads (or creates, once) the stream: safe to repeat. A cluster that just lost a
    // node answers these requests with nothing or 503 while it elects new leaders (a `start` one second
    // after the log's leader died failed here): repeated within the operation's deadline, as calls are.
    const deadline = this.deadline();
    for (let pause = 100; ; pause = Math.min(pause * 2, 1000)) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: this.o.requestTimeoutMs });
        const replicas = await this.ensureStream(jsm);
        return { nc, jsm, js: jetstream(nc, { timeout: this.o.requestTimeoutMs }), pub, replicated: replicas > 1 };
      } catch (err) {
        // A server without JetStream answers 503 too, for good (its INFO says so): that is said at once.
        // A station's leaf node has no JetStream of its own (its INFO says none): the hub's answers through the domain.
        if (
          !isTransient(err) ||
          (nc.info?.jetstream !== true && !this.o.domain) ||
          this.closed ||
          Date.now() + pause >= deadline
        ) {
          await nc.close().catch(() => undefined);
          throw err;
        }
        await sleep(pause);
      }
    }
  }

  /** Tracks connectivity, so calls wait for a reconnection instead of publishing into the void. */
  private async watch(nc: NatsConnection, pub: JetStreamPublisher): Promise<void> {
    void nc.closed().then(() => {
      if (this.nc !== nc) return;
      this.nc = undefined;
      this.connected = false;
      if (!this.closed) {
        this.conn = undefined; // closed by the server side for good: reconnect on next use
        this.opened = undefined;
      }
      this.wake();
    });
    for await (const s of nc.status()) {
      if (this.nc !== nc) break;
      if (s.type === 'disconnect') this.connected = false;
      else if (s.type === 'reconnect') {
        this.connected = true;
        for (const w of [...this.reconnectWaiters]) w();
        pub.abandon(); // its publishes in flight fail with ReplyLostError: call() sends them again

        this.wake();
      }
    }
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
  }

  private async whenConnected(deadline: number): Promise<void> {
    while (!this.connected) {
      if (this.closed) throw new StoreError('the JetStream store is closed', { stream: this.o.stream });
      const left = deadline - Date.now();
      if (left <= 0)
        throw new StoreError(
          `not connected to NATS at ${displayServers(this.o)} (still reconnecting after ${this.o.operationTimeoutMs} ms)`,
          { servers: displayServers(this.o) },
        );
      await new Promise<void>((res) => {
        const done = () => {
          clearTimeout(t);
          this.wakers.delete(done);
          res();
        };
        const t = setTimeout(done, left);
        this.wakers.add(done);
      });
    }
  }

  /**
   * Runs one server request, retrying timeouts and disconnections until the deadline (a publish is retried with the
   * same message id, so a retry is idempotent). `onAmbiguous` hears of attempts whose outcome is unknown.
   * `honoursTimeout`: the op fails by itself when its timeout passes, and with ReplyLostError when the connection comes
   * back (the publisher's publishes).
   */
  call<T>(
    what: string,
    deadline: number,
    op: (timeoutMs: number) => Promise<T>,
    onAmbiguous?: () => void,
    opts: { honoursTimeout?: boolean } = {},
  ): Promise<T> {
    // Connected, and an op that times out by itself (the publisher's, every append): its first try is
    // the op's own promise, no async frame around it (one per commit); a failure goes on in the loop.
    if (opts.honoursTimeout && this.connected) {
      return op(Math.min(this.o.requestTimeoutMs, Math.max(100, deadline - Date.now()))).catch((err: unknown) =>
        this.calls(what, deadline, op, onAmbiguous, opts, { err }),
      );
    }
    return this.calls(what, deadline, op, onAmbiguous, opts);
  }

  /** call()'s loop; `failed`: how a first try made by call() itself ended, handled as the loop's own tries are. */
  private async calls<T>(
    what: string,
    deadline: number,
    op: (timeoutMs: number) => Promise<T>,
    onAmbiguous: (() => void) | undefined,
    opts: { honoursTimeout?: boolean },
    failed?: { err: unknown },
  ): Promise<T> {
    for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
      if (!failed && !this.connected) await this.whenConnected(deadline);
      const left = Math.max(100, deadline - Date.now());
      let outcome: { value: T } | 'reconnected' | 'expired';
      try {
        if (failed) throw failed.err;
        // The publisher's op times out by itself and fails with ReplyLostError when the connection
        // comes back: it is awaited as it is, which spares every append a promise and a timer.
        outcome = opts.honoursTimeout
          ? { value: await op(Math.min(this.o.requestTimeoutMs, left)) }
          : await this.race(op, left);
      } catch (err) {
        failed = undefined;
        if (err instanceof ReplyLostError) outcome = 'reconnected';
        else {
          if (isAmbiguous(err)) onAmbiguous?.();
          if (!isTransient(err)) throw err;
          if (Date.now() + pause >= deadline) throw this.stillFailing(what, err);
          await sleep(pause);
          continue;
        }
      }
      if (typeof outcome === 'object') return outcome.value;
      // A request sent just before a disconnection is lost without an answer: when the connection
      // comes back while it waits, it is sent again (same message id) right away instead of after
      // its timeout. The abandoned attempt's outcome is ignored.
      onAmbiguous?.();
      if (outcome === 'expired')
        throw new StoreError(
          `${what}: no reply from nats-server at ${displayServers(this.o)} within ${this.o.operationTimeoutMs} ms (outcome unknown)`,
          { servers: displayServers(this.o) },
        );
    }
  }

  /**
   * The manager's requests have a fixed timeout of their own: the deadline is enforced here, and a reconnection while
   * one waits ends the wait. One promise, settled by whichever comes first.
   */
  private async race<T>(
    op: (timeoutMs: number) => Promise<T>,
    left: number,
  ): Promise<{ value: T } | 'reconnected' | 'expired'> {
    let onReconnect: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<{ value: T } | 'reconnected' | 'expired'>((resolve, reject) => {
        this.reconnectWaiters.add((onReconnect = () => resolve('reconnected')));
        timer = setTimeout(() => resolve('expired'), left);
        op(Math.min(this.o.requestTimeoutMs, left)).then((value) => resolve({ value }), reject);
      });
    } finally {
      this.reconnectWaiters.delete(onReconnect!);
      clearTimeout(timer);
    }
  }

  private stillFailing(what: string, err: unknown): StoreError {
    return storeFailure(
      `${what}: ${describe(err)}, still failing after ${this.o.operationTimeoutMs} ms (is nats-server at ${displayServers(this.o)} up?)`,
      { servers: displayServers(this.o) },
      err,
    );
  }

  /** Creates the stream if missing, checks it takes our subjects; its replicas. */
  private async ensureStream(jsm: JetStreamManager): Promise<number> {
    const { stream, subjectPrefix, streamConfig } = this.o;
    let config;
    try {
      config = (await jsm.streams.info(stream)).config;
    } catch (err) {
      if (apiErrorCode(err) !== ERR_STREAM_NOT_FOUND) throw err;
      try {
        config = (await jsm.streams.add(streamConfig)).config;
      } catch (e) {
        if (apiErrorCode(e) !== ERR_STREAM_NAME_IN_USE) throw e;
        config = (await jsm.streams.info(stream)).config; // another engine created it meanwhile
      }
    }
    const want = `${subjectPrefix}.>`;
    if (!config.subjects?.some((s) => s === want || s === '>')) {
      throw new StoreError(
        `stream ${stream} exists but does not take subjects ${want} (it takes ${JSON.stringify(config.subjects ?? [])}): use another stream name or subject prefix`,
        { stream, subjects: config.subjects ?? [] },
      );
    }
    if (config.allow_rollup_hdrs !== true) await this.allowRollups(jsm, config);
    return config.num_replicas ?? 1;
  }

  /**
   * A stream made before the archive purged with a rollup is given `allow_rollup_hdrs`, as new streams are made (the
   * archive now deletes message by message, compare-purge.ts, and needs it no more); its other settings stay. A user that may not update streams (a person's) leaves it to an engine; the archive names the
   * setting if it is still missing when it purges.
   */
  private async allowRollups(jsm: JetStreamManager, config: StreamConfig): Promise<void> {
    try {
      await jsm.streams.update(config.name, { ...config, allow_rollup_hdrs: true });
    } catch (err) {
      if (isTransient(err)) throw err; // the set-up is tried again
    }
  }
}
