/**
 * The file store's blobs: `<store>/blobs/sha256/<2 hex>/<64 hex>`, each written to a temporary file beside them,
 * synced, then renamed into place (a crash leaves the whole body or none; a second put of the same bytes finds it
 * there and drops its copy). Bodies are streamed in and out, never held whole, and every read is checked against the
 * digest it was asked for (a file changed after it was written is BlobAlteredError, naming the file).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { PayloadRef } from '../../events/index.js';
import type { BlobPlace } from '../../errors/index.js';
import type { BlobSource, BlobStore } from '../port.js';
import { statOrNull, syncDir, unlessMissing } from '../durable-fs.js';
import { checkedBody, checkedWhole, chunksOf, Digesting, digestHex } from './digests.js';

export class FileBlobStore implements BlobStore {
  /** `dir`: the store's `blobs/` folder. */
  constructor(readonly dir: string) {}

  /** Where a blob's body is (the digest checked first: it names a file). */
  pathOf(digest: string): string {
    const hex = digestHex(digest);
    return join(this.dir, 'sha256', hex.slice(0, 2), hex);
  }

  async put(
    bytes: BlobSource,
    mediaType: string,
    address?: () => { digest: string; size: number },
  ): Promise<PayloadRef> {
    const tmpDir = join(this.dir, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomUUID()}.part`);
    const d = new Digesting();
    const fh = await open(tmp, 'w');
    try {
      for await (const c of chunksOf(bytes)) {
        d.add(c);
        await fh.write(c);
      }
      await fh.sync();
    } catch (err) {
      await fh.close();
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await fh.close();
    const ref = d.ref(mediaType, address);
    const path = this.pathOf(ref['lf:blob'].digest);
    if ((await statOrNull(path))?.size === d.size) {
      await unlink(tmp);
      return ref;
    }
    await mkdir(dirname(path), { recursive: true });
    await rename(tmp, path);
    await syncDir(dirname(path));
    return ref;
  }

  async open(digest: string): Promise<AsyncIterable<Uint8Array> | null> {
    const body = await this.openAtRest(digest);
    return body && checkedBody(digest, body, () => this.placeOf(digest));
  }

  async openAtRest(digest: string): Promise<AsyncIterable<Uint8Array> | null> {
    const path = this.pathOf(digest);
    if (!(await statOrNull(path))) return null;
    return createReadStream(path, { highWaterMark: 1 << 20 });
  }

  readSync(digest: string): Uint8Array | null {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(this.pathOf(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return checkedWhole(digest, bytes, () => this.placeOf(digest));
  }

  /**
   * A body's file, and how to put it back: `blob get` from a copy of the store checks the copy's body against the
   * digest and writes it whole in place (a .part renamed), so an intact copy is all it takes.
   */
  placeOf(digest: string): BlobPlace {
    const path = this.pathOf(digest);
    return {
      place: `the file ${path}`,
      fix: `put the original back from a copy of the store: \`ledgerflow blob get ${digest} --store <copy> --output ${path}\` checks the copy's body and writes it there`,
    };
  }

  async has(digest: string): Promise<boolean> {
    return (await statOrNull(this.pathOf(digest))) !== null;
  }

  async delete(digest: string): Promise<void> {
    await unlessMissing(unlink(this.pathOf(digest)));
  }

  async *list(): AsyncIterable<{ digest: string; size: number; storedAt: number }> {
    const root = join(this.dir, 'sha256');
    for (const prefix of (await unlessMissing(readdir(root))) ?? []) {
      for (const hex of (await unlessMissing(readdir(join(root, prefix)))) ?? []) {
        if (!/^[0-9a-f]{64}$/.test(hex)) continue;
        const st = await unlessMissing(stat(join(root, prefix, hex)));
        if (st) yield { digest: `sha256:${hex}`, size: st.size, storedAt: st.mtimeMs };
      }
    }
  }
}
