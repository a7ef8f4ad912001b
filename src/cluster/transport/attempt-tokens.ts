/**
 * Per-attempt tokens: what lets an engine tell an outcome a worker was handed
 * the attempt for from one a worker made up. The `worker` NATS user may
 * publish anything on lf.inputs.>, so the subject proves nothing; instead each
 * attempt an engine hands out carries HMAC-SHA256(secret, runId/task/attempt),
 * and an outcome is recorded only with the token of that attempt. The secret
 * is shared by the engines through the KV bucket LF_ENGINE, which only the
 * engine user can read (nats.conf), and is made once, by whichever engine or
 * client sets the cluster up first.
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
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

  private constructor(private readonly secret: Uint8Array) {}

  /**
   * The engines' signature of an attempt they hand out (its message body, base64url Ed25519), which workers
   * verify before they run anything (attempt-keys.ts): a message on lf.q.… or lf.offer.… that no engine made
   * (a publisher nats.conf wrongly lets there, a server that joined the cluster) is not run. The key is derived
   * from the engines' secret, so every engine signs alike with nothing more to share.
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
      exchangeKeyFrom(createHmac('sha256', this.secret).update('lf-attempt-exchange-key').digest()),
    ));
  }

  private key(): KeyObject {
    if (this.signingKey) return this.signingKey;
    const seed = createHmac('sha256', this.secret).update('lf-attempt-signing-key').digest();
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
   * `instance`: the task's instance token (compiler/instances.ts: the task id outside loops and maps). The last
   * TOKENS_KEPT are kept: an attempt's token is made when the attempt starts and made again to check its report,
   * two HMACs a step that were 4% of a loaded engine's CPU.
   */
  tokenFor(runId: string, instance: string, attempt: number): string {
    const what = `${runId}/${instance}/${attempt}`;
    let token = this.tokens.get(what);
    if (token === undefined) {
      token = createHmac('sha256', this.secret).update(what).digest('base64url');
      this.tokens.set(what, token);
      trimOldest(this.tokens, TOKENS_KEPT);
    }
    return token;
  }

  /**
   * A message id only engines can make (keyed with the secret): LF_DLQ's dedup window is the whole
   * stream's, so an id anyone can compute (`dlq/<stream>/<seq>`) could be published first by a worker
   * on its own dead-letter subject, and the engine's dead letter of that message dropped as a duplicate.
   */
  engineMessageId(id: string): string {
    return `${id}/${createHmac('sha256', this.secret).update(`msgid/${id}`).digest('base64url').slice(0, 22)}`;
  }

  /**
   * What names the restarted run `restart` of an attempt where a worker may write (its attempt-ledger
   * key, its word that it still runs it): handed only to the worker of that run, so that a worker
   * handed an earlier run of the attempt (which has the attempt's token) can neither claim this run
   * ahead of its worker nor keep its claim alive once that worker is gone (claim-watch.ts). The
   * attempt's own token for the first run.
   */
  claimTokenFor(runId: string, instance: string, attempt: number, restart: number): string {
    if (restart === 0) return this.tokenFor(runId, instance, attempt);
    return createHmac('sha256', this.secret)
      .update(`claim/${runId}/${instance}/${attempt}/r${restart}`)
      .digest('base64url');
  }

  /** Whether `token` is the one this attempt was handed out with (compared in constant time). */
  verify(runId: string, instance: string, attempt: number, token: string | undefined): boolean {
    if (typeof token !== 'string') return false;
    const want = Buffer.from(this.tokenFor(runId, instance, attempt));
    const got = Buffer.from(token);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

/**
 * What names an attempt where a worker may write (its attempt-ledger key, the message ids of its
 * reports): the first 22 characters (132 bits) of base64url sha256(token). Only whoever was handed
 * the attempt can compute it, so nothing there can be written ahead of the attempt, and it gives
 * the token itself away to nobody who reads the key.
 */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 22);
}

/**
 * What names an attempt in the message ids of reports about it (its outcome, its losses, a child run's outcome):
 * like tokenDigest, but of another derivation, so that the ledger keys a worker may read (a wildcard
 * direct get read every queue's) give away no report id, and no worker can write one ahead of the report it
 * would make a duplicate of.
 */
export function reportDigest(token: string): string {
  return createHash('sha256').update(`report\n${token}`).digest('base64url').slice(0, 22);
}
