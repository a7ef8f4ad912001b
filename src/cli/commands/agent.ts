/**
 * `ledgerflow agent --inbox 1N.3OX --outbox 0UT.3OX [--queue q] [--level L3] [--skills a,b]`: a worker whose agent is
 * whatever reads task files and writes result files (docs/agents.md, src/agent/). It declares its queue on the store
 * (engines then hold that queue's attempts for agents), then passes over its folders until stopped; `--once` makes one
 * pass, `--withdraw` takes the declaration back. Over NATS (`--nats <url> --handler a,b`) it is a worker: a queue's
 * attempts are handed out per handler name (one consumer each), so it is told the names it answers; pulling, claiming,
 * heartbeats and reporting with the attempt's token are the worker's.
 */
import { parseSkills } from '../flags/skills-flag.js';
import { mkdir } from 'node:fs/promises';
import { atLeast, levelText, parseLevel, type Level } from '../../authority/index.js';
import { actingUser } from '../flags/acting.js';
import { FileExchange, StoreAttempts, WorkerAttempts } from '../../agent/index.js';
import { DEFAULT_QUEUE, handlerName, type Definition } from '../../definition/index.js';
import { AuthorityError, UsageError, errorMessage } from '../../errors/index.js';
import { agentTaskBody, declareAgentQueue } from '../../executor/index.js';
import { optionalDurationFlag } from '../flags/duration-flag.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { storeFor } from '../open-store.js';
import type { TaskHandler } from '../../runtime/index.js';
import { catchStopSignals, untilSignal } from '../signals.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';
import { workerQueue } from '../flags/station-flag.js';

export interface AgentOpts {
  inbox: string;
  outbox: string;
  queue?: string;
  station?: string;
  handler?: string;
  as?: string;
  level?: string;
  skills?: string;
  name?: string;
  poll?: string;
  once?: boolean;
  withdraw?: boolean;
  json?: boolean;
}

export async function agentCmd(io: Io, g: GlobalOpts, o: AgentOpts): Promise<number> {
  const given = parseLevel(o.level ?? 'L3');
  if (!given)
    throw new UsageError(
      `--level ${JSON.stringify(o.level)} is not a level: give one of L0, L1, L2, L3 (the agent's authority: it takes tasks whose agent_level it meets)`,
      { level: o.level },
    );
  const queue = workerQueue(o) ?? DEFAULT_QUEUE;
  const pollMs = optionalDurationFlag('--poll', o.poll, '200ms or 1s') ?? 200;
  const skills = parseSkills(o.skills);
  // Over NATS an agent is a worker (handed attempts per handler name), here a file agent that declares its queue.
  const worker = usesNats(g);
  // Progress goes to stderr with --json (stdout then carries the pass's report only); over NATS, always.
  const say = o.json || worker ? io.err : io.out;
  const ex = { inbox: o.inbox, outbox: o.outbox, queue, log: say };
  let wake: (() => void) | null = null;
  let started: { exchange: FileExchange; stop(): Promise<void> };
  if (worker) {
    if (o.once || o.withdraw)
      throw new UsageError(
        '--once and --withdraw are for the embedded store: over NATS an agent is a worker, which runs until stopped',
        {},
      );
    await mkdir(o.inbox, { recursive: true });
    await mkdir(o.outbox, { recursive: true });
    const attempts = new WorkerAttempts(ex, () => wake?.());
    const worker = await natsWorker(io, g, {
      queue,
      level: given,
      skills,
      handler: attempts.handler,
      ...(o.handler !== undefined ? { names: o.handler } : {}),
    });
    started = { exchange: new FileExchange(ex, attempts), stop: () => worker.stop() };
    catchStopSignals(); // before the line that says it is ready (signals.ts)
    io.out(
      `agent ${process.pid} answering ${worker.names.join(', ')} from queue ${queue} over NATS: task files in ${o.inbox}, results from ${o.outbox}; Ctrl-C stops it`,
    );
  } else {
    if (o.handler !== undefined)
      throw new UsageError(
        '--handler is for NATS (attempts handed out per handler name): on the embedded store an agent takes every handler task of its queue',
        {},
      );
    // With a users file, the agent is one of its users (docs/users.md): its level is theirs, and --level may only lower it.
    const acting = await actingUser(o.as);
    if (acting.level && o.level !== undefined && !atLeast(acting.level, given)) {
      throw new AuthorityError(
        `${acting.name} is ${levelText(acting.level)}; an agent of level ${levelText(given)} needs that level or higher; nothing was declared`,
        { user: acting.name, have: acting.level, need: given, action: 'execute' },
      );
    }
    const level = o.level === undefined && acting.level ? acting.level : given;
    const store = storeFor(g);
    if (o.withdraw) {
      await declareAgentQueue(store, queue, 'withdraw');
      if (o.json) io.out(json({ queue, withdrawn: true }));
      else io.out(`queue ${queue} is no longer served by file agents: engines run its tasks with their handlers again`);
      return EXIT.ok;
    }
    await mkdir(o.inbox, { recursive: true });
    await mkdir(o.outbox, { recursive: true });
    const name = o.name ?? (acting.actor ? acting.name : `agent:${queue}`);
    const attempts = new StoreAttempts({
      ...ex,
      store,
      level,
      skills,
      name,
      ...(acting.actor ? { actor: { ...acting.actor, level } } : {}),
    });
    await attempts.declare();
    started = { exchange: new FileExchange(ex, attempts), stop: async () => {} };
    if (o.once) {
      const report = await started.exchange.pass();
      if (o.json) io.out(json(report));
      else
        io.out(
          `one pass on queue ${queue}: ${report.written.length} task file(s) written, ${report.recorded.length} result(s) recorded, ${report.rejected.length} file(s) refused`,
        );
      return EXIT.ok;
    }
    catchStopSignals();
    say(
      `agent on queue ${queue} (level ${level}${skills.length > 0 ? `, skills ${skills.join(', ')}` : ''}): task files in ${o.inbox}, results from ${o.outbox}; Ctrl-C stops it`,
    );
  }
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        await started.exchange.pass();
      } catch (err) {
        // A pass that failed (a folder not writable, the store busy) is said and tried again: the next pass redoes what it did not finish.
        io.err(`agent: ${errorMessage(err)}; trying again`);
      }
      if (!stopped)
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, pollMs);
        });
    }
  })();
  return untilSignal(io, 'the agent', async () => {
    // The worker first: the attempts it holds may still be answered within its grace, the passes going on meanwhile.
    await started.stop();
    stopped = true;
    (wake as (() => void) | null)?.();
    await loop;
  });
}

