/**
 * Every request of the `nats` v2 client (each JetStream publish, ack-ed
 * consumer call and KV write is one) ends in `RequestOne.cancel()`, which
 * rejects the request's already settled promise with a fresh
 * `NatsError(CANCELLED)`: an Error, so V8 captures a stack trace, after
 * every successful request. On the cluster path that was 7–8% of the engine
 * and worker's CPU (bench/cluster.ts with --cpu-prof, 2026-11-23). The
 * maintained client line (@nats-io/nats-core 3.4) does the same with
 * `new RequestError("cancelled")`, so moving to it would not remove it.
 *
 * Here `cancel()` without an error rejects with one shared error instead: the
 * rejection nobody can observe after a reply (the promise has settled) costs
 * nothing, and a request really cancelled (its connection closing) still
 * rejects with a NatsError of code CANCELLED, only without a stack of its own.
 * Installed once per process, by the engine and the worker.
 */
import { createRequire } from 'node:module';
import { ErrorCode, NatsError } from '../../store/index.js';

interface RequestOneProto {
  cancel(this: { timer?: { cancel(): void }; mux: { cancel(r: unknown): void }; deferred: { reject(e: unknown): void } }, err?: unknown): void;
  __lfSharedCancel?: true;
}

let installed = false;

export function shareRequestCancelError(): void {
  if (installed) return;
  installed = true;
  const proto = (createRequire(import.meta.url)('nats/lib/nats-base-client/request.js') as { RequestOne?: { prototype: RequestOneProto } }).RequestOne?.prototype;
  // Another version of the client without this shape: leave it as it is.
  if (!proto || typeof proto.cancel !== 'function' || proto.__lfSharedCancel) return;
  const cancelled = NatsError.errorForCode(ErrorCode.Cancelled);
  proto.cancel = function cancel(err?: unknown): void {
    this.timer?.cancel();
    this.mux.cancel(this);
    this.deferred.reject(err ?? cancelled);
  };
  proto.__lfSharedCancel = true;
}
