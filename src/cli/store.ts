/**
 * Which store a command uses: --nats, else --store, else LEDGERFLOW_NATS_URL,
 * else LEDGERFLOW_STORE, else .ledgerflow/. Every store opened is closed when
 * the command ends (a NATS connection would otherwise keep the process alive).
 */
import { resolve } from 'node:path';
import { openStore, type EventStore } from '../store/index.js';
import { natsSettings } from './nats-settings.js';

export interface GlobalOpts { store?: string; nats?: string }

const opened: EventStore[] = [];

export function storeFor(g: GlobalOpts): EventStore {
  const url = g.nats ?? (g.store ? undefined : process.env.LEDGERFLOW_NATS_URL || undefined);
  const dir = g.store ?? process.env.LEDGERFLOW_STORE ?? '.ledgerflow';
  // Handlers of this process, and the programs they start, find the same store (e.g. to pause another run).
  if (!url) process.env.LEDGERFLOW_STORE = resolve(dir);
  const store = url
    ? openStore({ nats: { servers: url, ...natsSettings().store } })
    : openStore({ dir, nats: false, file: { onWarning: (m) => process.stderr.write(`warning: ${m}\n`) } });
  opened.push(store);
  return store;
}

/** The directory for files kept beside the log (dead letters, plans) when the log itself is not in a directory. */
export function localDir(g: GlobalOpts): string {
  return g.store ?? process.env.LEDGERFLOW_STORE ?? '.ledgerflow';
}

export async function closeStores(): Promise<void> {
  await Promise.allSettled(opened.splice(0).map((s) => s.close()));
}

/** Whether the command talks to a NATS cluster (then approvals and events are published, not appended). */
export function usesNats(g: GlobalOpts): boolean {
  return !!g.nats || (!g.store && !!process.env.LEDGERFLOW_NATS_URL);
}
