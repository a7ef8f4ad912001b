/**
 * A KV bucket's keys (those with a value: a deleted or purged key is left out), listed without nats.js's `kv.keys()`.
 * That one (nats.js 3.4) counts what its consumer has pending, then waits for those messages and a heartbeat; when a
 * key it counted is deleted while it lists, neither comes, and it waits for ever: with one key put and deleted in turn,
 * 70 listings of 200 never answered (2026-12-04), which stopped an engine's trigger-gate ticks for good and the
 * dashboard's progress stream. Here the store's own pass over a consumer (scan.ts), each fetch bounded in time: the
 * listing ends at the last message it counted, or when a fetch brings nothing (what it counted is gone).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { DeliverPolicy } from './nats-lib.js';
import { drainConsumer, throwAway } from './scan.js';

/** How long one fetch waits for what the consumer counted before the listing takes it as gone. */
const FETCH_WAIT_MS = 1000;

/** The keys of `bucket` matching `filter` (a KV key pattern: `*`, `>`), sorted. */
export async function kvKeys(js: JetStreamClient, bucket: string, filter = '>'): Promise<string[]> {
  const jsm = await js.jetstreamManager(false);
  const stream = `KV_${bucket}`;
  const prefix = `$KV.${bucket}.`;
  const ci = await jsm.consumers.add(stream, {
    ...throwAway(),
    deliver_policy: DeliverPolicy.LastPerSubject,
    headers_only: true,
    filter_subject: `${prefix}${filter}`,
  });
  const keys = new Set<string>();
  const listing = drainConsumer(js, jsm, stream, ci, FETCH_WAIT_MS, `list the keys of ${bucket}`, {
    endWhenEmpty: true,
  });
  for await (const m of listing) {
    const key = m.subject.slice(prefix.length);
    const op = m.headers?.get('KV-Operation');
    // The last message of each key: a delete or purge marker (one that came as it listed) says it has no value now.
    if (op === 'DEL' || op === 'PURGE') keys.delete(key);
    else keys.add(key);
  }
  return [...keys].sort();
}
