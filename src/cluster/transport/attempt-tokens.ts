/**
 * Per-attempt tokens: what tells an outcome from a worker handed the attempt from one a worker made up (a worker may
 * publish anything on lf.inputs.>). Each attempt carries HMAC-SHA256(secret, runId/task/attempt), and an outcome is
 * recorded only with its attempt's token. The secret is shared by the engines through KV LF_ENGINE, which only the
 * engine user can read (nats.conf), made once by whichever engine or client sets the cluster up first.
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  randomBytes,
  sign as edSign,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import { createBucket, createRetrying } from './create-retry.js';
import { EngineSessions, exchangeKeyFrom } from './attempt-sessions.js';
import { trimOldest } from '../../bounded.js';

export const ENGINE_BUCKET = 'LF_ENGINE';
const SECRET_KEY = 'attempt-secret';
/** Attempt tokens an engine keeps once made (about the attempts in flight, and their reports). */
const TOKENS_KEPT = 4096;

/** Ed25519's PKCS#8 DER header, before its 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class AttemptTokens {
  private signingKey: KeyObject | null = null;
  private engineSessions: EngineSessions | null = null;
  /** Tokens made lately, by what they are the HMAC of (tokenFor). */
  private readonly tokens = new Map<string, string>();

  /** The secret as a key object, made once: an HMAC given the bytes prepares a key at every call (2% of an engine's CPU). */
  private readonly hmacKey: KeyObject;

  private constructor(secret: Uint8Array) {
    this.hmacKey = createSecretKey(secret);
  }

  /**
   * The engines' Ed25519 signature of an attempt's body (base64url), which workers verify before they run anything
   * (attempt-keys.ts). The key is derived from the engines' secret, so every engine signs alike.
   */
  sign(data: Uint8Array): string {
    return edSign(null, data, this.key()).toString('base64url');
  }

  /** The public half of the signing key, raw (32 bytes) in base64url: what workers verify with. */
  publicKey(): string {
    return createPublicKey(this.key()).export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64url');
  }

  /** Attempts carried in a report's answer, sealed for the worker's session (attempt-sessions.ts); the exchange key is derived from the secret too. */
  sessions(): EngineSessions {
    return (this.engineSessions ??= new EngineSessions(
      exchangeKeyFrom(createHmac('sha256', this.hmacKey).update('lf-attempt-exchange-key').digest()),
    ));
  }

  private key(): KeyObject {
    if (this.signingKey) return this.signingKey;
    const seed = createHmac('sha256', this.hmacKey).update('lf-attempt-signing-key').digest();
    return (this.signingKey = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    }));
  }

  /** Creates the bucket and the secret if they are missing, and reads the secret every engine uses. */
  static async open(
    js: JetStreamClient,
    s: { replicas?: number; storage?: 'file' | 'memory' } = {},
  ): Promise<AttemptTokens> {
    const kv = await createBucket(js, ENGINE_BUCKET, s);
    // create() fails when the key exists: then another engine made the secret first, and it is read below.
    // Both may time out on a bucket another engine has only just created (its replicas still electing a leader).
    const entry = await createRetrying(async () => {
      await kv.create(SECRET_KEY, randomBytes(32).toString('hex')).catch(() => undefined);
      const got = await kv.get(SECRET_KEY);
      // On a replicated bucket the other engine's create may not be readable here yet: ask again (a timeout is retried).
      if (!got?.string())
        throw Object.assign(new Error(`timeout: ${SECRET_KEY} is not readable in ${ENGINE_BUCKET} yet`), {
          code: 'TIMEOUT',
        });
      return got;
    });
    const hex = entry?.string();
    if (!hex || !/^[0-9a-f]{64}$/.test(hex))
      throw new Error(
        `the KV bucket ${ENGINE_BUCKET} holds no valid ${SECRET_KEY}; delete the key so an engine makes a new one`,
      );
    return new AttemptTokens(Buffer.from(hex, 'hex'));
  }

  /** A secret given directly (tests, or a deployment that manages its own). */
  static fromSecret(secret: Uint8Array): AttemptTokens {
    return new AttemptTokens(secret);
  }

  /**
   * `instance`: the task's instance token (compiler/instances.ts). The last TOKENS_KEPT are kept: a token is made when
   * the attempt starts and again to check its report, two HMACs a step that were 4% of a loaded engine's CPU.
   */
  tokenFor(runId: string, instance: string, attempt: number): string {
    const what = `${runId}/${instance}/${attempt}`;
    let token = this.tokens.get(what);
    if (token === undefined) {
      token = createHmac('sha256', this.hmacKey).update(what).digest('base64url');
      this.tokens.set(what, token);
      trimOldest(this.tokens, TOKENS_KEPT);
    }
    return token;
  }

  /**
   * A message id only engines can make: LF_DLQ's dedup window is the whole stream's, so a worker could publish an id
   * anyone can compute (`dlq/<stream>/<seq>`) first, and the engine's dead letter be dropped as a duplicate.
   */
  engineMessageId(id: string): string {
    return `${id}/${createHmac('sha256', this.hmacKey).update(`msgid/${id}`).digest('base64url').slice(0, 22)}`;
  }

  /**
   * What names restarted run `restart` of an attempt where a worker may write (its ledger key, its word that it still
   * runs it): handed only to that run's worker, so a worker handed an earlier run can neither claim this one ahead of
   * it nor keep its claim alive once it is gone (claim-watch.ts). The attempt's own token for the first run.
   */
  claimTokenFor(runId: string, instance: string, attempt: number, restart: number): string {
    if (restart === 0) return this.tokenFor(runId, instance, attempt);
    return createHmac('sha256', this.hmacKey)
      .update(`claim/${runId}/${instance}/${attempt}/r${restart}`)
      .digest('base64url');
  }

  /** Whether `token` is the one this attempt was handed out with (compared in constant time). */
  verify(runId: string, instance: string, attempt: number, token: string | undefined): boolean {
    return typeof token === 'string' && same(token, this.tokenFor(runId, instance, attempt));
  }

  /** Whether `claimToken` is restarted run `restart`'s own (claimTokenFor; the attempt's token for the first run). */
  verifyClaim(
    runId: string,
    instance: string,
    attempt: number,
    restart: number,
    claimToken: string | undefined,
  ): boolean {
    return typeof claimToken === 'string' && same(claimToken, this.claimTokenFor(runId, instance, attempt, restart));
  }
}

/** Two tokens compared in constant time. */
function same(got: string, want: string): boolean {
  const a = Buffer.from(got);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * What names an attempt where a worker may write (its ledger key): 132 bits of sha256(token), base64url. Only whoever
 * was handed the attempt can compute it, and it gives the token away to nobody who reads the key.
 */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 22);
}

/**
 * What names an attempt in the message ids of reports about it: like tokenDigest, but of another derivation, so the
 * ledger keys a worker may read give away no report id a worker could write first to make the report a duplicate.
 */
export function reportDigest(token: string): string {
  return createHash('sha256').update(`report\n${token}`).digest('base64url').slice(0, 22);
}
