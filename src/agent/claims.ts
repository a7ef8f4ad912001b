/**
 * Which file agent takes an attempt when several serve one queue on the embedded store: the first to claim its token in
 * the store's shared document `agent-claims` (changed under the store's lock, as the task gates are), so each attempt's
 * task file is written in one inbox only. An agent is its inbox (a restart of it, a new process on the same folders,
 * keeps its claims); a claim whose process is gone from this host is taken over, so an agent that died leaves nothing
 * stuck. Each agent drops its own claims once their attempts are no longer in flight. The outcome is fenced by the
 * token whatever the claims say: this spares duplicate work, it is not what keeps an outcome recorded once.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import type { EventStore } from '../store/index.js';
import { processAlive } from './registry.js';

export const AGENT_CLAIMS_DOC = 'agent-claims';
/** A claim of another host is trusted this long (its process cannot be asked): then taken over. */
const FOREIGN_CLAIM_MS = 24 * 60 * 60 * 1000;

const Claim = z.object({ agent: z.string(), pid: z.number().int(), host: z.string(), at: z.string() });
const ClaimsSchema = z.object({ claims: z.record(z.string(), Claim) });
type Claim = z.infer<typeof Claim>;

function alive(c: Claim, now: number): boolean {
  return processAlive(c.host, c.pid) ?? now - Date.parse(c.at) < FOREIGN_CLAIM_MS;
}

export class AgentClaims {
  constructor(
    private readonly store: EventStore,
    private readonly agent: string,
  ) {}

  /**
   * Of `fresh` (tokens this agent would write a task file for), those it holds now: unclaimed, its own, or claimed by
   * an agent process that is gone. Its own claims not in `inFlight` are dropped. Without shared documents (not the file
   * store), every token is this agent's.
   */
  async take(fresh: readonly string[], inFlight: ReadonlySet<string>): Promise<Set<string>> {
    if (!this.store.updateShared || fresh.length === 0) return new Set(fresh);
    const now = Date.now();
    const me: Claim = { agent: this.agent, pid: process.pid, host: hostname(), at: new Date(now).toISOString() };
    return this.store.updateShared(AGENT_CLAIMS_DOC, (doc) => {
      const parsed = ClaimsSchema.safeParse(doc);
      // A document that does not parse (hand-edited) starts afresh: at worst two agents both take an attempt once.
      const claims: Record<string, Claim> = parsed.success ? { ...parsed.data.claims } : {};
      for (const [token, c] of Object.entries(claims)) {
        if (c.agent === this.agent ? !inFlight.has(token) && !fresh.includes(token) : !alive(c, now))
          delete claims[token];
      }
      const mine = new Set<string>();
      for (const token of fresh) {
        const c = claims[token];
        if (c && c.agent !== this.agent) continue;
        claims[token] = me;
        mine.add(token);
      }
      return { doc: { claims }, result: mine };
    });
  }
}
