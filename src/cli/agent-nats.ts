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
import { UsageError } from '../errors/index.js';
import { natsUrl } from './cluster.js';
import type { Io } from './io.js';
import { untilSignal } from './signals.js';
import type { GlobalOpts } from './store.js';

export async function natsAgentCmd(io: Io, g: GlobalOpts, o: { inbox: string; outbox: string; queue: string; handler?: string; pollMs: number; concurrency?: number }): Promise<number> {
  const names = (o.handler ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) {
    throw new UsageError('over NATS an agent is handed attempts per handler name: pass --handler <names> (a task\'s handler, else its assigned_to, else its id; comma-separated)', {});
  }
  await mkdir(o.inbox, { recursive: true });
  await mkdir(o.outbox, { recursive: true });
  const exchange = new NatsExchange({ inbox: o.inbox, outbox: o.outbox, queue: o.queue, pollMs: o.pollMs, log: (l) => io.err(l) });
  const { taskMaxDeliver, taskAckWaitMs } = natsSettings().cluster;
  const settings = { ...(taskAckWaitMs !== undefined ? { taskAckWaitMs } : {}), ...(taskMaxDeliver ? { taskMaxDeliver } : {}) };
  const worker = createWorker({
    nats: natsUrl(g), handlers: Object.fromEntries(names.map((n) => [n, exchange.handler])), queue: o.queue, settings,
    directOffers: offersEnabled(), ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}), log: (l) => io.err(l),
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
