/**
 * The NATS store's blobs: a JetStream Object Store bucket (LF_BLOBS by default), each body an object named by its
 * digest's hex, sent and read in chunks (128 KiB) so no message carries a body whole. Engines and workers share it: a
 * worker puts a large output there and reports only the reference; whoever needs the value reads it back.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { ObjectStore } from '@nats-io/obj';
import type { PayloadRef } from '../../events/index.js';
import type { BlobStore } from '../port.js';
import { jetstream, Objm } from '../jetstream/nats-lib.js';
import { chunksOf, Digesting, digestHex } from './digests.js';

export const BLOB_BUCKET = 'LF_BLOBS';

export class ObjectBlobStore implements BlobStore {
  private bucket: Promise<ObjectStore> | undefined;
  /**
   * `create`: make the bucket when it is not there (engines, the store's commands); false for a worker, whose user may
   * only read and write objects: it opens the bucket unchecked (the engines made it when they started).
   */
  constructor(
    private readonly connection: () => Promise<NatsConnection>,
    private readonly opts: { create?: boolean; name?: string; replicas?: number } = {},
  ) {}

  /** The bucket, made (or opened) on first use. */
  private store(): Promise<ObjectStore> {
    const name = this.opts.name ?? BLOB_BUCKET;
    this.bucket ??= this.connection().then((nc) => {
      const objm = new Objm(jetstream(nc));
      return this.opts.create === false
        ? objm.open(name, false)
        : objm.create(name, this.opts.replicas ? { replicas: this.opts.replicas } : {});
    });
    this.bucket.catch(() => (this.bucket = undefined));
    return this.bucket;
  }

  /** Makes the bucket now if it is not there (an engine, at its start: workers only open it). */
  async ready(): Promise<void> {
    await this.store();
  }

  async put(
    bytes: Uint8Array | AsyncIterable<Uint8Array>,
    mediaType: string,
    address?: () => { digest: string; size: number },
  ): Promise<PayloadRef> {
    // The object is named by the digest, known only once every byte passed, and the Object Store has no rename: the
    // chunks are kept (the executor's edge hands a whole buffer anyway, so this adds no copy) and sent after.
    const os = await this.store();
    const parts: Uint8Array[] = [];
    const d = new Digesting();
    for await (const c of chunksOf(bytes)) {
      d.add(c);
      parts.push(c);
    }
    const ref = d.ref(mediaType, address);
    const hex = digestHex(ref['lf:blob'].digest);
    const info = await os.info(hex);
    if (info && !info.deleted && info.size === d.size) return ref;
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < parts.length) controller.enqueue(parts[i++]!);
        else controller.close();
      },
    });
    await os.put({ name: hex, description: mediaType }, stream);
    return ref;
  }

  async open(digest: string): Promise<AsyncIterable<Uint8Array> | null> {
    const os = await this.store();
    const r = await os.get(digestHex(digest));
    if (!r) return null;
    const reader = r.data;
    return (async function* () {
      for await (const c of reader as unknown as AsyncIterable<Uint8Array>) yield c;
      const err = await r.error;
      if (err) throw err;
    })();
  }

  async has(digest: string): Promise<boolean> {
    const info = await (await this.store()).info(digestHex(digest));
    return info !== null && !info.deleted;
  }

  async delete(digest: string): Promise<void> {
    const os = await this.store();
    const hex = digestHex(digest);
    if (await os.info(hex)) await os.delete(hex);
  }

  async *list(): AsyncIterable<{ digest: string; size: number; storedAt: number }> {
    for (const info of await (await this.store()).list()) {
      if (info.deleted || !/^[0-9a-f]{64}$/.test(info.name)) continue;
      yield { digest: `sha256:${info.name}`, size: info.size, storedAt: Date.parse(info.mtime) };
    }
  }
}
