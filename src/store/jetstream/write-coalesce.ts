/**
 * Every connection ledgerflow makes writes to its socket once per event-loop turn, not once per microtask.
 *
 * Why: the client (@nats-io/nats-core) hands what a connection has to send to its transport at the end of the microtask
 * in which the first of it was queued (`sendCommand` queues `flushPending` with queueMicrotask). What answers to one
 * inbound batch publishes comes from many promise continuations (an append's reply lets its run commit the next step,
 * several awaits later), each a microtask of its own, so one batch read became several socket writes. On the shared
 * 2-core machine a write to nats-server on loopback costs ~80 µs of CPU (the kernel sends it through the stack in the
 * writer's time): `writeBuffer` was the top self-time entry of the in-process engine on JetStream (7–11%), and of the
 * cluster's engine and worker (12% and 9%).
 *
 * How: v3's transport is pluggable (transport-node's own `connect` is `setTransportFactory(NodeTransport)` then
 * `NatsConnectionImpl.connect`), so `connect` here sets a factory whose transport wraps NodeTransport and holds the
 * frames `send` is given until setImmediate: everything the turn queued goes out in one write, before the loop next
 * waits for I/O (a check phase runs before the next poll), so no message waits for a later event. Pending frames past
 * MAX_PENDING_BYTES are written at once, and `close()` writes what is pending before the socket goes (the client's
 * flush and drain end in a send or a close, so they need nothing of their own). No client code is patched.
 *
 * The factory is process-wide (the client keeps one and asks it on every connect and reconnect); this module sets it on
 * every connect, as transport-node's `connect` does, so a connection made through the latter meanwhile only loses the
 * coalescing of its later reconnects.
 */
import type { ConnectionOptions, NatsConnection, Server, Transport } from '@nats-io/nats-core/internal';
import { rememberDomain, transportLib } from './nats-lib.js';

/** Past this many pending bytes a turn's frames go out at once (the client's own inline-flush threshold is 64 KiB). */
export const MAX_PENDING_BYTES = 64 * 1024;

/** A transport that passes everything to `inner` but batches `send` per event-loop turn. */
export class CoalescingTransport implements Transport {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private queued = false;

  /** `inner`: the transport that writes (public for tests, which count its socket writes). */
  constructor(readonly inner: Transport) {}

  get isClosed(): boolean {
    return this.inner.isClosed;
  }
  get lang(): string {
    return this.inner.lang;
  }
  get version(): string {
    return this.inner.version;
  }
  get closeError(): Error | undefined {
    return this.inner.closeError;
  }

  connect(server: Server, opts: ConnectionOptions): Promise<void> {
    return this.inner.connect(server, opts);
  }
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this.inner[Symbol.asyncIterator]();
  }
  isEncrypted(): boolean {
    return this.inner.isEncrypted();
  }
  // biome-ignore lint/suspicious/noConfusingVoidType: the Transport interface says so
  closed(): Promise<void | Error> {
    return this.inner.closed();
  }

  send(frame: Uint8Array): void {
    if (frame.length === 0) return;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (this.pendingBytes >= MAX_PENDING_BYTES) this.flush();
    else if (!this.queued) {
      this.queued = true;
      setImmediate(() => {
        this.queued = false;
        this.flush();
      });
    }
  }

  /** What is pending, as one frame to the socket. */
  flush(): void {
    const frame = this.take();
    if (frame) this.inner.send(frame);
  }

  private take(): Uint8Array | null {
    if (this.pending.length === 0) return null;
    const frame = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return frame;
  }

  /**
   * Writes everything sent before the close, then closes. The client hands its buffer over on a microtask queued at the
   * first publish, and closes its transport before that microtask runs when nothing else awaits first: with
   * transport-node's own transport, 20 publishes made just before a `close()` never reached the server. One turn lets
   * them come here; they are written (and the write awaited, where the transport says when it is done: its close
   * destroys the socket, and what the socket still held with it) before the socket goes.
   */
  async close(err?: Error): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const frame = this.take();
    const inner = this.inner as Transport & { _send?(frame: Uint8Array): Promise<void> };
    if (frame && typeof inner._send === 'function')
      await inner._send(frame).catch(() => undefined); // a failed write: the close is said by the socket
    else if (frame) inner.send(frame);
    return inner.close(err);
  }

  /** A lost socket: what is pending goes with it, as it would have in the socket's own buffer (the client resends subscriptions on reconnect). */
  disconnect(): void {
    this.dropPending();
    this.inner.disconnect();
  }

  discard(): void {
    this.dropPending();
    this.inner.discard();
  }

  private dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * transport-node's `connect`, with every transport it makes a CoalescingTransport. `domain`: the JetStream domain of
 * the servers' JetStream (a station's leaf node reaches the hub's as `hub`): kept for the connection (nats-lib.ts
 * domainOf), so that every jetstream()/jetstreamManager() made on it uses the domain's API prefix.
 */
export async function connect(opts: ConnectionOptions & { domain?: string } = {}): Promise<NatsConnection> {
  const lib = transportLib();
  const { domain, ...rest } = opts;
  if (lib.hasWsProtocol(rest))
    throw lib.errors.InvalidArgumentError.format('servers', 'the node client does not support websockets');
  lib.setTransportFactory({
    factory: () => new CoalescingTransport(new lib.NodeTransport()),
    dnsResolveFn: lib.nodeResolveHost,
  });
  const nc = await lib.NatsConnectionImpl.connect(rest);
  if (domain) rememberDomain(nc, domain);
  return nc;
}
