/**
 * One sealed value: AES-256-GCM (node:crypto) with a random 12-byte IV, the key's id recorded beside it, and additional
 * data binding it to where it is kept (run, event, field), so a sealed value copied to another place does not open.
 * Text form `lf:enc:1:<key id>:<base64url(iv | ciphertext | tag)>`: a string where the schema wants a string (an
 * error's message); `{ "lf:enc": "1:<key id>:…" }` where it wants any JSON value or a record (inputs, outputs, data).
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { DataKeyError } from '../errors/index.js';
import type { DataKey } from './keys.js';

export const SEALED_KEY = 'lf:enc';
const TEXT_PREFIX = 'lf:enc:';
const VERSION = '1';
/** What a reader without the key sees instead of a sealed value (the events' module's: the core shows it too). */
export { REDACTED } from '../events/index.js';

/**
 * IVs drawn from the system's random source 1,024 at a time: one call instead of one a sealed field (the call was 6% of
 * a sealed run's CPU, the cipher's own work less). Each IV is still 12 fresh random bytes, handed out once: the pool is
 * replaced when used up, never rewound, so GCM's rule (never one IV twice under a key) holds as for a draw per field
 * (NIST SP 800-38D 8.2.2, the random construction; chosen over 8.2.1's prefix and counter, which needs a prefix no two
 * processes share and so a registry of them). The pool is this module's memory: a worker thread has its own, and the
 * processes ledgerflow starts are spawned, not fork(2)ed copies of this one, so no two hand out the same bytes.
 */
const IV_BYTES = 12;
const IV_POOL = IV_BYTES * 1024;
let ivPool: Buffer = Buffer.alloc(0);
let ivAt = 0;
function freshIv(): Buffer {
  if (ivAt + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_POOL);
    ivAt = 0;
  }
  ivAt += IV_BYTES;
  return ivPool.subarray(ivAt - IV_BYTES, ivAt);
}

/** Each data key imported once as a KeyObject: a raw key given to createCipheriv is checked and copied at every call. */
const keyObjects = new WeakMap<DataKey, KeyObject>();
function keyObjectOf(key: DataKey): KeyObject {
  let k = keyObjects.get(key);
  if (!k) {
    k = createSecretKey(key.bytes);
    keyObjects.set(key, k);
  }
  return k;
}

export function sealBytes(key: DataKey, aad: string, clear: Uint8Array | string): string {
  const iv = freshIv();
  const c = createCipheriv('aes-256-gcm', keyObjectOf(key), iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = c.update(clear);
  c.final(); // GCM is a stream cipher: final() adds no bytes, it computes the tag.
  const tag = c.getAuthTag();
  // iv | ciphertext | tag written into one buffer (not a Buffer.concat of four, the empty final's among them).
  const body = Buffer.allocUnsafe(IV_BYTES + ct.length + tag.length);
  body.set(iv, 0);
  body.set(ct, IV_BYTES);
  body.set(tag, IV_BYTES + ct.length);
  return `${VERSION}:${key.id}:${body.toString('base64url')}`;
}

/** The key id a sealed body (`1:<id>:<b64>`) names, or null when it is not one. */
export function sealedKeyId(body: string): string | null {
  return body.startsWith(`${VERSION}:`) && body.charCodeAt(18) === 58 /* : */ ? body.slice(2, 18) : null;
}

/** The clear text a sealed body holds (UTF-8); a body that does not open is DataKeyError LF_DECRYPT_FAILED. */
export function openText(key: DataKey, aad: string, body: string, where: Record<string, string>): string {
  const raw = Buffer.from(body.slice(19), 'base64url');
  if (raw.length < 28) throw tampered(key.id, where);
  try {
    const d = createDecipheriv('aes-256-gcm', keyObjectOf(key), raw.subarray(0, 12));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
  } catch {
    throw tampered(key.id, where);
  }
}

function tampered(keyId: string, where: Record<string, string>): DataKeyError {
  const place = Object.entries(where)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return new DataKeyError(
    'LF_DECRYPT_FAILED',
    `a sealed value (${place}) does not open with data key ${keyId}: it was changed after it was written, or the key under that id is not the one that sealed it; restore the store from a backup or give the right LF_DATA_KEY_${keyId}`,
    { keyId, ...where },
  );
}

/** `lf:enc:1:<id>:…` */
export const isSealedText = (v: unknown): v is string => typeof v === 'string' && v.startsWith(TEXT_PREFIX);
/** `{ "lf:enc": "1:<id>:…" }` */
export function isSealedValue(v: unknown): v is { [SEALED_KEY]: string } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  if (typeof (v as Record<string, unknown>)[SEALED_KEY] !== 'string') return false;
  // Exactly one own key (counted without the array Object.keys makes: this runs on every payload field appended).
  let n = 0;
  for (const k in v) if (Object.hasOwn(v, k) && ++n > 1) return false;
  return true;
}

export const sealText = (key: DataKey, aad: string, text: string): string =>
  `${TEXT_PREFIX}${sealBytes(key, aad, text)}`;
export const sealValue = (key: DataKey, aad: string, value: unknown): { [SEALED_KEY]: string } => ({
  [SEALED_KEY]: sealBytes(key, aad, JSON.stringify(value)),
});

/** The body of a sealed text or value (what sealedKeyId and openText read). */
export const bodyOf = (v: string | { [SEALED_KEY]: string }): string =>
  typeof v === 'string' ? v.slice(TEXT_PREFIX.length) : v[SEALED_KEY];
