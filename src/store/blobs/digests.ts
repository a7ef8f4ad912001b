/** What every blob store shares: a digest checked before it names a file or an object, and the bytes hashed as they pass. */
import { createHash, type Hash } from 'node:crypto';
import { PAYLOAD_REF_KEY, PayloadRefBodySchema, type PayloadRef } from '../../events/index.js';
import { StoreError } from '../../errors/index.js';
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

/** sha256 of a stored body, as a digest: what replay compares with the reference. */
export async function digestOf(chunks: AsyncIterable<Uint8Array>): Promise<{ digest: string; size: number }> {
  const d = new Digesting();
  for await (const c of chunks) d.add(c);
  const { digest, size } = d.ref('application/octet-stream')[PAYLOAD_REF_KEY];
  return { digest, size };
}
