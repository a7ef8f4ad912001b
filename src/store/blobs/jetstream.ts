/**
 * The NATS store's blobs: a JetStream Object Store bucket (LF_BLOBS by default), each body an object named by its
 * digest's hex, sent and read in chunks (128 KiB) so no message carries a body whole. Engines and workers share it: a
 * worker puts a large output there and reports only the reference; whoever needs the value reads it back, checked
 * against its digest as it streams (an object changed after it was put is BlobAlteredError, naming the object).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { MsgRequest } from '@nats-io/jetstream';
import type { ObjectStore } from '@nats-io/obj';
import type { PayloadRef } from '../../events/index.js';
import type { BlobPlace } from '../../errors/index.js';
import type { BlobSource, BlobStore } from '../port.js';
import { errorMessage, LedgerflowError, permissionDenied } from '../../errors/index.js';
import { jetstream, jetstreamManager, Objm } from '../jetstream/nats-lib.js';
import { checkedBody, chunksOf, Digesting, digestHex } from './digests.js';

export const BLOB_BUCKET = 'LF_BLOBS';

/**
 * LF_BLOBS's max_bytes when none is set (LEDGERFLOW_NATS_BLOBS_MAX_BYTES): the first of these the server can reserve
 * beside the other streams' bounds (a 1 GB server holds 256 MiB of it, a 4 GB one 1 GiB). Full, a put is refused
 * (discard new, LF_BLOBS_FULL) rather than filling the server's store, which would stop every stream.
 */
export const BLOB_MAX_BYTES_DEFAULTS = [1024, 512, 256, 128, 64].map((mib) => mib * 1024 * 1024);

export class ObjectBlobStore implements BlobStore {
  private bucket: Promise<ObjectStore> | undefined;
  /** This user may make no consumer (a person's: users/nats-conf-grants.ts): bodies are read by message gets. */
  private getsOnly = false;
  /**
   * `create`: make the bucket when it is not there (engines, the store's commands); false for a worker, whose user may
   * only read and write objects: it opens the bucket unchecked (the engines made it when they started).
   */
  constructor(
    private readonly connection: () => Promise<NatsConnection>,
    private readonly opts: { create?: boolean; name?: string; replicas?: number; maxBytes?: number | undefined } = {},
  ) {}

  /** The bucket, made (or opened) on first use. */
  private store(): Promise<ObjectStore> {
    const name = this.opts.name ?? BLOB_BUCKET;
    this.bucket ??= this.connection().then((nc) => {
      const objm = new Objm(jetstream(nc));
      return this.opts.create === false ? objm.open(name, false) : this.created(nc, objm, name);
    });
    this.bucket.catch(() => (this.bucket = undefined));
    return this.bucket;
  }

  /**
   * The bucket, made with its bound (max_bytes) or given one when an older version made it without: the setting, else
   * the largest default the server can reserve. A bound set already (by an operator) is kept.
   */
  private async created(nc: NatsConnection, objm: Objm, name: string): Promise<ObjectStore> {
    const jsm = await jetstreamManager(nc);
    const stream = `OBJ_${name}`;
    // With no setting and no room left for the smallest default (a small server whose other streams reserve it all),
    // the bucket is made unbounded, as before bounds: a large payloads' bucket must not stop the engine starting.
    const tries = this.opts.maxBytes ? [this.opts.maxBytes] : [...BLOB_MAX_BYTES_DEFAULTS, -1];
    const existing = await jsm.streams.info(stream).catch((err: unknown) => {
      // A person's user may read the bucket's messages and nothing more (users/nats-conf-grants.ts): it opens the
      // bucket unchecked, as a worker does, and makes nothing.
      if (permissionDenied(err) !== null) return 'refused' as const;
      return null;
    });
    if (existing === 'refused') return objm.open(name, false);
    for (const [i, max_bytes] of tries.entries()) {
      try {
        if (!existing)
          return await objm.create(name, {
            ...(this.opts.replicas ? { replicas: this.opts.replicas } : {}),
            max_bytes,
          });
        if (existing.config.max_bytes <= 0 && max_bytes > 0)
          await jsm.streams.update(stream, { ...existing.config, max_bytes });
        return await objm.open(name, false);
      } catch (err) {
        if (i === tries.length - 1 || !/insufficient (storage )?resources/i.test(errorMessage(err))) throw err;
      }
    }
    throw new Error('unreachable');
  }

