/**
 * A person's input to a cluster (an approval, a signal, run control) is published as their own NATS user, on a
 * connection of its own (nats.conf lets a user publish under its own name only), after listening for the engine's
 * verdict on it. ClusterClient does this for three kinds of input in the same way; this is that way, once.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { connect, domainOf, isNoResponders as noRespondersWithin, jetstream } from '../../store/index.js';
import type { z } from 'zod';
import { toStoreError } from '../../store/jetstream/codec.js';
import {
  errorMessage,
  LedgerflowError,
  natsFailure,
  permissionDenied,
  type ErrorOptions,
  type JsonSafe,
} from '../../errors/index.js';
import { createRetrying, credentials, decodeOrUndefined, REQUESTS_LIMITS, safeSubject } from '../transport/index.js';

/**
 * Subscribes to a verdict subject (flushed, so the server has the interest before anything is published) and resolves
 * with the first valid verdict, or null when none comes within `waitMs` or the subscription is refused.
 */
export async function listenForVerdict<T>(
  nc: NatsConnection,
  subject: string,
  schema: z.ZodType<T>,
  waitMs: number,
): Promise<{ next: Promise<T | null> }> {
  const sub = nc.subscribe(subject, { max: 1, timeout: waitMs });
  await nc.flush();
  const next = (async () => {
    try {
      for await (const m of sub) {
        const parsed = schema.safeParse(decodeOrUndefined(m.data));
        if (parsed.success) return parsed.data;
      }
    } catch {
      // A timeout, or a server that does not let this user listen there (an older nats.conf): no verdict.
    }
    return null;
  })();
  return { next };
}

export interface UserPublish<V> {
  /** The NATS URL, with the user's credentials. */
  readonly url: string;
  /** The connection's name (`ledgerflow-<what>`). */
  readonly connectionName: string;
  /** Who publishes, as a refused connection names them. */
  readonly as: string;
  /**
   * The subjects are worked out once connected, each when first needed: a name that is no subject token is then refused
   * (`refused`) like any publish that fails.
   */
  readonly subject: () => string;
  /** The body, or what makes it on the connection (a start that uploads its large fields first: transport/uploads.ts). */
  readonly body: Uint8Array | ((nc: NatsConnection) => Promise<Uint8Array>);
  /** Where and how long to listen for the engine's verdict; 0 ms: not at all. */
  readonly verdict: { readonly subject: () => string; readonly schema: z.ZodType<V>; readonly waitMs: number };
  /** The error a failed publish becomes (permissions, no stream yet, anything else). */
  readonly refused: (failure: PublishFailure) => Error;
}

/** Why a publish failed, from the client's error's fields. */
export interface PublishFailure {
  readonly message: string;
  /** The subject nats.conf refused this user ('' when it named none); null when that was not why. */
  readonly forbidden: string | null;
  /** No stream takes the subject (NATS answered "no responders"). */
  readonly noStream: boolean;
  /** The JetStream domain the connection used (a station's leaf node: docs/nats.md#stations), if any. */
  readonly domain?: string;
}

/** NATS's "no responders": nobody (no stream) listens on the subject yet. */
function isNoResponders(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown } | null;
  return e?.code === '503' || e?.name === 'NoRespondersError';
}

type Meta = Record<string, JsonSafe | undefined>;

/**
 * The error a failed publish of one kind of input becomes, said the same way for each: `words.forbidden`
 * (a permissions violation: a permission error naming the subject refused), `words.noStream` (no stream
 * takes it yet), or `words.failed`, each with the client's own words where they help.
 */
export function refusal<E extends Error>(
  make: (message: string, meta: Meta, options?: ErrorOptions) => E,
  words: { readonly forbidden: string; readonly noStream: string; readonly failed: string },
  meta: Meta,
): (f: PublishFailure) => E {
  return (f) =>
    f.forbidden !== null
      ? make(`${words.forbidden}: ${f.message}`, { ...meta, forbidden: f.forbidden }, { kind: 'permission' })
      : make(
          f.noStream ? (f.domain ? stationUnlinked(f.domain) : words.noStream) : `${words.failed}: ${f.message}`,
          meta,
        );
}

