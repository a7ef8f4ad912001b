/**
 * One notification to one target, tried until it is delivered or the tries run out (the edge: HTTP and NATS). A webhook
 * gets a POST of the JSON body with `Idempotency-Key: <notification id>`, through Node's own fetch; each try is cut off
 * after `timeoutMs`. A NATS target gets a publish on its subject with the id as `Nats-Msg-Id` (a stream on lf.notify.>
 * keeps one copy per id), flushed so the server has it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { backoffAfter, type DeliverySettings } from './config.js';
import type { NotificationBody, NotificationTarget } from './rules.js';
import { errorMessage } from '../errors/index.js';
import { defaultSecrets, masker, NO_MASK, type Masker, type SecretsProvider } from '../secrets/index.js';

export type DeliveryOutcome =
  | { delivered: true; attempts: number; statusCode?: number }
  | { delivered: false; attempts: number; error: string; stopped?: true };

/** A try that failed; `final`: trying again cannot help (a 4xx other than 408/425/429, a redirect). */
class TryFailed extends Error {
  constructor(
    message: string,
    readonly final = false,
  ) {
    super(message);
  }
}

interface DeliverOptions {
  settings: DeliverySettings;
  /** For NATS targets; without it they cannot be delivered. */
  nats?: NatsConnection;
  /** Makes NATS message headers (the nats module's `headers()`, given by the caller so this file imports nothing of nats at run time). */
  natsHeaders?: () => MsgHdrs;
  /** Stops waiting between tries and the try under way (the process is stopping): the result then says so. */
  signal?: AbortSignal;
  /** Where `${secrets.NAME}` in a webhook's URL and headers is read (default: LEDGERFLOW_SECRETS_FILE, then the environment). */
  secrets?: SecretsProvider;
  /** Told of each failed try (what, which try, the wait before the next). */
  onRetry?: (error: string, attempt: number, waitMs: number) => void;
}

const RETRYABLE_4XX = [408, 425, 429];

async function tryWebhook(
  target: Extract<NotificationTarget, { kind: 'webhook' }>,
  text: string,
  id: string,
  o: DeliverOptions,
): Promise<number> {
  const timeout = AbortSignal.timeout(o.settings.timeoutMs);
  const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      body: text,
      headers: {
        ...target.headers,
        'content-type': 'application/json',
        'idempotency-key': id,
        'user-agent': 'ledgerflow-notify',
      },
    });
  } catch (err) {
    if (timeout.aborted) throw new TryFailed(`no answer within ${o.settings.timeoutMs} ms`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new TryFailed(`${errorMessage(err)}${cause ? ` (${cause.code ?? cause.message ?? ''})` : ''}`);
  }
  // The body is not read: drop it, so the connection is freed.
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return res.status;
  if (res.status >= 300 && res.status < 400)
    throw new TryFailed(`HTTP ${res.status} (a redirect: give the webhook's final URL)`, true);
  throw new TryFailed(
    `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
    res.status < 500 && !RETRYABLE_4XX.includes(res.status),
  );
}

async function tryNats(
  target: Extract<NotificationTarget, { kind: 'nats' }>,
  text: string,
  id: string,
  o: DeliverOptions,
): Promise<void> {
  if (!o.nats || !o.natsHeaders)
    throw new TryFailed(
      'no NATS connection: nats: true notifications are published by engines on NATS JetStream',
      true,
    );
  const h = o.natsHeaders();
  h.set('Nats-Msg-Id', id);
  o.nats.publish(target.subject, new TextEncoder().encode(text), { headers: h });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      o.nats.flush(),
      new Promise((_r, reject) => {
        timer = setTimeout(
          () => reject(new TryFailed(`the NATS server did not confirm within ${o.settings.timeoutMs} ms`)),
          o.settings.timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const SECRET_REF = /\$\{secrets\.([A-Za-z_][A-Za-z0-9_]{0,127})\}/g;

/**
 * A webhook's URL and header values with their `${secrets.NAME}` put in, read now (each delivery: a changed secret
 * takes effect at the next one), and the mask its errors get. The target itself (and its `key`, what the history's
 * notes name) keeps the references. A missing secret: the delivery fails, naming it.
 */
async function withSecrets(
  target: NotificationTarget,
  provider: SecretsProvider | undefined,
): Promise<{ target: NotificationTarget; mask: Masker } | { missing: string[] }> {
  if (target.kind !== 'webhook') return { target, mask: NO_MASK };
  const texts = [target.url, ...Object.values(target.headers)];
  const names = [...new Set(texts.flatMap((t) => [...t.matchAll(SECRET_REF)].map((m) => m[1]!)))];
  if (names.length === 0) return { target, mask: NO_MASK };
  const from = provider ?? defaultSecrets();
  const values = new Map<string, string>();
  for (const n of names) {
    const v = await from.get(n);
    if (v !== undefined) values.set(n, v);
  }
  const missing = names.filter((n) => !values.has(n));
  if (missing.length > 0) return { missing };
  const put = (t: string) => t.replace(SECRET_REF, (_m, n: string) => values.get(n)!);
  return {
    target: {
      ...target,
      url: put(target.url),
      headers: Object.fromEntries(Object.entries(target.headers).map(([k, v]) => [k, put(v)])),
    },
    mask: masker(values),
  };
}

/** Tries up to `settings.attempts` times with a doubling wait between tries; never throws. What it says of a failure is masked. */
export async function deliver(
  given: NotificationTarget,
  body: NotificationBody,
  o: DeliverOptions,
): Promise<DeliveryOutcome> {
  let resolved: Awaited<ReturnType<typeof withSecrets>>;
  try {
    resolved = await withSecrets(given, o.secrets);
  } catch (err) {
    return { delivered: false, attempts: 1, error: `cannot read the secrets of ${given.key}: ${errorMessage(err)}` };
  }
  if ('missing' in resolved) {
    return {
      delivered: false,
      attempts: 1,
      error: `LF_SECRET_MISSING: secret${resolved.missing.length > 1 ? 's' : ''} ${resolved.missing.join(', ')} not found for ${given.key}`,
    };
  }
  const { target, mask } = resolved;
  const outcome = await tryDelivering(
    target,
    body,
    mask === NO_MASK
      ? o
      : {
          ...o,
          ...(o.onRetry ? { onRetry: (e: string, a: number, w: number) => o.onRetry!(mask.text(e), a, w) } : {}),
        },
  );
  return outcome.delivered ? outcome : { ...outcome, error: mask.text(outcome.error) };
}

async function tryDelivering(
  target: NotificationTarget,
  body: NotificationBody,
  o: DeliverOptions,
): Promise<DeliveryOutcome> {
  const text = JSON.stringify(body);
  let error = '';
  for (let attempt = 1; attempt <= o.settings.attempts; attempt++) {
    try {
      if (target.kind === 'webhook')
        return { delivered: true, attempts: attempt, statusCode: await tryWebhook(target, text, body.id, o) };
      await tryNats(target, text, body.id, o);
      return { delivered: true, attempts: attempt };
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      if (o.signal?.aborted) return { delivered: false, attempts: attempt, error, stopped: true };
      if (err instanceof TryFailed && err.final) return { delivered: false, attempts: attempt, error };
      if (attempt === o.settings.attempts) break;
      const wait = backoffAfter(attempt, o.settings);
      o.onRetry?.(error, attempt, wait);
      try {
        await sleep(wait, undefined, o.signal ? { signal: o.signal } : {});
      } catch {
        return { delivered: false, attempts: attempt, error, stopped: true };
      }
    }
  }
  return { delivered: false, attempts: o.settings.attempts, error };
}