  /** Makes the bucket now if it is not there (an engine, at its start: workers only open it). */
  async ready(): Promise<void> {
    await this.store();
  }

  /**
   * The object is named by the digest, known only once every byte passed, and the Object Store keeps an object under
   * the name it was put with. A repeatable source is read twice: hashed only (a body already stored is then not sent
   * at all), then streamed into the bucket a chunk at a time, so the body is never held whole; a one-shot source is
   * kept until its digest is known.
   */
  async put(
    bytes: BlobSource,
    mediaType: string,
    address?: () => { digest: string; size: number },
  ): Promise<PayloadRef> {
    const os = await this.store();
    if (typeof bytes !== 'function') return this.putHeld(os, bytes, mediaType, address);
    const first = new Digesting();
    for await (const c of bytes()) first.add(c);
    const ref = first.ref(mediaType, address);
    const hex = digestHex(ref['lf:blob'].digest);
    if (await stored(os, hex, first.size)) return ref;
    try {
      await os.put({ name: hex, description: mediaType }, secondPass(bytes(), first.size, ref, address));
      return ref;
    } catch (err) {
      full(err, first.size);
      // The second pass gave other bytes (a value whose JSON is not the same twice): nothing was stored under the
      // digest (the Object Store drops an object whose stream failed); this pass is kept whole, as a one-shot source.
      if (!isPassesDiffer(err)) throw err;
      return this.putHeld(os, bytes(), mediaType, address);
    }
  }