/** Nothing answers through a station's leaf node: its link to the hub is down (or the hub's JetStream is). */
function stationUnlinked(domain: string): string {
  return `no JetStream of domain ${domain} answers through this server (a station's leaf node whose link to the hub is down?): nothing was recorded; send it again once the link is up (docs/nats.md#stations)`;
}

/**
 * Publishes `body` as the URL's user, listening for the verdict first (the engine's verdict cannot come before we
 * listen); the verdict, or null when none was asked for or came in time. A connection refused is a StoreError; a
 * publish that fails, `refused(its message)`.
 */
export async function publishAsUser<V>(p: UserPublish<V>): Promise<V | null> {
  const { servers } = credentials(p.url);
  // The same words as the store's for a refused connection (a wrong password is not a crash).
  const nc = await connect({ ...credentials(p.url), name: p.connectionName }).catch((err: unknown) => {
    throw toStoreError(err, `cannot use NATS at ${servers} as ${p.as}`, { servers });
  });
  try {
    const listening =
      p.verdict.waitMs > 0 ? await listenForVerdict(nc, p.verdict.subject(), p.verdict.schema, p.verdict.waitMs) : null;
    const body = typeof p.body === 'function' ? await p.body(nc) : p.body;
    // 503: no stream takes the subject yet (its streams are being created, or an older cluster lacks it): wait a little.
    await createRetrying(() => jetstream(nc).publish(p.subject(), body), 5_000, isNoResponders);
    return listening ? await listening.next : null;
  } catch (err) {
    // Said already in ledgerflow's words (an upload refused: transport/uploads.ts).
    if (err instanceof LedgerflowError) throw err;
    // A full request stream (its bounds: LF_REQUESTS) or a full server is said as such, never as the client's words alone.
    const full = fullness(err, safeSubject(p.subject) ?? '');
    if (full) throw full;
    // Through a station's leaf node the client says no responders inside a JetStreamNotEnabled: the hub's JetStream is out of reach.
    const domain = domainOf(nc);
    const noStream = isNoResponders(err) || (domain !== undefined && noRespondersWithin(err));
    throw p.refused({
      message: errorMessage(err),
      forbidden: permissionDenied(err),
      noStream,
      ...(domain ? { domain } : {}),
    });
  } finally {
    await nc.close();
  }
}

/** The stream refused the message for its own bounds (discard new), or the server's store is full; null otherwise. */
export function fullness(err: unknown, subject: string): LedgerflowError | null {
  const message = errorMessage(err);
  if (/^lf\.(starts|deploys|limits)\./.test(subject) && /maximum messages per subject exceeded/i.test(message)) {
    return new LedgerflowError(
      'LF_REQUESTS_FULL',
      `your own requests fill your share of the engines' request queue (LF_REQUESTS: at most ${REQUESTS_LIMITS.maxPerSender} of each kind wait per person): no engine has taken them (one is down or far behind); nothing was recorded. Start an engine, or try again once the engines have taken yours (${message})`,
      { perSender: REQUESTS_LIMITS.maxPerSender },
    );
  }
  if (/^lf\.(starts|deploys|limits)\./.test(subject) && /maximum (bytes|messages) exceeded/i.test(message)) {
    return new LedgerflowError(
      'LF_REQUESTS_FULL',
      `the engines' request queue (LF_REQUESTS) is full: no engine has taken what waits there (one is down or far behind, or someone floods it); nothing was recorded. Start an engine, or try again once the engines have caught up (${message})`,
      {},
    );
  }
  const nats = natsFailure(err);
  return nats?.code === 'LF_NATS_STORAGE_FULL' ? new LedgerflowError(nats.code, nats.message, {}) : null;
}
