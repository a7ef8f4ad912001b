/**
 * One row per agent or worker, the same on both stores (`ledgerflow agents`, GET /api/agents, the Coordination page):
 * from the embedded store's agent lines (agent/registry.ts) or from what NATS engines hear workers announce (presence).
 * Pure: the lines in, the rows out.
 */
import { utilizationOf, type LoadSample, type Utilization } from './load.js';

/** One agent or worker (absent fields: the store does not know them). */
export interface AgentRow {
  name: string;
  kind: 'file agent' | 'worker';
  state: 'up' | 'gone';
  queue: string;
  level?: string;
  skills: string[];
  handlers?: string[];
  user?: string;
  inFlight?: number;
  /** The share of its capacity used over the last minute and fifteen (load.ts). */
  utilization?: Utilization;
  /** The breakers of its queue and handlers (`queue/<q>`, `handler/<h>`) met so far, with their state. */
  breakers?: { name: string; state: string }[];
  lastSeen: string;
}

/** An embedded store's agent line, as agent/registry.ts reads it. */
export interface AgentLineSeen {
  name: string;
  queue: string;
  level: string;
  skills: string[];
  inFlight: number;
  seenAt: string;
  state: 'up' | 'gone';
  samples?: readonly LoadSample[];
}
/** A worker NATS engines heard announce itself (cluster/transport/presence.ts). */
export interface WorkerHeard {
  user: string;
  queue: string;
  worker: string;
  handlers: string[];
  seenMsAgo: number;
  skills?: string[];
  inFlight?: number;
  concurrency?: number;
  utilization?: Utilization;
  level?: string;
}

export function fileAgentRows(lines: readonly AgentLineSeen[], now: number = Date.now()): AgentRow[] {
  return lines.map((a) => {
    const utilization = a.samples ? utilizationOf(a.samples, now) : undefined;
    return {
      name: a.name,
      kind: 'file agent',
      state: a.state,
      queue: a.queue,
      level: a.level,
      skills: a.skills,
      inFlight: a.inFlight,
      ...(utilization ? { utilization } : {}),
      lastSeen: a.seenAt,
    };
  });
}

/** Each row with the breakers that hold its work: its queue's and its handlers' (`reports`: every breaker met, executor allBreakers). */
export function withBreakers(
  rows: readonly AgentRow[],
  reports: readonly { name: string; state: string }[],
): AgentRow[] {
  if (reports.length === 0) return [...rows];
  return rows.map((r) => {
    const mine = new Set([`queue/${r.queue}`, ...(r.handlers ?? []).map((h) => `handler/${h}`)]);
    const breakers = reports.filter((b) => mine.has(b.name)).map((b) => ({ name: b.name, state: b.state }));
    return breakers.length > 0 ? { ...r, breakers } : r;
  });
}

export function workerRows(workers: readonly WorkerHeard[], now: number): AgentRow[] {
  return workers.map((w) => ({
    name: w.worker,
    kind: 'worker',
    state: 'up',
    queue: w.queue,
    ...(w.level !== undefined ? { level: w.level } : {}),
    skills: w.skills ?? [],
    handlers: w.handlers,
    user: w.user,
    lastSeen: new Date(now - w.seenMsAgo).toISOString(),
    ...(w.inFlight !== undefined ? { inFlight: w.inFlight } : {}),
    ...(w.utilization ? { utilization: w.utilization } : {}),
  }));
}
