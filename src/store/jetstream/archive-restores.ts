/**
 * The NATS side of archive/restores.ts: when `restore` brought runs back, kept under the key `restores` of KV
 * LF_ARCHIVE_INDEX (one entry, put under the archive's lock, so a read-modify-write needs no compare).
 */
import type { KV } from '@nats-io/kv';
import { parseRestores, withRestore, type Restores } from '../archive/restores.js';

const KEY = 'restores';

export async function readRestores(kv: KV, bucket: string): Promise<Restores> {
  const got = await kv.get(KEY);
  return parseRestores(got && got.operation === 'PUT' ? got.string() : null, `the key ${KEY} of KV ${bucket}`);
}

export async function noteRestore(kv: KV, bucket: string, runId: string): Promise<void> {
  await kv.put(KEY, withRestore(await readRestores(kv, bucket), runId, new Date()));
}
