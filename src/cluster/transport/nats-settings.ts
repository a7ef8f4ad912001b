/**
 * Stream settings a user can override from the environment, applied when
 * ledgerflow creates its streams on first use (existing streams are left alone):
 *   LEDGERFLOW_NATS_REPLICAS=3  LEDGERFLOW_NATS_STORAGE=file|memory
 *   LEDGERFLOW_NATS_MAX_AGE=90d (the log's retention)  LEDGERFLOW_NATS_MAX_BYTES=10737418240
 *   LEDGERFLOW_NATS_MAX_MSG_SIZE=1048576 (largest commit)  LEDGERFLOW_NATS_DUPLICATE_WINDOW=10m
 *   LEDGERFLOW_NATS_SNAPSHOT_MAX_AGE=30d (snapshots are a cache: aged out, a run loads from its log)
 *   LEDGERFLOW_NATS_MAX_DELIVER=20 (deliveries of a message to engines before it is dead-lettered)
 *   LEDGERFLOW_NATS_TASK_MAX_DELIVER=100 (the same for task attempts to workers)
 *   LEDGERFLOW_NATS_TASK_ACK_WAIT=10s (how long a worker may go without a heartbeat before its attempt
 *     runs elsewhere: the ack wait of the worker consumers engines create; a worker's --ack-wait wins for it)
 *   LEDGERFLOW_NATS_DLQ_MAX_AGE=14d  LEDGERFLOW_NATS_DLQ_MAX_BYTES=268435456  LEDGERFLOW_NATS_DLQ_MAX_MSGS=100000
 *     (the dead-letter stream's limits, oldest dropped first; applied to an existing LF_DLQ too,
 *     as the delivery bounds are to existing consumers)
 *   LEDGERFLOW_NATS_BLOBS_MAX_BYTES (the large payloads' bucket LF_BLOBS; default the largest of 1 GiB … 64 MiB the
 *     server can reserve)  LEDGERFLOW_NATS_UPLOADS_MAX_BYTES (LF_UPLOADS, people's large start inputs on their way;
 *     default 32 MiB, 4 MiB in memory)
 * Replicas and storage apply to the snapshot bucket too.
 *   LEDGERFLOW_NATS_OFFERS=on|off (default on): an engine offers each attempt to an idle worker before
 *     queueing it on LF_TASKS_<queue>, and a worker takes offers besides pulling (direct-dispatch.ts);
 *     `off` puts every attempt on the queue's stream (a worker then takes none: it pulls only)
 */
import { parseDuration } from '../../definition/index.js';
import { UsageError } from '../../errors/index.js';
import type { ClusterSettings } from './setup.js';
import type { JetStreamSnapshotOptions, JetStreamStoreOptions } from '../../store/index.js';

/** The variable `name`, read by `parse` (null: refused, saying it `is`); undefined when unset. */
function setting(name: string, parse: (v: string) => number | null, is: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = parse(v);
  if (n === null) throw new UsageError(`${name}=${v} ${is}`, { variable: name });
  return n;
}
const int = (name: string) =>
  setting(name, (v) => (Number.isInteger(Number(v)) && Number(v) > 0 ? Number(v) : null), 'must be a positive integer');
const duration = (name: string) => setting(name, parseDuration, 'is not a duration (e.g. 90d, 10m, PT1H)');

export function natsSettings(): {
  store: Omit<JetStreamStoreOptions, 'servers'>;
  cluster: ClusterSettings;
  snapshots: JetStreamSnapshotOptions;
} {
  const storage = process.env.LEDGERFLOW_NATS_STORAGE;
  if (storage !== undefined && storage !== '' && storage !== 'file' && storage !== 'memory') {
    throw new UsageError(`LEDGERFLOW_NATS_STORAGE=${storage} must be file or memory`, {
      variable: 'LEDGERFLOW_NATS_STORAGE',
    });
  }
  const replicas = int('LEDGERFLOW_NATS_REPLICAS');
  const common = { ...(replicas ? { replicas } : {}), ...(storage ? { storage: storage as 'file' | 'memory' } : {}) };
  const maxAgeMs = duration('LEDGERFLOW_NATS_MAX_AGE');
  const maxBytes = int('LEDGERFLOW_NATS_MAX_BYTES');
  const maxMsgSize = int('LEDGERFLOW_NATS_MAX_MSG_SIZE');
  const duplicateWindowMs = duration('LEDGERFLOW_NATS_DUPLICATE_WINDOW');
  const snapshotMaxAgeMs = duration('LEDGERFLOW_NATS_SNAPSHOT_MAX_AGE');
  const bounds: ClusterSettings = {};
  for (const [key, name, read] of [
    ['maxDeliver', 'LEDGERFLOW_NATS_MAX_DELIVER', int],
    ['taskMaxDeliver', 'LEDGERFLOW_NATS_TASK_MAX_DELIVER', int],
    ['taskAckWaitMs', 'LEDGERFLOW_NATS_TASK_ACK_WAIT', duration],
    ['dlqMaxAgeMs', 'LEDGERFLOW_NATS_DLQ_MAX_AGE', duration],
    ['dlqMaxBytes', 'LEDGERFLOW_NATS_DLQ_MAX_BYTES', int],
    ['dlqMaxMsgs', 'LEDGERFLOW_NATS_DLQ_MAX_MSGS', int],
    ['uploadsMaxBytes', 'LEDGERFLOW_NATS_UPLOADS_MAX_BYTES', int],
    ['blobsMaxBytes', 'LEDGERFLOW_NATS_BLOBS_MAX_BYTES', int],
  ] as const) {
    const v = read(name);
    if (v) bounds[key] = v;
  }
  return {
    snapshots: { ...common, ...(snapshotMaxAgeMs ? { maxAgeMs: snapshotMaxAgeMs } : {}) },
    store: {
      ...common,
      ...(maxAgeMs ? { maxAgeMs } : {}),
      ...(maxBytes ? { maxBytes } : {}),
      ...(maxMsgSize ? { maxMsgSize } : {}),
      ...(duplicateWindowMs ? { duplicateWindowMs } : {}),
      ...(bounds.blobsMaxBytes ? { blobsMaxBytes: bounds.blobsMaxBytes } : {}),
    },
    cluster: { ...common, ...(duplicateWindowMs ? { duplicateWindowMs } : {}), ...bounds },
  };
}

/** LEDGERFLOW_NATS_OFFERS: whether engines offer attempts straight to idle workers and workers take them (default on). */
export function offersEnabled(): boolean {
  const v = process.env.LEDGERFLOW_NATS_OFFERS;
  if (v === undefined || v === '' || v === 'on') return true;
  if (v === 'off') return false;
  throw new UsageError(`LEDGERFLOW_NATS_OFFERS=${v} must be on or off`, { variable: 'LEDGERFLOW_NATS_OFFERS' });
}
