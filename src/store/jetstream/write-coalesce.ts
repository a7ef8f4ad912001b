/**
 * The `nats` v2 client writes what a connection has to send at the end of
 * the microtask in which the first of it was queued (`sendCommand` queues
 * `flushPending` with queueMicrotask). What answers to one inbound batch
 * publishes comes from many promise continuations (an append's reply lets
 * its run commit the next step, several awaits later), each a microtask of
 * its own, so one batch read became several socket writes. On the shared
 * 2-core machine a write to nats-server on loopback costs ~80 µs of CPU
 * (the kernel sends it through the stack in the writer's time): `writeBuffer`
 * was the top self-time entry of the in-process engine on JetStream (7–11%,
 * 2026-11-24), and of the cluster's engine and worker before that.
 *
 * Here the flush waits for setImmediate: everything the event loop's turn
 * queued goes out in one write, before the loop next waits for I/O (a check
 * phase runs before the next poll), so no message waits for a later event.
 * A buffer past the client's own limit is still written at once, and
 * `flush()`, `drain()` and `close()` write what is pending first.
 *
 * `coalesceWrites` applies to one protocol handler (the store's own
 * connection: other connections of the process are left as they are) or to
 * the class's prototype (cluster/transport/write-coalesce.ts: every connection of an
 * engine or worker process). Internal to src/store and src/cluster.
 */
interface ProtocolLike {
  sendCommand(this: ProtocolState, cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
  close(this: ProtocolState): Promise<void>;
  __lfCoalesced?: true;
}
interface ProtocolState {
  outbound: { size(): number; fill(buf: Uint8Array, ...payloads: Uint8Array[]): void };
  pendingLimit: number;
  flushPending(): void;
  __lfFlushQueued?: boolean;
}

/**
 * Makes `target` (a nats.js ProtocolHandler, or its prototype) write once
 * per event loop turn. False, and `target` left as it is, when it does not
 * have the shape this was written against (another version of the client).
 */
export function coalesceWrites(target: unknown): boolean {
  const t = target as Partial<ProtocolLike> | null | undefined;
  if (!t || typeof t.sendCommand !== 'function' || typeof t.close !== 'function') return false;
  if (t.__lfCoalesced) return true;
  t.sendCommand = function sendCommand(cmd, ...payloads) {
    // A command line as UTF-8 bytes, as the client's TextEncoder makes them; Buffer.from cuts small ones from Node's pool, cheaper.
    this.outbound.fill(typeof cmd === 'string' ? Buffer.from(cmd, 'utf8') : cmd, ...payloads);
    if (this.outbound.size() >= this.pendingLimit) {
      this.flushPending();
    } else if (!this.__lfFlushQueued) {
      this.__lfFlushQueued = true;
      setImmediate(() => {
        this.__lfFlushQueued = false;
        this.flushPending();
      });
    }
  };
  // A close does not write what is pending (the transport sends nothing more before it destroys the
  // socket): with the flush on a microtask, what was published just before a close went out first. Now
  // the close writes it itself.
  const close = t.close;
  t.close = function closeAfterPending() {
    this.flushPending();
    return close.call(this);
  };
  t.__lfCoalesced = true;
  return true;
}
