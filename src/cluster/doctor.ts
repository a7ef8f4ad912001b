/**
 * `ledgerflow doctor`: every stream and KV bucket ledgerflow keeps on a NATS
 * server, with its replicas, leader and the health of each replica, and a
 * warning wherever that differs from the replica setting or a replica is not
 * current. Reads only; creates nothing.
 */
import type { JetStreamManager, StreamInfo } from 'nats';
import { ATTEMPTS_BUCKET } from './attempts.js';
import { ENGINE_BUCKET } from './attempt-tokens.js';
import { SCHEDULES_BUCKET } from './schedule-cursor.js';
import { DEFINITIONS_BUCKET, STREAMS } from './subjects.js';
import { RUNS_INDEX_BUCKET } from '../query/index.js';

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
}

/** The streams and buckets ledgerflow creates; the log's stream and the snapshot bucket may be renamed in settings. */
export function expectedStreams(opts: { logStream?: string; snapshotBucket?: string } = {}): string[] {
  return [
    opts.logStream ?? 'LF_EVENTS',
    ...Object.values(STREAMS).map((s) => s.name),
    ...[DEFINITIONS_BUCKET, ATTEMPTS_BUCKET, ENGINE_BUCKET, opts.snapshotBucket ?? 'LF_SNAPSHOTS', SCHEDULES_BUCKET, RUNS_INDEX_BUCKET].map((b) => `KV_${b}`),
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

export async function inspectCluster(jsm: JetStreamManager, opts: { server: string; expectedReplicas?: number; logStream?: string; snapshotBucket?: string }): Promise<DoctorReport> {
  const expectedReplicas = opts.expectedReplicas ?? 1;
  const wanted = expectedStreams(opts);
  const found = new Map<string, StreamHealth>();
  for await (const si of jsm.streams.list()) {
    if (wanted.includes(si.config.name)) found.set(si.config.name, health(si));
  }
  const streams = wanted.filter((n) => found.has(n)).map((n) => found.get(n)!);
  const warnings: string[] = [];
  for (const s of streams) {
    if (s.replicas !== expectedReplicas) {
      warnings.push(`${s.name} has ${s.replicas} replica${s.replicas === 1 ? '' : 's'}, but the setting (LEDGERFLOW_NATS_REPLICAS) is ${expectedReplicas}: it was created before the setting changed; recreate it (or change its config with the nats CLI) to match`);
    }
    if (s.replicas > 1 && !s.leader) warnings.push(`${s.name} has no leader: fewer than a majority of its ${s.replicas} replicas are up`);
    for (const p of s.peers) {
      if (p.offline) warnings.push(`${s.name}: replica on ${p.name} is offline${p.seenMsAgo > 0 ? ` (not heard from for ${Math.round(p.seenMsAgo / 1000)} s)` : ''}`);
      else if (!p.current) warnings.push(`${s.name}: replica on ${p.name} is behind by ${p.lag} operations`);
    }
  }
  return { server: opts.server, expectedReplicas, streams, missing: wanted.filter((n) => !found.has(n)), warnings };
}
