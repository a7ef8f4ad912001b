/**
 * `ledgerflow doctor`: every stream and KV bucket ledgerflow keeps on a NATS server, with its replicas, leader and the
 * health of each replica, and a warning wherever that differs from the replica setting or a replica is not current.
 * Reads only; creates nothing. The task queues' streams (LF_TASKS_<queue>) are made as engines first hand out attempts
 * on each queue: doctor checks those it finds; and says what is left in the single LF_TASKS of older versions
 * (legacy-tasks.ts).
 */
import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import {
  ATTEMPTS_BUCKET,
  ENGINE_BUCKET,
  SCHEDULES_BUCKET,
  DEFINITIONS_BUCKET,
  LEGACY_TASKS,
  STREAMS,
  TASK_STREAM_PREFIX,
} from '../transport/index.js';
import { LEGACY_TASKS_EVERY_MS, GATES_BUCKET, TRIGGER_LOG_STREAM } from '../engine/index.js';
import { RUNS_INDEX_BUCKET } from '../../query/index.js';
import { ADMISSION_BUCKET, ARCHIVE_BUCKET, ARCHIVE_INDEX_BUCKET, TASK_GATES_BUCKET } from '../../store/index.js';

export interface StreamHealth {
  name: string;
  kind: 'stream' | 'kv';
  replicas: number;
  leader: string | null;
  /** Other replicas, as the leader sees them. */
  /** `seenMsAgo`: when the leader last heard from it. */
  peers: { name: string; current: boolean; offline: boolean; lag: number; seenMsAgo: number }[];
  messages: number;
  bytes: number;
}

export interface DoctorReport {
  server: string;
  expectedReplicas: number;
  streams: StreamHealth[];
  /** What ledgerflow would create that is not there yet (created on first use). */
  missing: string[];
  warnings: string[];
  /** Nothing wrong, but something to do (delete the LF_TASKS of older versions once it is empty). */
  notes: string[];
}

/** The streams and buckets ledgerflow creates; the log's stream and the snapshot bucket may be renamed in settings. */
export function expectedStreams(opts: { logStream?: string; snapshotBucket?: string } = {}): string[] {
  return [
    opts.logStream ?? 'LF_EVENTS',
    ...Object.values(STREAMS).map((s) => s.name),
    // The trigger gates' decision log (debounce/throttle: docs/triggers.md), made by the first engine or serve that gates an event.
    TRIGGER_LOG_STREAM,
    // LF_ADMISSION: the concurrency limits' lock and the run index's role (made by the first start of a workflow with `concurrency:`, or the first engine); LF_TRIGGER_GATES: pending bursts and windows; LF_TASK_GATES: task concurrency and rate limits (made by the first gated attempt).
    ...[
      DEFINITIONS_BUCKET,
      ATTEMPTS_BUCKET,
      ENGINE_BUCKET,
      opts.snapshotBucket ?? 'LF_SNAPSHOTS',
      SCHEDULES_BUCKET,
      RUNS_INDEX_BUCKET,
      ADMISSION_BUCKET,
      GATES_BUCKET,
      TASK_GATES_BUCKET,
      // The archive's index (docs/retention.md), made by the first archive.
      ARCHIVE_INDEX_BUCKET,
    ].map((b) => `KV_${b}`),
    // The archive's Object Store bucket: made with the streams' replicas and storage by the first archive.
    `OBJ_${ARCHIVE_BUCKET}`,
  ];
}

/** Raft followers hear from their leader about every second: silent for this long, a replica is taken for offline. */
export const OFFLINE_AFTER_MS = 5000;

function health(si: StreamInfo): StreamHealth {
  const kv = si.config.name.startsWith('KV_');
  return {
    name: si.config.name,
    kind: kv ? 'kv' : 'stream',
    replicas: si.config.num_replicas,
    leader: si.cluster?.leader ?? null,
    peers: (si.cluster?.replicas ?? []).map((r) => {
      const seenMsAgo = Math.round((r.active ?? 0) / 1e6);
      // nats-server 2.9 keeps a killed node's replica at offline: false, current: false, lag 0; only the
      // time since the leader last heard from it grows. A replica silent past a few heartbeats is offline.
      const offline = (r.offline ?? false) || (!r.current && seenMsAgo >= OFFLINE_AFTER_MS);
      return { name: r.name, current: r.current, offline, lag: r.lag ?? 0, seenMsAgo };
    }),
    messages: si.state.messages,
    bytes: si.state.bytes,
  };
}

export async function inspectCluster(
  jsm: JetStreamManager,
  opts: { server: string; expectedReplicas?: number; logStream?: string; snapshotBucket?: string },
): Promise<DoctorReport> {
  const expectedReplicas = opts.expectedReplicas ?? 1;
  const wanted = expectedStreams(opts);
  const found = new Map<string, StreamHealth>();
  const queues: StreamHealth[] = [];
  let legacy: StreamHealth | undefined;
  for await (const si of jsm.streams.list()) {
    if (wanted.includes(si.config.name)) found.set(si.config.name, health(si));
    else if (si.config.name.startsWith(TASK_STREAM_PREFIX)) queues.push(health(si));
    else if (si.config.name === LEGACY_TASKS.name) legacy = health(si);
  }
  const streams = [
    ...wanted.filter((n) => found.has(n)).map((n) => found.get(n)!),
    ...queues.sort((a, b) => a.name.localeCompare(b.name)),
    ...(legacy ? [legacy] : []),
  ];
  const warnings: string[] = [];
  const notes: string[] = [];
  if (legacy && legacy.messages > 0) {
    warnings.push(
      `${LEGACY_TASKS.name} holds ${legacy.messages} message${legacy.messages === 1 ? '' : 's'}: task attempts from before each queue had its own stream (LF_TASKS_<queue>), which no worker of this version reads; a running engine of this version moves them onto their queues' streams within ${LEGACY_TASKS_EVERY_MS / 1000} s, so if this stays, no engine of this version runs, or one of an older version still publishes there (stop it)`,
    );
  } else if (legacy) {
    notes.push(
      `${LEGACY_TASKS.name} is left from before each queue had its own stream (LF_TASKS_<queue>) and is empty: once no engine or worker of an older version runs, delete it (nats stream rm ${LEGACY_TASKS.name})`,
    );
  }
  for (const s of streams) {
    if (s.replicas !== expectedReplicas) {
      warnings.push(
        `${s.name} has ${s.replicas} replica${s.replicas === 1 ? '' : 's'}, but the setting (LEDGERFLOW_NATS_REPLICAS) is ${expectedReplicas}: it was created before the setting changed; recreate it (or change its config with the nats CLI) to match`,
      );
    }
    if (s.replicas > 1 && !s.leader)
      warnings.push(`${s.name} has no leader: fewer than a majority of its ${s.replicas} replicas are up`);
    for (const p of s.peers) {
      if (p.offline)
        warnings.push(
          `${s.name}: replica on ${p.name} is offline${p.seenMsAgo > 0 ? ` (not heard from for ${Math.round(p.seenMsAgo / 1000)} s)` : ''}`,
        );
      else if (!p.current) warnings.push(`${s.name}: replica on ${p.name} is behind by ${p.lag} operations`);
    }
  }
  return {
    server: opts.server,
    expectedReplicas,
    streams,
    missing: wanted.filter((n) => !found.has(n)),
    warnings,
    notes,
  };
}
