/**
 * `ledgerflow agents [--json]`: who works on the store (seed 004's agents
 * view, docs/coordination.md). Embedded: every file agent that ran on it
 * (agent/registry.ts), up or gone, with its queue, level, skills and the
 * attempts it holds. NATS: every worker and agent the engines hear
 * announce itself (presence), with its NATS user, queue and handlers.
 * `--json` prints `{ agents: [...] }` with one row shape on both stores.
 */
import { agentsSeen } from '../agent/index.js';
import { fileAgentRows, workerRows, type AgentRow } from '../coordination/index.js';
import { inert } from '../terminal/index.js';
import { EXIT } from './exit.js';
import type { Io } from './io.js';
import { storeFor } from './open-store.js';
import { usesNats, type GlobalOpts } from './store.js';

export async function agentsCmd(io: Io, g: GlobalOpts, opts: { json?: boolean }): Promise<number> {
  const rows = usesNats(g) ? await overNats(g) : fileAgentRows(await agentsSeen(storeFor(g)));
  if (opts.json) { io.out(JSON.stringify({ agents: rows }, null, 2)); return EXIT.ok; }
  if (rows.length === 0) {
    io.out(usesNats(g) ? 'no worker or agent announces itself (or no engine runs to hear them)' : 'no file agent has run on this store (`ledgerflow agent --queue <q>`, docs/agents.md)');
    return EXIT.ok;
  }
  for (const r of rows) {
    const what = [r.level ? `level ${r.level}` : '', r.skills.length ? `skills ${r.skills.map(inert).join(', ')}` : '', r.handlers ? `handlers ${r.handlers.map(inert).join(', ')}` : '', r.inFlight !== undefined ? `${r.inFlight} in flight` : ''].filter(Boolean).join(', ');
    io.out(`${inert(r.name)}  ${r.kind}  ${r.state}  queue ${inert(r.queue)}${what ? `  ${what}` : ''}  last seen ${r.lastSeen}`);
  }
  return EXIT.ok;
}

async function overNats(g: GlobalOpts): Promise<AgentRow[]> {
  const { withClient } = await import('./cluster.js');
  const { askPresence } = await import('../cluster/index.js');
  const report = await withClient(g, async (c) => askPresence(await c.store.connection()));
  return workerRows(report?.workers ?? [], Date.now());
}
