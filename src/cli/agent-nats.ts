/**
 * `ledgerflow agent --nats <url> --handler a,b`: the file agent as a NATS
 * worker (agent/nats-exchange.ts). A queue's attempts are handed out per
 * handler name over NATS (one consumer each), so it is told the names it
 * answers; everything else is the worker's: pulling, claiming, heartbeats,
 * reporting with the attempt's token.
 */
import { mkdir } from 'node:fs/promises';
import { NatsExchange } from '../agent/index.js';
import { createWorker, natsSettings, offersEnabled } from '../cluster/index.js';
import { atLeast, parseLevel, type Level } from '../authority/index.js';
import { DEFAULT_QUEUE, failureStepOf, handlerName, mapBody, type Definition } from '../definition/index.js';
import { UsageError, errorMessage } from '../errors/index.js';
import { natsUrl, withClient } from './cluster.js';
import type { Io } from './io.js';
import { untilSignal } from './signals.js';
import type { GlobalOpts } from './store.js';

export async function natsAgentCmd(io: Io, g: GlobalOpts, o: { inbox: string; outbox: string; queue: string; level: Level; handler?: string; pollMs: number; concurrency?: number; skills?: readonly string[] }): Promise<number> {
  let names = (o.handler ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) {
    // Not named: the handler tasks on its queue of every workflow deployed now (a workflow deployed later needs a restart, or --handler).
    let deployed: Definition[];
    try {
      deployed = await withClient(g, (c) => c.deployed());
    } catch (err) {
      throw new UsageError(`cannot read the deployed workflows to find the handlers of queue ${o.queue} (${errorMessage(err)}): name them with --handler <names>`, {});
    }
    const found = agentHandlers(deployed, o.queue, o.level);
    for (const s of found.skipped) io.err(`not answering ${s.handler}: task ${s.task} of ${s.workflow} needs an agent of level ${s.need} or higher authority, and this agent is ${o.level}`);
    names = found.names;
    if (names.length === 0) throw new UsageError(`no deployed workflow has a handler task on queue ${o.queue} that an agent of level ${o.level} may execute: deploy one first, or name the handlers with --handler <names>`, {});
  }
  await mkdir(o.inbox, { recursive: true });
  await mkdir(o.outbox, { recursive: true });
  const exchange = new NatsExchange({ inbox: o.inbox, outbox: o.outbox, queue: o.queue, pollMs: o.pollMs, log: (l) => io.err(l) });
  // The cluster's settings whole: an agent first on its queue creates the queue's stream as an engine would (replicas, storage).
  const settings = natsSettings().cluster;
  const worker = createWorker({
    nats: natsUrl(g), handlers: Object.fromEntries(names.map((n) => [n, exchange.handler])), queue: o.queue, settings,
    directOffers: offersEnabled(), ...(o.skills ? { skills: o.skills } : {}), ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}), log: (l) => io.err(l),
  });
  await worker.start();
  io.out(`agent ${process.pid} answering ${names.join(', ')} from queue ${o.queue} over NATS: task files in ${o.inbox}, results from ${o.outbox}; Ctrl-C stops it`);
  // Results no attempt waits for (its attempt ended, or never was) are refused with why, as often as the folders are looked at.
  const sweeping = setInterval(() => { exchange.sweep().catch((err: unknown) => io.err(`agent: sweeping ${o.outbox} failed: ${String(err)}; trying again`)); }, Math.max(o.pollMs, 100));
  return untilSignal(io, 'the agent', async () => {
    clearInterval(sweeping);
    await worker.stop();
  });
}

/**
 * The handler names of the tasks on `queue` whose attempts file agents take (a SIMPLE task, a MAP's items run
 * by a handler), less those a task of a higher `agent_level` than `level` runs under: over NATS an agent
 * cannot decline an attempt it was handed, so it does not ask for that handler's attempts at all.
 */
export function agentHandlers(defs: readonly Definition[], queue: string, level: Level): { names: string[]; skipped: { handler: string; task: string; workflow: string; need: Level }[] } {
  const names = new Set<string>();
  const skipped: { handler: string; task: string; workflow: string; need: Level }[] = [];
  for (const def of defs) {
    for (const t of def.tasks) {
      if (t.type === 'MAP' && t.workflow !== undefined) continue;
      const body = t.type === 'MAP' ? mapBody(def.tasks, t) : t;
      if (!(body.type === 'SIMPLE' || body.type === 'MAP') || (body.queue ?? DEFAULT_QUEUE) !== queue || failureStepOf(handlerName(body)) !== null) continue;
      const need = parseLevel(body.agentLevel);
      if (need && !atLeast(level, need)) skipped.push({ handler: handlerName(body), task: t.id, workflow: def.id, need });
      else names.add(handlerName(body));
    }
  }
  for (const s of skipped) names.delete(s.handler);
  return { names: [...names].sort(), skipped };
}
