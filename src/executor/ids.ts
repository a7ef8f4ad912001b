/**
 * Run ids and dedup nonces. Each run start needs a few random bytes; a synchronous randomBytes() call per id costs more
 * than the bytes (it showed in engine profiles), so ids are cut from a pooled buffer refilled 4 KiB at a time — what
 * crypto.randomUUID() does internally.
 */
import { randomFillSync } from 'node:crypto';
import { stampOf } from './id-stamp-cache.js';

const pool = Buffer.alloc(4096);
let offset = pool.length;

function take(bytes: number): Buffer {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += bytes;
  return pool.subarray(offset - bytes, offset);
}

/** Each byte's two lowercase hex digits. */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** `bytes` random bytes as hex (as Buffer's toString('hex'), without a Buffer view made per call: a few per run start). */
export function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  let text = '';
  for (let i = offset; i < offset + bytes; i++) text += HEX[pool[i]!]!;
  offset += bytes;
  return text;
}

/**
 * `20261121-071258-<13 base36 chars>`: sortable by start time, and 64 random bits so that runs started in the same
 * second never share an id (24 bits collided in about 3% of 1,000 runs started in one second).
 */
export function newRunId(now = Date.now()): string {
  return `${stampOf(now)}-${take(8).readBigUInt64BE().toString(36).padStart(13, '0')}`;
}
