/**
 * LF_BLOBS is bounded (docs/nats.md, stream settings): the engines make the bucket with max_bytes
 * (LEDGERFLOW_NATS_BLOBS_MAX_BYTES, else the largest default the server can reserve), a bucket an older version made
 * without one is given it, and a put the bound refuses is LF_BLOBS_FULL, saying what to do. Real nats-server.
 */
import type { ChildProcess } from 'node:child_process';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Objm } from '@nats-io/obj';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { spawnCli, tempDir } from '../helpers/cli.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { BLOB_BUCKET, ObjectBlobStore } from '../../src/store/index.js';

const MiB = 1024 * 1024;
const bytes = (n: number, fill: number) =>
  async function* () {
    yield new Uint8Array(n).fill(fill);
  };

describe.skipIf(noNats)('the large payloads bucket is bounded', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  const procs: ChildProcess[] = [];
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await killLeftovers(procs);
    await nc?.close();
    await server?.dispose();
  });

  it('an engine makes LF_BLOBS with LEDGERFLOW_NATS_BLOBS_MAX_BYTES; a put over it is LF_BLOBS_FULL', async () => {
    const engine = spawnCli(['engine', '--nats', server.url], {
      cwd: tempDir('lf-blobs-bound-'),
      env: { LEDGERFLOW_NATS_BLOBS_MAX_BYTES: String(2 * MiB) },
    });
    procs.push(engine);
    let log = '';
    engine.stderr!.on('data', (d) => (log += d));
    engine.stdout!.on('data', (d) => (log += d));
    const jsm = await jetstreamManager(nc);
    await waitFor(
      'the engine to make the bucket',
      async () => (await jsm.streams.info(`OBJ_${BLOB_BUCKET}`).catch(() => null)) !== null,
      {
        timeout: 30_000,
        detail: () => log,
      },
    );
    expect((await jsm.streams.info(`OBJ_${BLOB_BUCKET}`)).config.max_bytes).toBe(2 * MiB);
    // A worker's put (it only opens the bucket), over the bound.
    const worker = new ObjectBlobStore(async () => nc, { create: false });
    await expect(worker.put(bytes(3 * MiB, 1), 'application/octet-stream')).rejects.toMatchObject({
      code: 'LF_BLOBS_FULL',
      message: expect.stringContaining('ledgerflow blob gc'),
    });
    // One within it is stored.
    const ref = await worker.put(bytes(MiB, 2), 'application/octet-stream');
    expect(await worker.has(ref['lf:blob'].digest)).toBe(true);
  }, 60_000);

  it('a bucket made without a bound (an older version) is given the default when opened to write', async () => {
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    await new Objm(js).create('LF_BLOBS_OLD');
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info('OBJ_LF_BLOBS_OLD')).config.max_bytes).toBe(-1);
    await new ObjectBlobStore(async () => nc, { name: 'LF_BLOBS_OLD' }).ready();
    expect((await jsm.streams.info('OBJ_LF_BLOBS_OLD')).config.max_bytes).toBe(1024 * MiB);
  }, 30_000);
});
