/**
 * `blob get` and `blob gc`: the bodies of large payloads kept apart from the events (a reference in `status`, `history`
 * and `--json` reads `[blob 100.0 MiB sha256:ab12…]`; this prints the body), and collecting those no run refers to.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { BlobMissingError, UsageError } from '../../errors/index.js';
import { PAYLOAD_GC_GRACE_MS, readBlob } from '../../executor/index.js';
import { parseDuration } from '../../definition/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { storeFor } from '../open-store.js';
import type { GlobalOpts } from '../flags/store.js';
import { sideFor } from '../runs.js';

/** `sha256:<hex>`, also when given as the bare hex a blob's file is named by. */
function digestArg(text: string): string {
  const digest = /^[0-9a-f]{64}$/.test(text) ? `sha256:${text}` : text;
  if (!/^sha256:[0-9a-f]{64}$/.test(digest))
    throw new UsageError(
      `"${text}" is not a payload digest: give the whole sha256:<64 hex> of the reference (ledgerflow history <runId> --json shows it)`,
      { value: text },
    );
  return digest;
}

export async function blobGetCmd(
  io: Io,
  g: GlobalOpts,
  digestText: string,
  opts: { output?: string },
): Promise<number> {
  const digest = digestArg(digestText);
  const blobs = storeFor(g).blobs?.();
  if (opts.output) {
    // Written beside the file and renamed over it once whole: the store's read is checked as it streams and fails
    // before its last chunk on a body changed in the store (LF_BLOB_ALTERED), which leaves no file, nor any earlier
    // one at that path changed.
    const body = blobs ? await blobs.open(digest) : null;
    if (!body) throw new BlobMissingError(digest, 'blob get');
    const part = `${opts.output}.${process.pid}.part`;
    try {
      await pipeline(Readable.from(body), createWriteStream(part, { flags: 'wx' }));
      await rename(part, opts.output);
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
    return EXIT.ok;
  }
  const bytes = blobs ? await readBlob(blobs, digest) : null;
  if (!bytes) throw new BlobMissingError(digest, 'blob get');
  io.out(new TextDecoder().decode(bytes));
  return EXIT.ok;
}

export async function blobGcCmd(
  io: Io,
  g: GlobalOpts,
  opts: { grace?: string; dryRun?: boolean; json?: boolean; as?: string },
): Promise<number> {
  const graceMs = opts.grace === undefined ? PAYLOAD_GC_GRACE_MS : parseDuration(opts.grace);
  if (graceMs === null)
    throw new UsageError(`--grace ${opts.grace} is not a duration: e.g. 30m, 1h, 2d`, { value: opts.grace });
  // Run control (L1 with a users file), judged by the run API before any blob is listed.
  const side = await sideFor(g);
  const acting = await side.acting(opts.as);
  const report = await (await side.runs()).collectBlobs({ graceMs, ...(opts.dryRun ? { dryRun: true } : {}) }, acting);
  const deleted = !opts.dryRun && report.corruptCount === 0;
  if (opts.json) io.out(json({ ...report, deleted }));
  else {
    const n = report.collectedCount;
    io.out(
      `${n} unreferenced blob${n === 1 ? '' : 's'} (${report.bytes.toLocaleString('en-US')} bytes) ${deleted ? 'deleted' : 'not deleted'}; ${report.kept} kept (referenced), ${report.young} kept (younger than the grace period)`,
    );
    if (report.corruptCount > 0) {
      const more = report.corruptCount - report.corrupt.length;
      io.out(
        `✗ nothing deleted: the logs of ${report.corrupt.join(', ')}${more > 0 ? ` and ${more} more runs` : ''} cannot be read, and may refer to any of them`,
      );
    }
  }
  return report.corruptCount > 0 ? EXIT.failed : EXIT.ok;
}