/** The worker whose every handler name is the file exchange's `handler`, started; `names`: those it answers. */
async function natsWorker(
  io: Io,
  g: GlobalOpts,
  o: { queue: string; level: Level; names?: string; skills: readonly string[]; handler: TaskHandler },
): Promise<{ names: string[]; stop(): Promise<void> }> {
  const { withClient, natsUrl } = await import('./cluster.js');
  const { createWorker, natsSettings, offersEnabled } = await import('../../cluster/index.js');
  let names = (o.names ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) {
    // Not named: the handler tasks on its queue of every workflow deployed now (a workflow deployed later needs a restart, or
    // --handler), less those a task of a higher agent_level runs under: over NATS an agent cannot decline an attempt it was handed.
    let deployed: Definition[];
    try {
      deployed = await withClient(g, (c) => c.deployed());
    } catch (err) {
      throw new UsageError(
        `cannot read the deployed workflows to find the handlers of queue ${o.queue} (${errorMessage(err)}): name them with --handler <names>`,
        {},
      );
    }
    const found = new Set<string>();
    const skipped = new Set<string>();
    for (const def of deployed) {
      for (const t of def.tasks) {
        const body = agentTaskBody(def.tasks, t);
        if (!body || (body.queue ?? DEFAULT_QUEUE) !== o.queue) continue;
        const need = parseLevel(body.agentLevel);
        if (!need || atLeast(o.level, need)) {
          found.add(handlerName(body));
          continue;
        }
        skipped.add(handlerName(body));
        io.err(
          `not answering ${handlerName(body)}: task ${t.id} of ${def.id} needs an agent of level ${need} or higher authority, and this agent is ${o.level}`,
        );
      }
    }
    names = [...found].filter((n) => !skipped.has(n)).sort();
    if (names.length === 0)
      throw new UsageError(
        `no deployed workflow has a handler task on queue ${o.queue} that an agent of level ${o.level} may execute: deploy one first, or name the handlers with --handler <names>`,
        {},
      );
  }
  // The cluster's settings whole: an agent first on its queue creates the queue's stream as an engine would (replicas, storage).
  const worker = createWorker({
    nats: natsUrl(g),
    handlers: Object.fromEntries(names.map((n) => [n, o.handler])),
    queue: o.queue,
    settings: natsSettings().cluster,
    directOffers: offersEnabled(),
    skills: o.skills,
    log: (l) => io.err(l),
  });
  await worker.start();
  return { names, stop: () => worker.stop() };
}
