/**
 * Who works on an embedded store, for `ledgerflow agents` and the Coordination page (its agents view): each running
 * file agent writes a line of itself in the store's shared document `agents` (under the store's lock, as the task gates
 * are) when it starts, when the attempts it holds change, and every BEAT_MS besides. The line says what it said of
 * itself (queue, level, skills) and when it was last seen; a reader judges it up while it beats (and its process is
 * alive on this host), else gone. Over NATS the engines' presence registry says the same of workers.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { LEVELS } from '../authority/index.js';
import type { EventStore } from '../store/index.js';
import { keepSamples, loadOf, type LoadSample } from '../coordination/index.js';

export const AGENTS_DOC = 'agents';
/** How often a running agent says it is there, when nothing else changed. */
export const BEAT_MS = 5_000;
/** Not heard of for this long: gone (three beats missed). */
export const GONE_AFTER_MS = BEAT_MS * 3;
/** Lines kept: the newest seen (an agent started in a new folder each time must not grow the document for ever). */
const KEEP = 200;

const AgentLine = z.object({
  name: z.string(),
  inbox: z.string(),
  queue: z.string(),
  level: z.enum(LEVELS),
  skills: z.array(z.string()),
  pid: z.number().int(),
  host: z.string(),
  startedAt: z.string(),
  seenAt: z.string(),
  inFlight: z.number().int().nonnegative(),
  /** Its load at each beat of the last fifteen minutes, [ms, 0 idle or 1 busy]: the agents view's utilization (coordination/load.ts). */
  samples: z
    .array(z.tuple([z.number(), z.number().min(0).max(1)]))
    .max(400)
    .optional(),
});
const AgentsSchema = z.object({ agents: z.record(z.string(), AgentLine) });
export type AgentLine = z.infer<typeof AgentLine>;
export interface AgentSeen extends Omit<AgentLine, 'samples'> {
  state: 'up' | 'gone';
  samples?: LoadSample[];
}

/** Writes this agent's line (keyed by its inbox: a restart in the same folders is the same agent). */
export async function beat(
  store: EventStore,
  line: Omit<AgentLine, 'pid' | 'host' | 'seenAt' | 'samples'>,
  now = Date.now(),
): Promise<void> {
  if (!store.updateShared) return;
  await store.updateShared(AGENTS_DOC, (doc) => {
    const parsed = AgentsSchema.safeParse(doc);
    const before = parsed.success ? parsed.data.agents[line.inbox] : undefined;
    // A file agent has no bound on what it holds: its load is busy or idle (coordination/load.ts).
    const samples = keepSamples(
      (before?.samples ?? []).map(([at, load]) => ({ at, load })),
      { at: now, load: loadOf(line.inFlight) },
      200,
    ).map((s): [number, number] => [s.at, s.load]);
    const agents = {
      ...(parsed.success ? parsed.data.agents : {}),
      [line.inbox]: { ...line, pid: process.pid, host: hostname(), seenAt: new Date(now).toISOString(), samples },
    };
    const newest = Object.entries(agents)
      .sort((a, b) => (a[1].seenAt < b[1].seenAt ? 1 : -1))
      .slice(0, KEEP);
    return { doc: { agents: Object.fromEntries(newest) }, result: null };
  });
}

/** Every agent line of the store, newest seen first, each judged up or gone. */
export async function agentsSeen(store: EventStore, now = Date.now()): Promise<AgentSeen[]> {
  if (!store.readShared) return [];
  const parsed = AgentsSchema.safeParse(await store.readShared(AGENTS_DOC));
  if (!parsed.success) return [];
  return Object.values(parsed.data.agents)
    .sort((a, b) => (a.seenAt < b.seenAt ? 1 : -1))
    .map(({ samples, ...a }) => ({
      ...a,
      state: up(a, now) ? 'up' : 'gone',
      ...(samples ? { samples: samples.map(([at, load]) => ({ at, load })) } : {}),
    }));
}

function up(a: AgentLine, now: number): boolean {
  return now - Date.parse(a.seenAt) <= GONE_AFTER_MS && processAlive(a.host, a.pid) !== false;
}

/** Whether process `pid` of `host` is alive; undefined on another host (it cannot be asked). */
export function processAlive(host: string, pid: number): boolean | undefined {
  if (host !== hostname()) return undefined;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // there, but another user's
  }
}
