/**
 * The nats client's values (connect, headers, its enums and NatsError),
 * loaded on first use rather than when a module naming them is imported.
 * The store and query modules hold both adapters, so every command on the
 * embedded file store imported the JetStream adapter's files, and with them
 * the whole nats client (about 60 ms of CPU per command: a tenth of a `list`)
 * without ever connecting. Modules name these from here (through
 * store/index.ts) instead of from 'nats'; types still come from 'nats'
 * (`import type`, erased).
 *
 * nats v2 is CommonJS, so the load is a synchronous require and every call
 * site stays as it was. An enum or NatsError is a proxy whose every read is
 * the real one's (a function target, so `new NatsError(…)`, `err instanceof
 * NatsError` and `NatsError.errorForCode` work); using one loads the client.
 */
import { createRequire } from 'node:module';
import type * as Nats from 'nats';

type NatsLib = typeof Nats;

/** The client itself: Node's require cache keeps the one instance the patches (request-cancel.ts, write-coalesce.ts) patch. */
export function natsLib(): NatsLib {
  return createRequire(import.meta.url)('nats') as NatsLib;
}

function lazy<K extends keyof NatsLib>(name: K): NatsLib[K] {
  return new Proxy(function lazyNatsValue() {}, {
    construct: (_target, args) => Reflect.construct(natsLib()[name] as unknown as new (...a: unknown[]) => object, args),
    apply: (_target, self, args) => Reflect.apply(natsLib()[name] as unknown as (...a: unknown[]) => unknown, self, args),
    get: (_target, key) => Reflect.get(natsLib()[name] as object, key),
    has: (_target, key) => Reflect.has(natsLib()[name] as object, key),
    ownKeys: () => Reflect.ownKeys(natsLib()[name] as object),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(natsLib()[name] as object, key);
      return d ? { ...d, configurable: true } : undefined;
    },
  }) as unknown as NatsLib[K];
}

export const connect: NatsLib['connect'] = (opts) => natsLib().connect(opts);
export const headers: NatsLib['headers'] = (...args) => natsLib().headers(...args);
export const nanos: NatsLib['nanos'] = (millis) => natsLib().nanos(millis);
export const createInbox: NatsLib['createInbox'] = (prefix) => natsLib().createInbox(prefix);

export const AckPolicy = lazy('AckPolicy');
export const ConsumerEvents = lazy('ConsumerEvents');
export const DeliverPolicy = lazy('DeliverPolicy');
export const DiscardPolicy = lazy('DiscardPolicy');
export const ErrorCode = lazy('ErrorCode');
export const Events = lazy('Events');
export const KvWatchInclude = lazy('KvWatchInclude');
export const NatsError = lazy('NatsError');
export const RetentionPolicy = lazy('RetentionPolicy');
export const StorageType = lazy('StorageType');

// The enums and NatsError are types too, as they are in 'nats'.
export type AckPolicy = Nats.AckPolicy;
export type ConsumerEvents = Nats.ConsumerEvents;
export type DeliverPolicy = Nats.DeliverPolicy;
export type DiscardPolicy = Nats.DiscardPolicy;
export type ErrorCode = Nats.ErrorCode;
export type Events = Nats.Events;
export type KvWatchInclude = Nats.KvWatchInclude;
export type NatsError = Nats.NatsError;
export type RetentionPolicy = Nats.RetentionPolicy;
export type StorageType = Nats.StorageType;
