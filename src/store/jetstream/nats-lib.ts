/**
 * The NATS client's values (connect, jetstream(), Kvm, headers, its enums and error classes), loaded on first use
 * rather than when a module naming them is imported. The store and query modules hold both adapters, so every command
 * on the embedded file store imported the JetStream adapter's files, and with them the whole client (about 60 ms of CPU
 * per command: a tenth of a `list`) without ever connecting. Modules name these from here (through store/index.ts)
 * instead of from '@nats-io/*'; types still come from the packages (`import type`, erased).
 *
 * The @nats-io v3 packages ship CommonJS in lib/, so the load is a synchronous require and every call site stays
 * synchronous. An enum or error class is a proxy whose every read is the real one's (a function target, so `new
 * TimeoutError()` and `err instanceof TimeoutError` work); using one loads the client.
 */
import { createRequire } from 'node:module';
import type * as Core from '@nats-io/nats-core';
import type * as Js from '@nats-io/jetstream';
import type * as Kv from '@nats-io/kv';
import type * as Obj from '@nats-io/obj';
import type * as JsInternal from '@nats-io/jetstream/internal';
import type * as Node from '@nats-io/transport-node';
import type { Transport } from '@nats-io/nats-core/internal';

/** The installed packages, as a library: one copy with a user's own connection, which they hand to an engine or worker. */
const nodeRequire = createRequire(import.meta.url);
/**
 * In the `ledgerflow` command's bundle (scripts/build-cli.mjs defines it) the client is part of the bundle and
 * compiled from its code cache as the rest is: about 60 ms of CPU less for each command, engine and worker on NATS.
 * Each `require` of a literal name below is for the bundler to follow; it runs only there.
 */
declare const __LEDGERFLOW_BUNDLED_NATS__: boolean | undefined;
const bundled = typeof __LEDGERFLOW_BUNDLED_NATS__ === 'boolean';

/**
 * What was loaded, marked: test/cli/file-store-no-nats.test.ts checks that a command on the file store loads no
 * NATS client, and the client bundled into the command has no files of its own to see loaded.
 */
const LOADED = Symbol.for('ledgerflow.natsClientLoaded');
function loaded<T>(mod: T): T {
  (globalThis as Record<symbol, unknown>)[LOADED] = true;
  return mod;
}

/**
 * Each package required once, then kept: a `require` resolves its name again on every call (file system stats
 * under a loader hook such as tsx's), and headers(), an `instanceof TimeoutError` and the like run per message:
 * 3% of an engine's CPU on the cluster path (bench/cluster.ts with --cpu-prof) before they were kept.
 */
let coreMod: typeof Core | undefined;
let jsMod: typeof Js | undefined;
let kvMod: typeof Kv | undefined;
function core(): typeof Core {
  return (coreMod ??= loaded(
    bundled ? require('@nats-io/nats-core') : nodeRequire('@nats-io/nats-core'),
  ) as typeof Core);
}
function js(): typeof Js {
  return (jsMod ??= loaded(bundled ? require('@nats-io/jetstream') : nodeRequire('@nats-io/jetstream')) as typeof Js);
}
let objMod: typeof Obj | undefined;
/** @nats-io/obj (the payload blobs' Object Store bucket, store/blobs/jetstream.ts), loaded on first use as the others. */
function obj(): typeof Obj {
  return (objMod ??= loaded(bundled ? require('@nats-io/obj') : nodeRequire('@nats-io/obj')) as typeof Obj);
}
function kv(): typeof Kv {
  return (kvMod ??= loaded(bundled ? require('@nats-io/kv') : nodeRequire('@nats-io/kv')) as typeof Kv);
}

/**
 * transport-node's internals (NatsConnectionImpl, setTransportFactory: its
 * mod re-exports nats-core/internal) and its NodeTransport, for connect.ts.
 */
export function transportLib(): typeof Node & {
  NodeTransport: new () => Transport;
  nodeResolveHost(s: string): Promise<string[]>;
} {
  loaded(null);
  return bundled
    ? { ...require('@nats-io/transport-node'), ...require('@nats-io/transport-node/lib/node_transport') }
    : { ...nodeRequire('@nats-io/transport-node'), ...nodeRequire('@nats-io/transport-node/lib/node_transport') };
}

/**
 * A JsMsg (ack, nak, working, info) for a message a consumer delivered on a request of our own: the one no-wait pull of
 * a worker's priority sweep (v2's `js.pull`, gone in v3, whose consumers wait at least a second for an empty one). The
 * package exports it to none of its entry points; it is loaded from the package's own folder, which its `exports` map
 * does not govern.
 */
let jsMsgOf: ((m: Core.Msg, ackTimeout?: number) => Js.JsMsg) | undefined;
export function toJsMsg(m: Core.Msg, ackTimeout?: number): Js.JsMsg {
  // In the command's bundle, build-cli.mjs resolves this name to the package's own file.
  jsMsgOf ??= (
    (bundled
      ? require('@nats-io/jetstream/lib/jsmsg.js')
      : createRequire(nodeRequire.resolve('@nats-io/jetstream'))('./jsmsg.js')) as {
      toJsMsg(m: Core.Msg, ackTimeout?: number): Js.JsMsg;
    }
  ).toJsMsg;
  return jsMsgOf(m, ackTimeout);
}

