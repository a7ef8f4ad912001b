/**
 * GET /api/agents, as `ledgerflow agents --json` (docs/coordination.md): who works on the store, each with the breakers
 * of its queue and handlers, and who took part in the newest runs the index holds, per workflow.
 */
import { participationOf, withBreakers, type AgentRow, type WorkflowParticipation } from '../coordination/index.js';
import { allBreakers } from '../limits/index.js';
import { MAX_LIMIT, parseRunQuery } from '../query/index.js';
import type { Backend } from './backend.js';

export async function agentsView(
  backend: Backend,
): Promise<{ agents: AgentRow[]; participation: WorkflowParticipation[] }> {
  const now = Date.now();
  const agents = withBreakers(await backend.agents(), await allBreakers(backend.store, now));
  const recent = (await backend.runs.query(parseRunQuery({ limit: String(MAX_LIMIT) }, 'http', now))).runs;
  return { agents, participation: participationOf(recent) };
}
