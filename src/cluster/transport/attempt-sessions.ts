/**
 * Attempts carried in a report's answer, sealed with a key of the worker's session instead of an Ed25519 signature:
 * a carried attempt is a batch of one, and verifying it alone cost about a third of the worker's CPU, on the run's
 * critical path at every step.
 *
 * The answer goes to one worker, the one that reported, so a key only that worker and the engines know does
 * what the signature did: X25519. The engines derive an exchange key pair from their secret (as they derive
 * the signing key: every engine alike) and put its public half in LF_KEYS (key `attempts-exchange`), signed
 * with the attempts' Ed25519 key, so a worker that pins that key (LEDGERFLOW_ATTEMPT_KEY) trusts it as much
 * and no more. A worker makes its own pair when it starts, and sends its public half with every report that
 * takes a next attempt (SESSION_HEADER). Both sides compute the same X25519 secret, and from it the session
 * key (HMAC-SHA256 of the secret and SESSION_CONTEXT); the engine answers with ATTEMPT_MAC_HEADER, the
 * HMAC-SHA256 of the attempt's body under that key, which the worker checks in constant time.
 *
 * Nobody else can make such a MAC: it takes the engines' exchange secret or the worker's private half, which never
 * leaves its process. A header changed on the way (a server that joined the cluster) makes the engine seal with a key
 * the worker does not have, and the worker runs nothing. The engine derives a session's key only for a report whose
 * attempt token verified, and keeps the last SESSIONS_KEPT of them. An engine or a worker from before sessions: the
 * worker sends no header (no record in LF_KEYS) or the engine ignores it, and the attempt is signed as an offer is.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  timingSafeEqual,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import { trimOldest } from '../../bounded.js';

/** On a report: the worker's X25519 public key (32 bytes, base64url), whose session seals the attempt carried back. */
export const SESSION_HEADER = 'Lf-Session';
/** On an answer carrying the next attempt: HMAC-SHA256 of its body under the session's key (base64url). */
export const ATTEMPT_MAC_HEADER = 'Lf-Attempt-Mac';
/** The key of LF_KEYS holding `<exchange public key>.<its Ed25519 signature>` (base64url both). */
export const EXCHANGE_KEY = 'attempts-exchange';

/** What the engines sign of their exchange key: this, then the key; the NUL makes it no attempt's body (JSON). */
const RECORD_CONTEXT = Buffer.from('lf-attempt-exchange-v1\0', 'latin1');
/** What the session key is the HMAC of, under the X25519 secret. */
const SESSION_CONTEXT = 'lf-carried-attempt-v1';
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const KEY_TEXT = /^[A-Za-z0-9_-]{43}$/;
/** Session keys an engine keeps (one per worker process it hears from). */
const SESSIONS_KEPT = 4096;

/** The engines' exchange key pair, from 32 bytes derived from their secret. */
export function exchangeKeyFrom(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublic(key: KeyObject): string {
  return createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64url');
}

function publicOf(text: string): KeyObject | null {
  if (!KEY_TEXT.test(text)) return null;
  return createPublicKey({
    key: Buffer.concat([X25519_SPKI_PREFIX, Buffer.from(text, 'base64url')]),
    format: 'der',
    type: 'spki',
  });
}

/** The session key of `own` (a private key) and `other` (a public one); null when X25519 refuses them (a low-order point). */
function sessionKey(own: KeyObject, other: KeyObject): Buffer | null {
  let secret: Buffer;
  try {
    secret = diffieHellman({ privateKey: own, publicKey: other });
  } catch {
    return null;
  }
  if (secret.every((b) => b === 0)) return null;
  return createHmac('sha256', secret).update(SESSION_CONTEXT).digest();
}

function macOf(key: Buffer, body: Uint8Array): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

/** The engines' side: their exchange key, published signed, and the seal of an attempt for a worker's session. */
export class EngineSessions {
  /** Session keys by the worker's public key text, oldest first; null for a key X25519 refused. */
  private readonly keys = new Map<string, Buffer | null>();

  constructor(private readonly exchange: KeyObject) {}

  /** LF_KEYS' `attempts-exchange` value: the exchange public key and its signature by `sign` (the attempts' Ed25519 key). */
  record(sign: (data: Uint8Array) => string): string {
    const pub = rawPublic(this.exchange);
    return `${pub}.${sign(Buffer.concat([RECORD_CONTEXT, Buffer.from(pub, 'latin1')]))}`;
  }

  /** ATTEMPT_MAC_HEADER for `body`, sealed for the worker whose report said `session` (SESSION_HEADER); undefined for a key that is none. */
  seal(session: string, body: Uint8Array): string | undefined {
    let key = this.keys.get(session);
    if (key === undefined) {
      const other = publicOf(session);
      key = other ? sessionKey(this.exchange, other) : null;
      this.keys.set(session, key);
      trimOldest(this.keys, SESSIONS_KEPT);
    }
    return key ? macOf(key, body) : undefined;
  }
}

/** A worker's session: its own key pair, the key it shares with the engines, and the check of a sealed attempt. */
export class WorkerSession {
  private constructor(
    readonly header: string,
    private readonly key: Buffer,
  ) {}

  /**
   * From LF_KEYS' `attempts-exchange` value, checked against the attempts' Ed25519 key `signing`: null when it is
   * not signed by that key (or malformed), and the worker then takes signed attempts only.
   */
  static from(record: string, signing: KeyObject): WorkerSession | null {
    const [pub, sig, extra] = record.trim().split('.');
    if (!pub || !sig || extra !== undefined || !KEY_TEXT.test(pub) || !/^[A-Za-z0-9_-]{86}$/.test(sig)) return null;
    if (
      !edVerify(
        null,
        Buffer.concat([RECORD_CONTEXT, Buffer.from(pub, 'latin1')]),
        signing,
        Buffer.from(sig, 'base64url'),
      )
    )
      return null;
    const engines = publicOf(pub);
    const own = generateKeyPairSync('x25519');
    const key = engines ? sessionKey(own.privateKey, engines) : null;
    return key ? new WorkerSession(rawPublic(own.privateKey), key) : null;
  }

  /** Whether `mac` (ATTEMPT_MAC_HEADER) is the seal of `body` under this session's key (compared in constant time). */
  verify(body: Uint8Array, mac: string): boolean {
    const want = Buffer.from(macOf(this.key, body), 'latin1');
    const got = Buffer.from(mac, 'latin1');
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