function lazy<T extends object>(loadOnce: () => T): T {
  let loaded: T | undefined;
  const load = () => (loaded ??= loadOnce());
  return new Proxy(function lazyNatsValue() {}, {
    construct: (_target, args) => Reflect.construct(load() as unknown as new (...a: unknown[]) => object, args),
    apply: (_target, self, args) => Reflect.apply(load() as unknown as (...a: unknown[]) => unknown, self, args),
    get: (_target, key) => Reflect.get(load(), key),
    has: (_target, key) => Reflect.has(load(), key),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d ? { ...d, configurable: true } : undefined;
    },
  }) as unknown as T;
}

export const headers: typeof Core.headers = (...args) => core().headers(...args);
export const nanos: typeof Core.nanos = (millis) => core().nanos(millis);
export const createInbox: typeof Core.createInbox = (prefix) => core().createInbox(prefix);
/**
 * The JetStream domain a connection reaches JetStream in (connect's `domain`), one place for every
 * call site: jetstream() and jetstreamManager() below take it when not told otherwise, so a client on
 * a station's leaf node (no JetStream of its own) uses the hub's through `$JS.<domain>.API`, and
 * buckets made on such a client put through it too (@nats-io/kv prefixes a put with the API prefix
 * when it is not `$JS.API`; the hub maps `$JS.<domain>.API.$KV.>` to `$KV.>`).
 */
const domains = new WeakMap<object, string>();
export function rememberDomain(nc: object, domain: string): void {
  domains.set(nc, domain);
}
export function domainOf(nc: object): string | undefined {
  return domains.get(nc);
}
const withDomain = <O extends { domain?: string; apiPrefix?: string }>(
  nc: object,
  opts: O | undefined,
): O | undefined => {
  const domain = domains.get(nc);
  return domain === undefined || opts?.domain !== undefined || opts?.apiPrefix !== undefined
    ? opts
    : ({ ...opts, domain } as O);
};
/** The JetStream API prefix of a connection: `$JS.API`, or `$JS.<domain>.API` (for requests ledgerflow makes by hand). */
export function apiPrefix(nc: object): string {
  const domain = domains.get(nc);
  return domain === undefined ? '$JS.API' : `$JS.${domain}.API`;
}
/**
 * The subject a plain publish writes `key` of bucket `bucket` on: `$KV.<bucket>.<key>`, or through
 * the domain's API (a leaf node passes no `$KV.>` to a hub whose JetStream it does not extend).
 */
export function kvPutSubject(nc: object, bucket: string, key: string): string {
  const domain = domains.get(nc);
  return domain === undefined ? `$KV.${bucket}.${key}` : `$JS.${domain}.API.$KV.${bucket}.${key}`;
}
export const jetstream: typeof Js.jetstream = (nc, opts) => js().jetstream(nc, withDomain(nc, opts));
export const jetstreamManager: typeof Js.jetstreamManager = (nc, opts) =>
  js().jetstreamManager(nc, withDomain(nc, opts));

export const Kvm = lazy(() => kv().Kvm);
export const Objm = lazy(() => obj().Objm);
export const KvWatchInclude = lazy(() => kv().KvWatchInclude);
export const AckPolicy = lazy(() => js().AckPolicy);
export const DeliverPolicy = lazy(() => js().DeliverPolicy);
export const DiscardPolicy = lazy(() => js().DiscardPolicy);
export const RetentionPolicy = lazy(() => js().RetentionPolicy);
export const StorageType = lazy(() => js().StorageType);
export const JetStreamApiError = lazy(() => js().JetStreamApiError);
export const JetStreamError = lazy(() => js().JetStreamError);
/** What js.publish rejects with when nothing answers (no stream takes the subject); only the package's /internal entry exports it. */
export const JetStreamNotEnabled: new (message: string, opts?: ErrorOptions) => Error = lazy(
  () =>
    (
      (bundled
        ? require('@nats-io/jetstream/internal')
        : nodeRequire('@nats-io/jetstream/internal')) as typeof JsInternal
    ).jserrors.JetStreamNotEnabled,
);
export const AuthorizationError = lazy(() => core().AuthorizationError);
export const ClosedConnectionError = lazy(() => core().ClosedConnectionError);
export const InvalidArgumentError = lazy(() => core().InvalidArgumentError);
export const NoRespondersError = lazy(() => core().NoRespondersError);
export const RequestError = lazy(() => core().RequestError);
export const TimeoutError = lazy(() => core().TimeoutError);

// The enums and error classes are types too, as they are in the packages.
export type Kvm = Kv.Kvm;
export type Objm = Obj.Objm;
export type KvWatchInclude = Kv.KvWatchInclude;
export type AckPolicy = Js.AckPolicy;
export type DeliverPolicy = Js.DeliverPolicy;
export type DiscardPolicy = Js.DiscardPolicy;
export type RetentionPolicy = Js.RetentionPolicy;
export type StorageType = Js.StorageType;
export type JetStreamApiError = Js.JetStreamApiError;
export type JetStreamError = Js.JetStreamError;
export type AuthorizationError = Core.AuthorizationError;
export type ClosedConnectionError = Core.ClosedConnectionError;
export type InvalidArgumentError = Core.InvalidArgumentError;
export type NoRespondersError = Core.NoRespondersError;
export type RequestError = Core.RequestError;
export type TimeoutError = Core.TimeoutError;
