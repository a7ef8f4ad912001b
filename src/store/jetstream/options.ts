/**
 * Settings of the JetStream store: where the server is (URL, credentials) and the stream it creates on first use. Every
 * stream setting here is only used when the stream does not exist yet; an existing stream is left as its operator
 * configured it, but for rollups, which the archive's purge needs (connection.ts allows them on a stream made without).
 */
import type { StreamConfig } from '@nats-io/jetstream';
import { DiscardPolicy, RetentionPolicy, StorageType, nanos } from './nats-lib.js';
import { StoreError } from '../../errors/index.js';

export interface JetStreamStoreOptions {
  /** `nats://host:4222`, `nats://user:pass@host:4222`, a comma-separated list, or an array of them. */
  servers: string | string[];
  /** Credentials; they override any in the URL. A URL with a user and no password means a token. */
  user?: string;
  pass?: string;
  token?: string;
  /**
   * The JetStream domain to reach JetStream in (default: the URL's `?domain=`, else
   * $LEDGERFLOW_NATS_DOMAIN, else none): `hub` for a client of a station's leaf node (docs/nats.md#stations).
   */
  domain?: string;
  /** Connection name shown by the server's monitoring (default `ledgerflow`). */
  name?: string;
  /** Stream name (default `LF_EVENTS`). */
  stream?: string;
  /** Subject prefix: a run lives on `<prefix>.<workflowId>.<runId>` (default `lf.events`). */
  subjectPrefix?: string;
  /** Stream replicas (default 1; 3 on a cluster for a log that survives a lost disk). */
  replicas?: number;
  /** Stream storage (default `file`). */
  storage?: 'file' | 'memory';
  /** How long the server remembers a dedup id (default 120000 ms). */
  duplicateWindowMs?: number;
  /** Retention limits; 0 / -1 mean none (the default: the log is the truth, it is not aged out). */
  maxAgeMs?: number;
  maxBytes?: number;
  maxMsgs?: number;
  /** Largest commit the stream accepts in bytes (default -1: the server's max_payload). */
  maxMsgSize?: number;
  /** Bytes the large payloads' bucket LF_BLOBS may hold (default: the largest of 1 GiB … 64 MiB the server can reserve). */
  blobsMaxBytes?: number;
  /** What happens when a limit is hit (default `new`: refuse appends rather than drop old history). */
  discard?: 'old' | 'new';
  /** Timeout of each request to the server (default 5000 ms). */
  requestTimeoutMs?: number;
  /** How long one store call keeps retrying through timeouts and disconnections before a StoreError (default 30000 ms). */
  operationTimeoutMs?: number;
  /** Wait between reconnection attempts (default 250 ms). Reconnection never gives up. */
  reconnectTimeWaitMs?: number;
  /** Timeout of the first connection (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Per-run position cache size (runs; default 100000). Only spares a lookup: never authoritative. */
  cacheSize?: number;
}

