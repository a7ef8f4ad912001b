/** What every blob store shares: a digest checked before it names a file or an object, and the bytes hashed as they pass. */
import { createHash, type Hash } from 'node:crypto';
import { PAYLOAD_REF_KEY, PayloadRefBodySchema, type PayloadRef } from '../../events/index.js';
import { BlobAlteredError, type BlobPlace, StoreError } from '../../errors/index.js';
import type { BlobSource } from '../port.js';

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** The hex of a `sha256:<hex>` digest; anything else (a path, `..`) is refused before it names a file or an object. */
export function digestHex(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new StoreError(`"${digest}" is not a payload digest (expected sha256: and 64 hex digits)`, { digest });
  return m[1]!;
}

/** The bytes as chunks, whichever way they were given (a repeatable source: one pass of it). */
export async function* chunksOf(bytes: BlobSource): AsyncIterable<Uint8Array> {
  if (bytes instanceof Uint8Array) yield bytes;
  else if (typeof bytes === 'function') yield* bytes();
  else yield* bytes;
}

/** Hashes and counts the bytes that pass through, then makes the reference. */
export class Digesting {
  private readonly hash: Hash = createHash('sha256');
  size = 0;
  add(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.byteLength;
  }
  /**
   * `address`: the digest and size put was told to keep the bytes under (port.ts: encryption at rest stores sealed bytes
   * under the clear JSON's address), instead of the passed bytes' own.
   */
  ref(mediaType: string, address?: () => { digest: string; size: number }): PayloadRef {
    const own = address?.() ?? { digest: `sha256:${this.hash.digest('hex')}`, size: this.size };
    const body = { digest: own.digest, size: own.size, media_type: mediaType };
    return { [PAYLOAD_REF_KEY]: PayloadRefBodySchema.parse(body) };
  }
}

/**
 * A body as it is read from where it is kept, checked against the digest it was asked for as it streams (hashed chunk
 * by chunk, never held whole): each chunk is handed on once the next one has come, and the last only once the whole
 * hashed to `digest`. Bytes that hash to another digest end the stream with BlobAlteredError instead of that last
 * chunk, so a consumer that writes what it gets (a file, an HTTP response) never ends up with a whole altered body.
 * `at`: where the bytes are and how to put them right, for the error. Every BlobStore's `open` returns its bytes so.
 */
export async function* checkedBody(
  digest: string,
  chunks: AsyncIterable<Uint8Array>,
  at?: () => BlobPlace,
): AsyncIterable<Uint8Array> {
  const hash = createHash('sha256');
  let held: Uint8Array | null = null;
  for await (const c of chunks) {
    hash.update(c);
    if (held) yield held;
    held = c;
  }
  const found = `sha256:${hash.digest('hex')}`;
  if (found !== digest) throw new BlobAlteredError(digest, found, null, at?.());
  if (held) yield held;
}

/** A whole body read at once (`readSync`), checked against its digest before it is returned: see checkedBody. */
export function checkedWhole(digest: string, bytes: Uint8Array, at?: () => BlobPlace): Uint8Array {
  const found = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (found !== digest) throw new BlobAlteredError(digest, found, null, at?.());
  return bytes;
}
