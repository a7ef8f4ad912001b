/**
 * Passwords and tokens are kept as scrypt hashes (node:crypto's, OpenSSL's scrypt: no package of our own making), never
 * in clear:
 *
 *   scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<hash, base64url>
 *
 * The cost is in the string, so a file written with other parameters still verifies; a check compares in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** What scrypt may use: 128·N·r with room (32 MiB at the defaults; node's default cap is 32 MiB exactly). */
const maxmem = (logN: number, r: number) => 256 * 2 ** logN * r;

export const SECRET_PATTERN = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

function derive(secret: string, salt: Buffer, logN: number, r: number, p: number, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, bytes, { N: 2 ** logN, r, p, maxmem: maxmem(logN, r) }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** A new hash of `secret` (a fresh salt each time). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, LOG_N, R, P, KEY_BYTES);
  return `scrypt$${LOG_N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `secret` is the one `hash` was made from; false for a hash of another shape or cost out of bounds. */
export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  const m = SECRET_PATTERN.exec(hash);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // A file's cost is bounded: a hand-edited 2^30 would take the process's memory.
  if (logN < 10 || logN > 20 || r < 1 || r > 16 || p < 1 || p > 4) return false;
  const want = Buffer.from(m[5]!, 'base64url');
  const got = await derive(secret, Buffer.from(m[4]!, 'base64url'), logN, r, p, want.length);
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * A bcrypt hash of `secret` for nats-server, which checks passwords against bcrypt only (`users nats-conf` writes it):
 * kept beside the scrypt hash, made from the same password when it is set. bcryptjs: pure JS, no native build; cost 11
 * (nats-server's own `nats server passwd` default).
 */
export async function natsHash(secret: string): Promise<string> {
  return bcrypt.hash(secret.normalize('NFC'), NATS_COST);
}

const NATS_COST = 11;
/** What a bcrypt hash looks like ($2a$, $2b$ or $2y$, cost, 53 characters of salt and hash). */
export const NATS_HASH_PATTERN = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
