/**
 * On NATS a large output goes into the blobs bucket in bounded memory (docs/language.md "Large payloads": a worker
 * "puts a large output in the bucket in chunks"): a process storing a 100 MB output as a worker does
 * (blob-put-rss.mts: externalizeValue into the Object Store, in the clear and with a data key) grows by well under
 * the output's size, and the body reads back byte for byte under the digest of its JSON. A value whose JSON is not
 * the same twice is still stored under its own digest, and a body already in the bucket is not sent again.
 * Real nats-server.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Objm } from '@nats-io/obj';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { ObjectBlobStore, type BlobStore } from '../../src/store/index.js';
import { encryptedBlobs, KeyRing, newDataKeyText } from '../../src/encryption/index.js';
import { externalizeValue } from '../../src/executor/payloads.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./blob-put-rss.mts', import.meta.url));
const MiB = 1024 * 1024;

interface Measure {
  mode: string;
  jsonBytes: number;
  ref: { digest: string; size: number };
  expectedDigest: string;
  readDigest: string;
  readBytes: number;
  identical: boolean;
  growth: number;
  ms: number;
}

function measure(url: string, mode: 'plain' | 'encrypted'): Promise<Measure> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, url, '100', mode], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', rej);
    child.on('exit', (code) => (code === 0 ? res(JSON.parse(out) as Measure) : rej(new Error(`exit ${code}: ${err}`))));
  });
}

describe.skipIf(noNats)('a 100 MB output put on NATS', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  for (const mode of ['plain', 'encrypted'] as const) {
    it(`grows the putting process by well under its size, and reads back byte for byte (${mode})`, async () => {
      const m = await measure(server.url, mode);
      console.log(
        `${mode}: ${(m.jsonBytes / MiB).toFixed(1)} MiB of JSON put in ${m.ms} ms, peak RSS growth ${(m.growth / MiB).toFixed(1)} MiB`,
      );
      expect(m.jsonBytes).toBeGreaterThan(100_000_000);
      expect(m.ref).toMatchObject({ digest: m.expectedDigest, size: m.jsonBytes });
      expect(m.readDigest).toBe(m.expectedDigest);
      expect(m.readBytes).toBe(m.jsonBytes);
      expect(m.identical).toBe(true);
      // Holding the chunks until the digest is known grew it by about 160 MiB (190 with a data key).
      expect(m.growth).toBeLessThan(60 * MiB);
    }, 120_000);
  }

  for (const mode of ['plain', 'encrypted'] as const) {
    it(`stores a value whose JSON changes between passes under its own digest, and sends a stored body once (${mode})`, async () => {
      const raw = new ObjectBlobStore(async () => nc, { create: true, name: `LF_BLOBS_PASSES_${mode}` });
      const key = newDataKeyText();
      const blobs: BlobStore =
        mode === 'encrypted'
          ? encryptedBlobs(raw, new KeyRing(async (n) => (n === 'LF_DATA_KEY' ? key : undefined)))
          : raw;
      let calls = 0;
      const rows = Array.from({ length: 3000 }, (_, i) => ({ i, note: 'v'.repeat(1000) }));
      const changing = { rows, stamp: { toJSON: () => ++calls } };
      const ref = await externalizeValue(changing, blobs, 'produce');
      // Hashed, sent (and refused: other bytes), then kept whole as a one-shot source is.
      expect(calls).toBe(3);
      const hash = createHash('sha256');
      let size = 0;
      for await (const c of (await blobs.open(ref['lf:blob'].digest))!) {
        hash.update(c);
        size += c.byteLength;
      }
      const body = { digest: `sha256:${hash.digest('hex')}`, size };
      expect(body).toEqual({ digest: ref['lf:blob'].digest, size: ref['lf:blob'].size });
      const text = JSON.stringify({ rows, stamp: calls });
      expect(ref['lf:blob'].digest).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);

      const steady = { rows, stamp: 1 };
      const first = await externalizeValue(steady, blobs, 'produce');
      const hex = first['lf:blob'].digest.slice('sha256:'.length);
      const os = await new Objm(nc).open(`LF_BLOBS_PASSES_${mode}`);
      const before = (await os.info(hex))!;
      const again = await externalizeValue(steady, blobs, 'produce');
      expect(again).toEqual(first);
      expect((await os.info(hex))!.revision).toBe(before.revision);
    }, 60_000);
  }
});