/** The options with their defaults filled in, and the stream's configuration made of them. */
export type ResolvedOptions = Pick<JetStreamStoreOptions, 'user' | 'pass' | 'token' | 'domain'> &
  Required<
    Pick<
      JetStreamStoreOptions,
      | 'name'
      | 'stream'
      | 'subjectPrefix'
      | 'requestTimeoutMs'
      | 'operationTimeoutMs'
      | 'reconnectTimeWaitMs'
      | 'connectTimeoutMs'
      | 'cacheSize'
    >
  > &
  Pick<JetStreamStoreOptions, 'blobsMaxBytes'> & {
    servers: string[];
    streamConfig: Partial<StreamConfig> & { name: string };
  };

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A JetStream domain: one subject token (it becomes `$JS.<domain>.API`). */
const DOMAIN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function checkDomain(domain: string, where: string): string {
  if (!DOMAIN_NAME.test(domain))
    throw new StoreError(`invalid JetStream domain ${JSON.stringify(domain)} (${where}): use 1-64 of A-Z a-z 0-9 _ -`, {
      domain,
    });
  return domain;
}
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Splits credentials out of server URLs (nats.js does not read them from the URL): `nats://alice:s3cret@host:4222` →
 * server `nats://host:4222`, user `alice`, pass `s3cret`. Percent-encoded characters are decoded. A cluster is a
 * comma-separated list (`nats://alice:s3cret@a:4222,nats://b:4222`): credentials on any of its URLs apply to all.
 * `?domain=hub` on a URL (any of the list's; they must agree) is the JetStream domain to use, else
 * $LEDGERFLOW_NATS_DOMAIN: what a client of a station's leaf node gives.
 */
export function parseServers(servers: string | string[]): {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  domain?: string;
} {
  const list = (Array.isArray(servers) ? servers : servers.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new StoreError('no NATS server given: pass a URL such as nats://127.0.0.1:4222', {});
  const out: { servers: string[]; user?: string; pass?: string; token?: string; domain?: string } = { servers: [] };
  for (const raw of list) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `nats://${raw}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch (err) {
      throw new StoreError(`invalid NATS server URL ${JSON.stringify(raw)}`, { url: raw }, { cause: err });
    }
    if (url.username !== '') {
      const user = decodeURIComponent(url.username);
      const given = url.password !== '' ? { user, pass: decodeURIComponent(url.password) } : { token: user };
      // One connection has one identity: credentials given on several URLs of a cluster must agree.
      if (out.user !== undefined || out.token !== undefined) {
        if (given.user !== out.user || given.pass !== out.pass || given.token !== out.token) {
          throw new StoreError(
            'the NATS server URLs carry different credentials: one connection is one user; give them on one URL (they apply to all) or the same on each',
            { servers: list.length },
          );
        }
      }
      Object.assign(out, given);
    }
    const domain = url.searchParams.get('domain');
    if (domain !== null) {
      if (out.domain !== undefined && out.domain !== domain)
        throw new StoreError(
          'the NATS server URLs name different JetStream domains (?domain=): give it on one URL (it applies to all)',
          { servers: list.length },
        );
      out.domain = checkDomain(domain, "the URL's ?domain=");
    }
    out.servers.push(`${url.protocol}//${url.host}`);
  }
  const env = process.env.LEDGERFLOW_NATS_DOMAIN;
  if (out.domain === undefined && env) out.domain = checkDomain(env, 'LEDGERFLOW_NATS_DOMAIN');
  return out;
}

/** The servers as they can be shown (no credentials). */
export function displayServers(o: ResolvedOptions): string {
  return o.servers.join(',');
}

export function resolveOptions(opts: JetStreamStoreOptions): ResolvedOptions {
  const parsed = parseServers(opts.servers);
  const stream = opts.stream ?? 'LF_EVENTS';
  const subjectPrefix = opts.subjectPrefix ?? 'lf.events';
  if (!STREAM_NAME.test(stream))
    throw new StoreError(`invalid stream name ${JSON.stringify(stream)}: use 1-64 of A-Z a-z 0-9 _ -`, { stream });
  if (!PREFIX.test(subjectPrefix)) {
    throw new StoreError(
      `invalid subject prefix ${JSON.stringify(subjectPrefix)}: dot-separated tokens of A-Z a-z 0-9 _ -`,
      { subjectPrefix },
    );
  }
  const ms = (v: number | undefined, d: number) => (v === undefined ? d : v);
  const limits = (v: number | undefined) => (v === undefined || v <= 0 ? -1 : v);
  return {
    servers: parsed.servers,
    user: opts.user ?? parsed.user,
    pass: opts.pass ?? parsed.pass,
    token: opts.token ?? parsed.token,
    ...((opts.domain ?? parsed.domain) ? { domain: checkDomain((opts.domain ?? parsed.domain)!, 'domain') } : {}),
    name: opts.name ?? 'ledgerflow',
    stream,
    subjectPrefix,
    requestTimeoutMs: ms(opts.requestTimeoutMs, 5000),
    operationTimeoutMs: ms(opts.operationTimeoutMs, 30_000),
    reconnectTimeWaitMs: ms(opts.reconnectTimeWaitMs, 250),
    connectTimeoutMs: ms(opts.connectTimeoutMs, 5000),
    cacheSize: Math.max(1, opts.cacheSize ?? 100_000),
    ...(opts.blobsMaxBytes ? { blobsMaxBytes: opts.blobsMaxBytes } : {}),
    streamConfig: {
      name: stream,
      subjects: [`${subjectPrefix}.>`],
      storage: opts.storage === 'memory' ? StorageType.Memory : StorageType.File,
      num_replicas: opts.replicas ?? 1,
      retention: RetentionPolicy.Limits,
      discard: opts.discard === 'old' ? DiscardPolicy.Old : DiscardPolicy.New,
      duplicate_window: nanos(ms(opts.duplicateWindowMs, 120_000)),
      max_age: opts.maxAgeMs && opts.maxAgeMs > 0 ? nanos(opts.maxAgeMs) : 0,
      max_bytes: limits(opts.maxBytes),
      max_msgs: limits(opts.maxMsgs),
      max_msg_size: limits(opts.maxMsgSize),
      max_msgs_per_subject: -1,
      // Set since the archive emptied a run's subject with a rollup; it now deletes message by message (compare-purge.ts:
      // a rollup moved nats-server 2.9's consumers). Kept so that streams made before and after stay alike.
      allow_rollup_hdrs: true,
    },
  };
}
