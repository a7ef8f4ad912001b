/**
 * The altered-blob tests' one way to change a large payload's body where NATS keeps it (the Object Store bucket
 * LF_BLOBS, one object named by the digest's hex): the page's export, whose summary's `"status":"complete"` gets one
 * byte flipped (to `compmete`), the size kept, under the same object name. Returns the object's name and what puts the
 * original back, as `nats object put LF_BLOBS <file> --name <hex>` from a backup does.
 */
import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { expect } from 'vitest';
import { forgetLoadedPayloads } from '../../src/executor/index.js';
import { BLOB_BUCKET } from '../../src/store/index.js';
import type { Cluster } from '../helpers/cluster.js';

type Ref = { 'lf:blob': { digest: string; size: number } };

export async function alterExport(
  c: Cluster,
  output: unknown,
): Promise<{ digest: string; hex: string; size: number; putBack: () => Promise<void> }> {
  const { digest, size } = (output as Ref)['lf:blob'];
  const hex = digest.slice('sha256:'.length);
  const os = await new Objm(jetstream(await c.admin())).open(BLOB_BUCKET);
  const original = (await os.getBlob(hex))!;
  expect(original.byteLength).toBe(size);
  const altered = Uint8Array.from(original);
  const at = Buffer.from(altered).indexOf('"status":"complete"') + '"status":"comp'.length;
  expect(at).toBeGreaterThan(0);
  altered[at]! ^= 1;
  await os.putBlob({ name: hex }, altered);
  expect(Buffer.from((await os.getBlob(hex))!).toString('utf8')).toContain('"status":"compmete"');
  // The engines and the worker share the test's process: what they loaded is forgotten, as another process never had it.
  forgetLoadedPayloads();
  const putBack = async () => {
    await os.putBlob({ name: hex }, original);
    forgetLoadedPayloads();
  };
  return { digest, hex, size, putBack };
}
