/**
 * `ledgerflow agent --inbox 1N.3OX --outbox 0UT.3OX [--queue q] [--level L3]
 * [--skills a,b]`: a worker whose agent is whatever reads task files and
 * writes result files (docs/agents.md, src/agent/). It declares its queue on
 * the store (engines then hold that queue's attempts for agents), then passes
 * over its folders until stopped; `--once` makes one pass, `--withdraw` takes
 * the declaration back.
 */
import { parseSkills } from './skills-flag.js';
import { mkdir } from 'node:fs/promises';
import { atLeast, levelText, parseLevel } from '../authority/index.js';
import { actingUser } from './acting.js';
import { FileAgent, type PassReport } from '../agent/index.js';
import { DEFAULT_QUEUE } from '../definition/index.js';
import { AuthorityError, UsageError, errorMessage } from '../errors/index.js';
import { declareAgentQueue } from '../executor/index.js';
import { optionalDurationFlag } from './duration-flag.js';
import { EXIT } from './exit.js';
import { json, type Io } from './io.js';
import { storeFor } from './open-store.js';
import { untilSignal } from './signals.js';
import { usesNats, type GlobalOpts } from './store.js';
import { workerQueue } from './station-flag.js';

export interface AgentOpts { inbox: string; outbox: string; queue?: string; station?: string; handler?: string; as?: string; level?: string; skills?: string; name?: string; poll?: string; once?: boolean; withdraw?: boolean; json?: boolean }

export async function agentCmd(io: Io, g: GlobalOpts, o: AgentOpts): Promise<number> {
  const given = parseLevel(o.level ?? 'L3');
  if (!given) throw new UsageError(`--level ${JSON.stringify(o.level)} is not a level: give one of L0, L1, L2, L3 (the agent's authority: it takes tasks whose agent_level it meets)`, { level: o.level });
  const queue = workerQueue(o) ?? DEFAULT_QUEUE;
  const pollMs = optionalDurationFlag('--poll', o.poll, '200ms or 1s') ?? 200;
  if (usesNats(g)) {
    if (o.once || o.withdraw) throw new UsageError('--once and --withdraw are for the embedded store: over NATS an agent is a worker, which runs until stopped', {});
    const { natsAgentCmd } = await import('./agent-nats.js');
    return natsAgentCmd(io, g, { inbox: o.inbox, outbox: o.outbox, queue, level: given, pollMs, skills: parseSkills(o.skills), ...(o.handler !== undefined ? { handler: o.handler } : {}) });
  }
  if (o.handler !== undefined) throw new UsageError('--handler is for NATS (attempts handed out per handler name): on the embedded store an agent takes every handler task of its queue', {});
  // With a users file, the agent is one of its users (docs/users.md): its level is theirs, and --level may only lower it.
  const acting = await actingUser(o.as);
  if (acting.level && o.level !== undefined && !atLeast(acting.level, given)) {
    throw new AuthorityError(`${acting.name} is ${levelText(acting.level)}; an agent of level ${levelText(given)} needs that level or higher; nothing was declared`, { user: acting.name, have: acting.level, need: given, action: 'execute' });
  }
  const level = o.level === undefined && acting.level ? acting.level : given;
  const store = storeFor(g);
  if (o.withdraw) {
    await declareAgentQueue(store, queue, 'withdraw');
    if (o.json) io.out(json({ queue, withdrawn: true }));
    else io.out(`queue ${queue} is no longer served by file agents: engines run its tasks with their handlers again`);
    return EXIT.ok;
  }
  const skills = parseSkills(o.skills);
  await mkdir(o.inbox, { recursive: true });
  await mkdir(o.outbox, { recursive: true });
  // Progress goes to stderr with --json (stdout then carries the pass's report only).
  const say = o.json ? io.err : io.out;
  const name = o.name ?? (acting.actor ? acting.name : `agent:${queue}`);
  const agent = new FileAgent({ store, inbox: o.inbox, outbox: o.outbox, queue, level, skills, name, ...(acting.actor ? { actor: { ...acting.actor, level } } : {}), log: say });
  await agent.declare();
  if (o.once) {
    const report = await agent.pass();
    if (o.json) io.out(json(report));
    else io.out(`one pass on queue ${queue}: ${report.written.length} task file(s) written, ${report.recorded.length} result(s) recorded, ${report.rejected.length} file(s) refused`);
    return EXIT.ok;
  }
  say(`agent on queue ${queue} (level ${level}${skills.length > 0 ? `, skills ${skills.join(', ')}` : ''}): task files in ${o.inbox}, results from ${o.outbox}; Ctrl-C stops it`);
  let stopped = false;
  let wake: (() => void) | null = null;
  const loop = (async () => {
    while (!stopped) {
      try {
        await agent.pass();
      } catch (err) {
        // A pass that failed (a folder not writable, the store busy) is said and tried again: the next pass redoes what it did not finish.
        io.err(`agent: ${errorMessage(err)}; trying again`);
      }
      if (!stopped) await new Promise<void>((r) => { wake = r; setTimeout(r, pollMs); });
    }
  })();
  return untilSignal(io, 'the agent', async () => {
    stopped = true;
    (wake as (() => void) | null)?.();
    await loop;
  });
}

export type { PassReport };
