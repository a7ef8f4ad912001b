/**
 * One row per agent or worker, the same on both stores (`ledgerflow agents`,
 * GET /api/agents, the Coordination page): from the embedded store's agent
 * lines (agent/registry.ts) or from what NATS engines hear workers announce
 * (presence). Pure: the lines in, the rows out.
 */

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
  lastSeen: string;
}

/** An embedded store's agent line, as agent/registry.ts reads it. */
export interface AgentLineSeen { name: string; queue: string; level: string; skills: string[]; inFlight: number; seenAt: string; state: 'up' | 'gone' }
/** A worker NATS engines heard announce itself (cluster/transport/presence.ts). */
export interface WorkerHeard { user: string; queue: string; worker: string; handlers: string[]; seenMsAgo: number; skills?: string[]; inFlight?: number; concurrency?: number }

export function fileAgentRows(lines: readonly AgentLineSeen[]): AgentRow[] {
  return lines.map((a) => ({ name: a.name, kind: 'file agent', state: a.state, queue: a.queue, level: a.level, skills: a.skills, inFlight: a.inFlight, lastSeen: a.seenAt }));
}

export function workerRows(workers: readonly WorkerHeard[], now: number): AgentRow[] {
  return workers.map((w) => ({
    name: w.worker, kind: 'worker', state: 'up', queue: w.queue, skills: w.skills ?? [], handlers: w.handlers, user: w.user, lastSeen: new Date(now - w.seenMsAgo).toISOString(),
    ...(w.inFlight !== undefined ? { inFlight: w.inFlight } : {}),
  }));
}