  /** A one-shot source: its chunks kept until the digest is known, then sent. */
  private async putHeld(
    os: ObjectStore,
    bytes: Uint8Array | AsyncIterable<Uint8Array>,
    mediaType: string,
    address?: () => { digest: string; size: number },
  ): Promise<PayloadRef> {
    const parts: Uint8Array[] = [];
    const d = new Digesting();
    for await (const c of chunksOf(bytes)) {
      d.add(c);
      parts.push(c);
    }
    const ref = d.ref(mediaType, address);
    const hex = digestHex(ref['lf:blob'].digest);
    if (await stored(os, hex, d.size)) return ref;
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < parts.length) controller.enqueue(parts[i++]!);
        else controller.close();
      },
    });
    await os.put({ name: hex, description: mediaType }, stream).catch((err: unknown) => {
      full(err, d.size);
      throw err;
    });
    return ref;
  }

  async open(digest: string): Promise<AsyncIterable<Uint8Array> | null> {
    const body = await this.openAtRest(digest);
    return body && checkedBody(digest, body, () => this.placeOf(digest));
  }

  placeOf(digest: string): BlobPlace {
    const bucket = this.opts.name ?? BLOB_BUCKET;
    const hex = digestHex(digest);
    return {
      place: `the object ${hex} of the bucket ${bucket}`,
      fix: `put the original body back under that name from a backup (\`nats object put ${bucket} <file> --name ${hex}\`)`,
    };
  }

  async openAtRest(digest: string): Promise<AsyncIterable<Uint8Array> | null> {
    const os = await this.store();
    const hex = digestHex(digest);
    if (!this.getsOnly) {
      try {
        const r = await os.get(hex);
        if (!r) return null;
        const reader = r.data;
        return (async function* () {
          for await (const c of reader as unknown as AsyncIterable<Uint8Array>) yield c;
          const err = await r.error;
          if (err) throw err;
        })();
      } catch (err) {
        // The Object Store reads a body through a consumer, which a person's user may not make: by gets from now on.
        if (permissionDenied(err) === null) throw err;
        this.getsOnly = true;
      }
    }
    return this.openByGets(os, hex);
  }

  /**
   * A body read chunk by chunk with message gets (`STREAM.MSG.GET`, the next message on the object's chunk subject
   * from where the last one was), which need no consumer: what a person's user may do (`blob get`, `replay`,
   * `history` reading into a body). One request a chunk (128 KiB); a body cut short fails its digest check.
   */
  private async openByGets(os: ObjectStore, hex: string): Promise<AsyncIterable<Uint8Array> | null> {
    const info = await os.info(hex);
    if (!info || info.deleted) return null;
    const jsm = await jetstreamManager(await this.connection());
    const bucket = this.opts.name ?? BLOB_BUCKET;
    const stream = `OBJ_${bucket}`;
    const next_by_subj = `$O.${bucket}.C.${info.nuid}`;
    return (async function* () {
      let seq = 1;
      for (let i = 0; i < info.chunks; i++) {
        // The server's API takes next_by_subj with a start (nats-server's JSApiMsgGetRequest); the client's type does not list it.
        const m = await jsm.streams.getMessage(stream, { seq, next_by_subj } as unknown as MsgRequest);
        if (!m) return;
        yield m.data;
        seq = m.seq + 1;
      }
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

/** A put LF_BLOBS refused for its bound (max_bytes, discard new) is said as such: what is full and what to do. */
function full(err: unknown, size: number): void {
  if (!/maximum bytes exceeded/i.test(errorMessage(err))) return;
  throw new LedgerflowError(
    'LF_BLOBS_FULL',
    `the large payloads' bucket ${BLOB_BUCKET} is full (its max_bytes): a body of ${size} bytes was not stored. Free it with \`ledgerflow blob gc\` (and \`archive\` settled runs), or raise its bound with LEDGERFLOW_NATS_BLOBS_MAX_BYTES on the engines (docs/nats.md#engines-and-workers-stopping-failover-stream-settings) and \`nats stream edit OBJ_${BLOB_BUCKET} --max-bytes\``,
    { bucket: BLOB_BUCKET, size },
  );
}

/** Whether the bucket has the object whole already (a put of the same bytes sends nothing). */
async function stored(os: ObjectStore, hex: string, size: number): Promise<boolean> {
  const info = await os.info(hex);
  return info !== null && !info.deleted && info.size === size;
}

/**
 * A repeatable source's second pass gave other bytes than its first: a marker caught in put, never thrown to a caller
 * (an Error marked, not a class of its own: the error classes a caller can receive are the exported ones).
 */
const passesDiffer = (): Error =>
  Object.assign(new Error('the second pass of a repeatable source gave other bytes than its first'), {
    passesDiffer: true,
  });
const isPassesDiffer = (err: unknown): boolean =>
  err instanceof Error && (err as { passesDiffer?: unknown }).passesDiffer === true;

/**
 * The second pass of a repeatable source as the stream `os.put` reads, one chunk pulled at a time (the bucket's
 * publishes, each awaited, set the pace), checked as it passes against the first pass: more bytes, or another digest
 * at the end, fails the stream before the object is complete, so nothing is stored under a digest not its own.
 */
function secondPass(
  chunks: AsyncIterable<Uint8Array>,
  size: number,
  ref: PayloadRef,
  address?: () => { digest: string; size: number },
): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const d = new Digesting();
  const want = ref['lf:blob'];
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const r = await it.next();
        if (r.done) {
          const got = d.ref(want.media_type, address)['lf:blob'];
          if (d.size === size && got.digest === want.digest && got.size === want.size) controller.close();
          else controller.error(passesDiffer());
          return;
        }
        d.add(r.value);
        if (d.size > size) {
          controller.error(passesDiffer());
          await it.return?.();
        } else controller.enqueue(r.value);
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
