/**
 * The BlobStore decorator of encryption at rest: a large payload's bytes sealed in chunks of 64 KiB (AES-256-GCM, one
 * tag per chunk, so a body of any size streams through with bounded memory and a reader never gets bytes that were not
 * checked), kept under the digest of its clear JSON (the address the store below is asked to use, port.ts `put`), so
 * the event's reference and replay's digest check are what they would be in the clear. Stored form: `LFB1`, the key
 * id (16 hex), a 12-byte IV, then chunks `[last bit | clear length, u32][ciphertext][tag]`; the last chunk's additional data holds
 * the digest, so a body cut short or put under another digest does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DataKeyError } from '../errors/index.js';
import { PAYLOAD_REF_KEY, type PayloadRef } from '../events/index.js';
import { checkedBody, type BlobSource, type BlobStore } from '../store/index.js';
import type { DataKey, KeyRing } from './keys.js';

const MAGIC = Buffer.from('LFB1', 'ascii');
const HEADER = 4 + 16 + 12;
const CHUNK = 64 * 1024;

const ivOf = (base: Buffer, i: number): Buffer => {
  const iv = Buffer.from(base);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ i) >>> 0, 8);
  return iv;
};
const aadOf = (i: number, digest: string | null): Buffer => Buffer.from(`blob\n${i}\n${digest ?? ''}`, 'utf8');

async function* bytesOf(src: Uint8Array | AsyncIterable<Uint8Array>): AsyncIterable<Buffer> {
  if (src instanceof Uint8Array) yield Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  else for await (const b of src) yield Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Re-cut into CHUNK-sized pieces, each told whether it is the last (always at least one, maybe empty). A piece is cut
 * from the chunks it spans (a piece within one chunk is a view of it), each byte copied at most once.
 */
async function* chunks(src: AsyncIterable<Buffer>): AsyncIterable<{ bytes: Buffer; last: boolean }> {
  let pending: Buffer[] = [];
  let size = 0;
  let ready: Buffer | null = null;
  for await (const b of src) {
    for (let at = 0; at < b.length; ) {
      const take = Math.min(CHUNK - size, b.length - at);
      pending.push(b.subarray(at, at + take));
      size += take;
      at += take;
      if (size < CHUNK) continue;
      if (ready) yield { bytes: ready, last: false };
      ready = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending = [];
      size = 0;
    }
  }
  const rest = Buffer.concat(pending);
  if (ready && rest.length === 0) yield { bytes: ready, last: true };
  else {
    if (ready) yield { bytes: ready, last: false };
    yield { bytes: rest, last: true };
  }
}

async function* seal(
  key: DataKey,
  src: AsyncIterable<Buffer>,
  clear: { hash: ReturnType<typeof createHash>; size: number },
) {
  const base = randomBytes(12);
  yield Buffer.concat([MAGIC, Buffer.from(key.id, 'ascii'), base]);
  let i = 0;
  for await (const { bytes, last } of chunks(src)) {
    clear.hash.update(bytes);
    clear.size += bytes.length;
    const c = createCipheriv('aes-256-gcm', key.bytes, ivOf(base, i));
    // The last chunk binds the digest of all the clear bytes, known only now.
    c.setAAD(aadOf(i, last ? `sha256:${clear.hash.copy().digest('hex')}` : null));
    const len = Buffer.alloc(4);
    len.writeUInt32BE((bytes.length | (last ? 0x80000000 : 0)) >>> 0);
    yield Buffer.concat([len, c.update(bytes), c.final(), c.getAuthTag()]);
    i++;
  }
}

/** Reads exactly `n` bytes from the stream's buffered remainder, or null at its end. */
class Reader {
  private buf = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  constructor(src: AsyncIterable<Buffer>) {
    this.it = src[Symbol.asyncIterator]();
  }
  async take(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      const r = await this.it.next();
      if (r.done) return this.buf.length === 0 ? null : this.short();
      this.buf = Buffer.concat([this.buf, r.value]);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  /** Up to `n` bytes (fewer only at the stream's end), or null at its end. */
  async upTo(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      const r = await this.it.next();
      if (r.done) break;
      this.buf = Buffer.concat([this.buf, r.value]);
    }
    if (this.buf.length === 0) return null;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }
  private short(): never {
    throw new Error('cut short');
  }
}

function failed(digest: string, keyId: string, why: string): DataKeyError {
  return new DataKeyError(
    'LF_DECRYPT_FAILED',
    `blob ${digest} does not open with data key ${keyId} (${why}): it was changed or cut after it was written, or the key under that id is not the one that sealed it`,
    { digest, keyId },
  );
}

