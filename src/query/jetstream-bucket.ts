/**
 * KV bucket LF_RUNS_INDEX: run id → the run's record, the definition hash and, while the run is not settled, its
 * persisted fold (what continuing the record needs), or a note that the run's log cannot be read. Shared by the
 * projection (writes), reindex (rebuilds) and the reader (one ordered pass).
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import {
  AckPolicy,
  DeliverPolicy,
  StorageType,
  Kvm,
  apiErrorCode,
  drainConsumer,
  jetstreamManager,
  nanos,
  throwAway,
  type JetStreamEventStore,
} from '../store/index.js';
import { errorMessage } from '../errors/index.js';
import { z } from 'zod';
import type { RunRecord, StoredTracked } from './record.js';
import { StoredTrackedSchema } from './record-schema.js';
import { openFold, revealRecord, sealFold, sealRecord, type IndexSealer } from './record-values.js';

export const RUNS_INDEX_BUCKET = 'LF_RUNS_INDEX';
/** The durable consumer on the log's stream that the projection pulls from (one engine at a time: its role). */
export const RUNS_INDEX_CONSUMER = 'lf-runs-index';
/** Past this size a value keeps no fold: the next commit of the run rebuilds its record from the log. */
export const MAX_FOLD_BYTES = 256 * 1024;

export interface BucketSettings {
  replicas?: number;
  storage?: 'file' | 'memory';
}

const CorruptValueSchema = z.object({ corrupt: z.object({ runId: z.string(), file: z.string(), reason: z.string() }) });
export type IndexValue = StoredTracked | z.infer<typeof CorruptValueSchema>;

/** Creates the projection's durable consumer if missing: from `startSeq` (default: the stream's first message). */
export async function ensureProjectionConsumer(store: JetStreamEventStore, startSeq?: number): Promise<void> {
  const jsm = await jetstreamManager(await store.connection());
  try {
    await jsm.consumers.info(store.stream, RUNS_INDEX_CONSUMER);
    return;
  } catch (err) {
    if (!/consumer not found/i.test(errorMessage(err) ?? '')) throw err;
  }
  await jsm.consumers.add(store.stream, {
    durable_name: RUNS_INDEX_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_ack_pending: 1000,
    filter_subject: `${store.subjectPrefix}.>`,
    ...(startSeq
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }
      : { deliver_policy: DeliverPolicy.All }),
  });
}

export function openBucket(js: JetStreamClient, s: BucketSettings): Promise<KV> {
  return new Kvm(js).create(RUNS_INDEX_BUCKET, {
    history: 1,
    replicas: s.replicas ?? 1,
    storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
  });
}

/** `sealer` (an encrypting store's, with a key): the record's values and the fold sealed (record-values.ts). */
export function encodeValue(given: IndexValue, sealer?: IndexSealer | null): string {
  const v: IndexValue =
    sealer?.key && 'record' in given
      ? {
          ...given,
          record: sealRecord(sealer, given.record),
          fold: sealFold(sealer, given.record.runId, given.fold),
        }
      : given;
  if ('record' in v && v.fold) {
    const text = JSON.stringify(v);
    return text.length > MAX_FOLD_BYTES ? JSON.stringify({ ...v, fold: null }) : text;
  }
  return JSON.stringify(v);
}

/**
 * A stored value, checked; null when it is not one (then the run is read from its log). `sealer`: its values opened
 * (`[encrypted]` without the key); one sealed with a key not loaded here is null too.
 */
export function decodeValue(text: string, sealer?: IndexSealer | null): IndexValue | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null; // not JSON: treated as absent, the record is rebuilt
  }
  const t = StoredTrackedSchema.safeParse(raw);
  if (t.success) {
    const v = t.data as unknown as StoredTracked;
    if (!sealer) return v;
    const record = revealRecord(sealer, v.record);
    return record ? { ...v, record, fold: openFold(sealer, record.runId, v.fold) } : null;
  }
  const c = CorruptValueSchema.safeParse(raw);
  return c.success ? c.data : null;
}

/**
 * decodeValue, and once more after loading the keys of its values when they were sealed with a key this process had
 * not loaded (a rotation: the key from before is `LF_DATA_KEY_<id>`): null only when it still does not open.
 */
export async function decodeValueLoading(text: string, sealer?: IndexSealer | null): Promise<IndexValue | null> {
  const v = decodeValue(text, sealer);
  return v === null && sealer && (await sealer.loadMissing()) ? decodeValue(text, sealer) : v;
}

/** The server refused a write because the key moved on (or exists, for create). */
export function isCasConflict(err: unknown): boolean {
  return apiErrorCode(err) === 10071 || (err instanceof Error && /wrong last sequence|key exists/i.test(err.message));
}

export function isNotFound(err: unknown): boolean {
  return apiErrorCode(err) === 10059 || (err instanceof Error && /stream not found/i.test(err.message));
}

/**
 * The last message of every subject matching `filter` in `stream`, in one pass of a throw-away consumer (not a request
 * per subject), each handed to `each`. False when the stream does not exist.
 */
export async function lastPerSubject(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  opts: { filter: string; headersOnly?: boolean; what: string },
  each: (m: JsMsg) => void,
): Promise<boolean> {
  let ci;
  try {
    ci = await jsm.consumers.add(stream, {
      ...throwAway(),
      deliver_policy: DeliverPolicy.LastPerSubject,
      filter_subject: opts.filter,
      ...(opts.headersOnly ? { headers_only: true } : {}),
    });
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
  for await (const m of drainConsumer(js, jsm, stream, ci, 5000, opts.what)) each(m);
  return true;
}

/**
 * Every value in the bucket, in one ordered pass over its stream (the last message per key, deleted keys left out), not
 * a get per key. Null when the bucket does not exist.
 */
export async function readBucket(
  js: JetStreamClient,
  jsm: JetStreamManager,
  sealer?: IndexSealer | null,
): Promise<Map<string, RunRecord | { corrupt: { runId: string; file: string; reason: string } }> | null> {
  const out = new Map<string, RunRecord | { corrupt: { runId: string; file: string; reason: string } }>();
  const prefix = `$KV.${RUNS_INDEX_BUCKET}.`;
  // Values that did not open: decoded again once the keys they name are loaded (decodeValueLoading).
  const again: { key: string; text: string }[] = [];
  const found = await lastPerSubject(
    js,
    jsm,
    `KV_${RUNS_INDEX_BUCKET}`,
    { filter: `${prefix}>`, what: `read ${RUNS_INDEX_BUCKET}` },
    (m) => {
      const op = m.headers?.get('KV-Operation');
      if (op === 'DEL' || op === 'PURGE') return;
      const text = m.string();
      const v = decodeValue(text, sealer);
      if (v) out.set(m.subject.slice(prefix.length), 'record' in v ? v.record : v);
      else if (sealer) again.push({ key: m.subject.slice(prefix.length), text });
    },
  );
  if (found && again.length > 0 && (await sealer?.loadMissing()))
    for (const { key, text } of again) {
      const v = decodeValue(text, sealer);
      if (v) out.set(key, 'record' in v ? v.record : v);
    }
  return found ? out : null;
}
