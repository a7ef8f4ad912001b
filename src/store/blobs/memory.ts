/**
 * The memory store's blobs: a map, for tests and the library's in-memory runs. Reads are checked against the digest
 * as every store's are (a caller that changed the bytes `readSync` handed it changed them here).
 */
import type { PayloadRef } from '../../events/index.js';
import type { BlobPlace } from '../../errors/index.js';
import type { BlobSource, BlobStore } from '../port.js';
import { checkedBody, checkedWhole, chunksOf, Digesting, digestHex } from './digests.js';

export class MemoryBlobStore implements BlobStore {
  private readonly bodies = new Map<string, { bytes: Uint8Array; storedAt: number }>();

  async put(
    bytes: BlobSource,
    mediaType: string,
    address?: () => { digest: string; size: number },
  ): Promise<PayloadRef> {
    const d = new Digesting();
    const parts: Uint8Array[] = [];
    for await (const c of chunksOf(bytes)) {
      d.add(c);
      parts.push(c);
    }
    const ref = d.ref(mediaType, address);
    const { digest } = ref['lf:blob'];
    if (!this.bodies.has(digest)) this.bodies.set(digest, { bytes: Buffer.concat(parts), storedAt: Date.now() });
    return ref;
  }

  async open(digest: string): Promise<AsyncIterable<Uint8Array> | null> {
    const body = await this.openAtRest(digest);
    return body && checkedBody(digest, body, () => this.placeOf());
  }

  async openAtRest(digest: string): Promise<AsyncIterable<Uint8Array> | null> {
    const bytes = this.kept(digest);
    return bytes && chunksOf(bytes);
  }

  readSync(digest: string): Uint8Array | null {
    const bytes = this.kept(digest);
    return bytes && checkedWhole(digest, bytes, () => this.placeOf());
  }

  placeOf(): BlobPlace {
    return {
      place: "this process's memory store",
      fix: 'the memory store lives as long as its process: start the run again',
    };
  }

  private kept(digest: string): Uint8Array | null {
    digestHex(digest);
    return this.bodies.get(digest)?.bytes ?? null;
  }

  async has(digest: string): Promise<boolean> {
    return this.kept(digest) !== null;
  }

  async delete(digest: string): Promise<void> {
    digestHex(digest);
    this.bodies.delete(digest);
  }

  async *list(): AsyncIterable<{ digest: string; size: number; storedAt: number }> {
    for (const [digest, b] of [...this.bodies]) yield { digest, size: b.bytes.byteLength, storedAt: b.storedAt };
  }
}