async function* open(ring: KeyRing, digest: string, src: AsyncIterable<Buffer>): AsyncIterable<Uint8Array> {
  const r = new Reader(src);
  const head = await r.upTo(HEADER);
  if (head === null) return;
  if (head.length < HEADER || !head.subarray(0, 4).equals(MAGIC)) {
    // Stored before encryption: clear JSON, as it was.
    yield head;
    for (let b = await r.upTo(CHUNK); b !== null; b = await r.upTo(CHUNK)) yield b;
    return;
  }
  const id = head.subarray(4, 20).toString('ascii');
  await ring.load([id]);
  const key = ring.cached(id);
  if (!key)
    throw new DataKeyError(
      'LF_DATA_KEY_MISSING',
      `blob ${digest} is sealed with data key ${id}, which no secrets provider has: set LF_DATA_KEY or LF_DATA_KEY_${id}`,
      {
        digest,
        keyId: id,
      },
    );
  const base = head.subarray(20);
  for (let i = 0; ; i++) {
    let len: Buffer | null;
    let body: Buffer | null;
    try {
      len = await r.take(4);
      body = len === null ? null : await r.take((len.readUInt32BE() & 0x7fffffff) + 16);
    } catch {
      throw failed(digest, id, 'cut short');
    }
    if (len === null || body === null) throw failed(digest, id, 'its last chunk is missing');
    const word = len.readUInt32BE();
    // The high bit marks the last chunk (bound by its additional data, so it cannot be flipped unseen).
    const last = (word & 0x80000000) !== 0;
    const n = word & 0x7fffffff;
    const d = createDecipheriv('aes-256-gcm', key.bytes, ivOf(base, i));
    d.setAAD(aadOf(i, last ? digest : null));
    d.setAuthTag(body.subarray(n));
    let clear: Buffer;
    try {
      clear = Buffer.concat([d.update(body.subarray(0, n)), d.final()]);
    } catch {
      throw failed(digest, id, `chunk ${i}`);
    }
    yield clear;
    if (last) {
      if ((await r.take(1)) !== null) throw failed(digest, id, 'bytes after its last chunk');
      return;
    }
  }
}

/** `put` of a store below that keeps bytes under an address it is given (port.ts). */
type AddressedPut = (
  bytes: BlobSource,
  mediaType: string,
  address?: () => { digest: string; size: number },
) => Promise<PayloadRef>;

/** One pass over the clear bytes as they are sealed: their hash and size, and the address made of them once asked. */
interface Pass {
  clear: { hash: ReturnType<typeof createHash>; size: number };
  address: { digest: string; size: number } | null;
}

export function encryptedBlobs(inner: BlobStore, ring: KeyRing): BlobStore {
  return {
    async put(bytes, mediaType) {
      const key = await ring.current();
      if (!key) return inner.put(bytes, mediaType);
      // A repeatable source stays repeatable, each pass sealed afresh (its own IV); the address the store below is
      // asked for is the clear digest of the pass it just read (port.ts), and the store keeps the last pass.
      let pass: Pass | null = null;
      const sealed = (src: Uint8Array | AsyncIterable<Uint8Array>) => {
        pass = { clear: { hash: createHash('sha256'), size: 0 }, address: null };
        return seal(key, bytesOf(src), pass.clear);
      };
      const addressOf = () => {
        const p = pass!;
        p.address ??= { digest: `sha256:${p.clear.hash.digest('hex')}`, size: p.clear.size };
        return p.address;
      };
      const source: BlobSource = typeof bytes === 'function' ? () => sealed(bytes()) : sealed(bytes);
      const ref = await (inner.put as AddressedPut)(source, mediaType, addressOf);
      const at = addressOf();
      if (ref[PAYLOAD_REF_KEY].digest !== at.digest)
        throw new Error(
          `the blob store below keeps the sealed bytes under ${ref[PAYLOAD_REF_KEY].digest}, not the clear digest ${at.digest} of the bytes it read last: it must honour put's address (store/port.ts)`,
        );
      return { [PAYLOAD_REF_KEY]: { digest: at.digest, size: at.size, media_type: mediaType } };
    },
    // The sealed bytes as kept (the store below cannot check them: they are kept under the clear digest), opened, then
    // the clear bytes checked against that digest as every store's read is (a body stored in the clear before the key).
    async open(digest) {
      const body = await (inner.openAtRest ?? inner.open).call(inner, digest);
      const at = inner.placeOf && (() => inner.placeOf!(digest));
      return body === null ? null : checkedBody(digest, open(ring, digest, bytesOf(body)), at);
    },
    ...(inner.placeOf ? { placeOf: (digest: string) => inner.placeOf!(digest) } : {}),
    has: (digest) => inner.has(digest),
    delete: (digest) => inner.delete(digest),
    list: () => inner.list(),
  };
}
