/**
 * Every BlobStore's read checks the body against the digest it was asked for (store/port.ts BlobStore.open,
 * readSync): a streamed read of an altered body fails with LF_BLOB_ALTERED before its last chunk (a consumer never
 * holds the whole of it), a whole read throws before it returns, and the error names the place and the fix. The file
 * store, the memory store and the encryption decorator over the file store (a body kept in the clear, as before a key
 * was set). The CLI's reads end to end: altered-blob.test.ts; on NATS: altered-blob-nats.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { encryptedBlobs, KeyRing } from '../../src/index.js';
import { FileBlobStore, MemoryBlobStore, type BlobStore } from '../../src/store/index.js';

const MiB = 1024 * 1024;
/** A body of three and a half MiB: the file store reads it in four chunks. */
const body = Buffer.from(JSON.stringify({ rows: 'r'.repeat(3.5 * MiB) }));

/** What a consumer of a streamed read got before the stream ended, and how it ended. */
async function consume(stream: AsyncIterable<Uint8Array> | null): Promise<{ got: number; error: unknown }> {
  let got = 0;
  try {
    for await (const c of stream!) got += c.byteLength;
    return { got, error: null };
  } catch (error) {
    return { got, error };
  }
}

function flipOneByte(file: string): void {
  const bytes = readFileSync(file);
  bytes[1000]! ^= 1;
  writeFileSync(file, bytes);
}

describe("a blob store's reads are checked against the digest", () => {
  it('the file store: a streamed read fails before its last chunk, a whole read throws; both name the file and the fix', async () => {
    const blobs = new FileBlobStore(join(tempDir('lf-blob-reads-'), 'blobs'));
    const { digest } = (await blobs.put(body, 'application/json'))['lf:blob'];
    // Intact: handed over whole, both ways.
    expect(await consume(await blobs.open(digest))).toEqual({ got: body.length, error: null });
    expect(Buffer.from(blobs.readSync(digest)!).equals(body)).toBe(true);

    const file = blobs.pathOf(digest);
    flipOneByte(file);
    const read = await consume(await blobs.open(digest));
    expect(read.error).toMatchObject({ code: 'LF_BLOB_ALTERED', meta: { digest, place: `the file ${file}` } });
    expect(read.got).toBeGreaterThan(0);
    expect(read.got).toBeLessThan(body.length);
    expect((read.error as Error).message).toContain(`ledgerflow blob get ${digest} --store <copy> --output ${file}`);
    expect(() => blobs.readSync(digest)).toThrow(
      expect.objectContaining({ code: 'LF_BLOB_ALTERED', meta: expect.objectContaining({ digest }) }),
    );
    expect(await blobs.open(`sha256:${'0'.repeat(64)}`)).toBeNull();
  });

  it('the memory store: bytes changed where they are kept are refused the same way', async () => {
    const blobs = new MemoryBlobStore();
    const { digest } = (await blobs.put(body, 'application/json'))['lf:blob'];
    expect(await consume(await blobs.open(digest))).toEqual({ got: body.length, error: null });
    // The bytes as kept (the memory store hands out its own buffer), changed.
    for await (const kept of (await blobs.openAtRest(digest))!) kept[1000]! ^= 1;
    expect(await consume(await blobs.open(digest))).toMatchObject({ error: { code: 'LF_BLOB_ALTERED' } });
    expect(() => blobs.readSync(digest)).toThrow(expect.objectContaining({ code: 'LF_BLOB_ALTERED' }));
  });

  it('encryption at rest over the file store: a body kept in the clear (no key yet) and changed names the file', async () => {
    const below = new FileBlobStore(join(tempDir('lf-blob-reads-enc-'), 'blobs'));
    const blobs: BlobStore = encryptedBlobs(below, new KeyRing(async () => undefined));
    const { digest } = (await blobs.put(body, 'application/json'))['lf:blob'];
    expect(await consume(await blobs.open(digest))).toEqual({ got: body.length, error: null });
    flipOneByte(below.pathOf(digest));
    const read = await consume(await blobs.open(digest));
    expect(read.error).toMatchObject({
      code: 'LF_BLOB_ALTERED',
      meta: { digest, place: `the file ${below.pathOf(digest)}` },
    });
    expect(read.got).toBeLessThan(body.length);
  });
});
