/**
 * `archive list`'s counts on NATS, kept under the key `summary` of KV LF_ARCHIVE_INDEX so listing reads one entry
 * instead of every `in.<period>.<runId>` key and every object of LF_ARCHIVE. Derived data: the summary counts only
 * while it is the last thing written to the bucket (its revision is the bucket's stream's last sequence). Any write it
 * did not account for (a move's intent left by a kill, recovery's deletions, an older engine's move) comes after it,
 * and the next `archive list` counts again (the full pass) and puts it afresh. It is put expecting the stream's last
 * sequence seen when its counts were taken, so a write it did not see meanwhile leaves it unwritten rather than wrong.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/nats-core';
import { kvKeys } from './kv-keys.js';
import { jetstream, kvPutSubject } from './nats-lib.js';

const KEY = 'summary';

/** Per period: runs archived (the `in.` keys) and the bytes of its objects. */
export type PeriodTotals = Map<string, { runs: number; bytes: number }>;

/** The summary's totals while it is current; null when it is missing or anything was written after it. */
export async function readTotals(kv: KV): Promise<PeriodTotals | null> {
  const [got, status] = await Promise.all([kv.get(KEY), kv.status()]);
  if (!got || got.operation !== 'PUT' || got.revision !== status.streamInfo.state.last_seq) return null;
  try {
    return new Map(Object.entries(got.json<Record<string, { runs: number; bytes: number }>>()));
  } catch {
    return null;
  }
}

/** The bucket's stream's last sequence: a summary put expecting it is written only if nothing came between. */
export async function lastWrite(kv: KV): Promise<number> {
  return (await kv.status()).streamInfo.state.last_seq;
}

/** The full pass: every `in.` key of the index `bucket` counted, every object's size summed. */
export async function countTotals(js: JetStreamClient, bucket: string, os: ObjectStore): Promise<PeriodTotals> {
  const totals: PeriodTotals = new Map();
  const of = (period: string) => {
    let t = totals.get(period);
    if (!t) totals.set(period, (t = { runs: 0, bytes: 0 }));
    return t;
  };
  // Not kv.keys(): it could wait for ever when a run was restored (its key deleted) as it listed (kv-keys.ts).
  for (const key of await kvKeys(js, bucket, 'in.>')) of(key.split('.')[1]!).runs++;
  for (const o of await os.list()) of(o.name.split('/')[0]!).bytes += o.size;
  return totals;
}

/** Puts `totals` as the summary, if the bucket's last write is still `expected`; false when it was not. */
export async function writeTotals(
  nc: NatsConnection,
  bucket: string,
  totals: PeriodTotals,
  expected: number,
): Promise<boolean> {
  const doc: Record<string, { runs: number; bytes: number }> = {};
  for (const [p, t] of [...totals].sort(([a], [b]) => a.localeCompare(b))) if (t.runs > 0 || t.bytes > 0) doc[p] = t;
  try {
    await jetstream(nc).publish(kvPutSubject(nc, bucket, KEY), JSON.stringify(doc), {
      expect: { lastSequence: expected },
    });
    return true;
  } catch {
    return false; // written to meanwhile (or not reached): the next `archive list` counts again
  }
}

/** `totals` with a move's runs and bytes added per period (negative runs: a restore). */
export function addTotals(totals: PeriodTotals, delta: PeriodTotals): PeriodTotals {
  const out: PeriodTotals = new Map([...totals].map(([p, t]) => [p, { ...t }]));
  for (const [p, d] of delta) {
    const t = out.get(p) ?? { runs: 0, bytes: 0 };
    out.set(p, { runs: t.runs + d.runs, bytes: t.bytes + d.bytes });
  }
  return out;
}
