/**
 * `ledgerflow agents [--json]`: who works on the store (the agents view, docs/coordination.md). Embedded: every file
 * agent that ran on it (agent/registry.ts), up or gone, with its queue, level, skills and the attempts it holds. NATS:
 * every worker and agent the engines hear announce itself (presence), with its NATS user, queue, handlers and skills.
 * Each with its utilization over 1 and 15 minutes and the breakers of its queue and handlers; then, per workflow, who
 * took part in the newest runs. `--json` prints `{ agents: [...], participation: [...] }`, one shape on both stores
 * (GET /api/agents).
 */
import { participationOf, withBreakers, type AgentRow } from '../../coordination/index.js';
import { allBreakers } from '../../limits/index.js';
import { MAX_LIMIT, parseRunQuery } from '../../query/index.js';
import { runReads } from '../../runs/index.js';
import { inert } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import type { Io } from '../render/io.js';
import type { GlobalOpts } from '../flags/store.js';
import { sideFor } from '../runs.js';

export async function agentsCmd(io: Io, g: GlobalOpts, opts: { json?: boolean }): Promise<number> {
  const side = await sideFor(g);
  const { rows: seen, store } = await side.agents();
  const now = Date.now();
  const recent = await runReads(store).list(parseRunQuery({ limit: String(MAX_LIMIT) }, 'cli', now));
  const view = { agents: withBreakers(seen, await allBreakers(store, now)), participation: participationOf(recent) };
  if (opts.json) {
    io.out(JSON.stringify(view, null, 2));
    return EXIT.ok;
  }
  const rows = view.agents;
  if (rows.length === 0) io.out(side.says.noAgents);
  for (const r of rows) io.out(rowText(r));
  if (view.participation.length > 0) {
    io.out('');
    io.out('by workflow (the newest runs): agent runs');
    for (const w of view.participation) {
      io.out(
        `${inert(w.workflow)}  ${w.runs} run(s)${w.agents.length > 0 ? `: ${w.agents.map((a) => `${inert(a.name)} ${a.runs}`).join(', ')}` : ': no agent recorded'}`,
      );
    }
  }
  return EXIT.ok;
}

function rowText(r: AgentRow): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const what = [
    r.level ? `level ${r.level}` : '',
    r.skills.length ? `skills ${r.skills.map(inert).join(', ')}` : '',
    r.handlers ? `handlers ${r.handlers.map(inert).join(', ')}` : '',
    r.inFlight !== undefined ? `${r.inFlight} in flight` : '',
    r.utilization ? `utilization ${pct(r.utilization.m1)} 1m, ${pct(r.utilization.m15)} 15m` : '',
    ...(r.breakers ?? []).map((b) => `breaker ${inert(b.name)} ${b.state}`),
  ]
    .filter(Boolean)
    .join(', ');
  return `${inert(r.name)}  ${r.kind}  ${r.state}  queue ${inert(r.queue)}${what ? `  ${what}` : ''}  last seen ${r.lastSeen}`;
}
