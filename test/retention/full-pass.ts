/**
 * `archive list` as it was counted before the summary (src/store/archive/summary.ts, src/store/jetstream/archive-summary.ts):
 * every archived run's index entry read, every period file or object's size. The archive tests compare the summary's
 * answer with this one after each move, restore and kill.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { jetstream } from '@nats-io/jetstream';
import { ArchiveShards } from '../../src/store/archive/shards.js';
import type { ArchivePeriod } from '../../src/store/index.js';

const sorted = (counts: Map<string, number>, bytes: (p: string) => number, location: (p: string) => string) =>
  [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([period, runs]) => ({ period, runs, bytes: bytes(period), location: location(period) }));

/** The file store's: every index shard read. */
export async function fileFullPass(storeDir: string): Promise<ArchivePeriod[]> {
  const dir = join(storeDir, 'archive');
  const counts = new Map<string, number>();
  for (const e of await new ArchiveShards(join(dir, 'index')).all())
    counts.set(e.period, (counts.get(e.period) ?? 0) + 1);
  const file = (p: string) => join(dir, `${p}.jsonl.gz`);
  return sorted(counts, (p) => statSync(file(p), { throwIfNoEntry: false })?.size ?? 0, file);
}

/** NATS's: every `in.<period>.<runId>` key of KV LF_ARCHIVE_INDEX, every object of LF_ARCHIVE. */
export async function natsFullPass(nc: NatsConnection): Promise<ArchivePeriod[]> {
  const js = jetstream(nc);
  const kv = await new Kvm(js).open('LF_ARCHIVE_INDEX');
  const os = await new Objm(js).open('LF_ARCHIVE');
  const counts = new Map<string, number>();
  for await (const key of await kv.keys('in.>')) {
    const period = key.split('.')[1]!;
    counts.set(period, (counts.get(period) ?? 0) + 1);
  }
  const bytes = new Map<string, number>();
  for (const o of await os.list()) {
    const period = o.name.split('/')[0]!;
    bytes.set(period, (bytes.get(period) ?? 0) + o.size);
  }
  return sorted(
    counts,
    (p) => bytes.get(p) ?? 0,
    (p) => `LF_ARCHIVE/${p}/`,
  );
}
