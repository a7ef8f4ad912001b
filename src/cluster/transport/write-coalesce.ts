/**
 * Every connection of an engine or worker process writes once per event
 * loop turn, not once per microtask (store/jetstream/write-coalesce.ts says
 * why): an engine answering one delivery publishes from several promise
 * continuations (the commit, the offer, the ack, the runs index), and
 * `writeBuffer` was the top self-time entry of the engine and the worker
 * (12% and 9%, bench/cluster.ts with --cpu-prof, 2026-11-24). Installed once
 * per process, by the engine and the worker, on the client's ProtocolHandler
 * class; the JetStream store does the same for its own connection wherever
 * it runs.
 */
import { createRequire } from 'node:module';
import { coalesceWrites } from '../../store/jetstream/write-coalesce.js';

let installed = false;

export function coalesceSocketWrites(): void {
  if (installed) return;
  installed = true;
  // Another version of the client without this shape is left as it is.
  coalesceWrites((createRequire(import.meta.url)('nats/lib/nats-base-client/protocol.js') as { ProtocolHandler?: { prototype: unknown } }).ProtocolHandler?.prototype);
}
