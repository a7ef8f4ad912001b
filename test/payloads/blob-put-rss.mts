/**
 * A process that stores one large output in the NATS blobs bucket as a worker does (executor/payloads.ts
 * externalizeValue into an ObjectBlobStore; with LF_DATA_KEY set, through the encryption decorator), sampling its
 * resident memory every 10 ms from just before the put to just after it. The value is small in memory and large as
 * JSON (one string of 1 KiB, referred to from every row), so the growth is the put's own. It then reads the body back
 * as a stream and compares it, byte by byte, with JSON.stringify of the value. Prints one JSON line.
 *
 * Usage: node --import tsx blob-put-rss.mts <nats url> <MiB of JSON> [plain|encrypted]
 */
import { createHash } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { ObjectBlobStore } from '../../src/store/index.js';
import { encryptedBlobs, KeyRing, newDataKeyText } from '../../src/encryption/index.js';
import { externalizeValue } from '../../src/executor/payloads.js';
import type { BlobStore } from '../../src/store/index.js';

const [url, mib, mode = 'plain'] = process.argv.slice(2);
const nc = await connect({ servers: url! });
const raw = new ObjectBlobStore(async () => nc, { create: true, name: `LF_BLOBS_RSS_${process.pid}` });
const key = newDataKeyText();
const blobs: BlobStore =
  mode === 'encrypted' ? encryptedBlobs(raw, new KeyRing(async (n) => (n === 'LF_DATA_KEY' ? key : undefined))) : raw;
await raw.ready();

const note = 'n'.repeat(1000);
const rows = Array.from({ length: Math.ceil((Number(mib) * 1024 * 1024) / 1032) }, (_, i) => ({ i: i % 10, note }));
const value = { status: 'ok', rows };

globalThis.gc?.();
const base = process.memoryUsage().rss;
let peak = base;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 10);
const started = Date.now();
const ref = await externalizeValue(value, blobs, 'produce');
const ms = Date.now() - started;
peak = Math.max(peak, process.memoryUsage().rss);
clearInterval(sample);

// Read back as a stream, compared with JSON.stringify's bytes (made only now, after the measure).
const expected = Buffer.from(JSON.stringify(value), 'utf8');
const hash = createHash('sha256');
let at = 0;
let identical = true;
for await (const c of (await blobs.open(ref['lf:blob'].digest))!) {
  hash.update(c);
  if (identical && Buffer.compare(Buffer.from(c), expected.subarray(at, at + c.byteLength)) !== 0) identical = false;
  at += c.byteLength;
}
const expectedDigest = `sha256:${createHash('sha256').update(expected).digest('hex')}`;
console.log(
  JSON.stringify({
    mode,
    jsonBytes: expected.byteLength,
    ref: ref['lf:blob'],
    expectedDigest,
    readDigest: `sha256:${hash.digest('hex')}`,
    readBytes: at,
    identical: identical && at === expected.byteLength,
    baseRss: base,
    peakRss: peak,
    growth: peak - base,
    ms,
  }),
);
await nc.close();
