/**
 * Which store a command uses: --nats, else --store, else LEDGERFLOW_NATS_URL, else LEDGERFLOW_STORE, else .ledgerflow/
 * (opened by open-store.ts). Every store opened is closed when the command ends (a NATS connection would otherwise keep
 * the process alive). No import here: main.ts closes the stores of every command, and `--version` loads nothing to do
 * it.
 */
export interface GlobalOpts {
  store?: string;
  nats?: string;
}

const opened: { close(): Promise<void> }[] = [];

/** A store a command opened, closed by closeStores when the command ends. */
export function closeAtEnd<S extends { close(): Promise<void> }>(store: S): S {
  opened.push(store);
  return store;
}

export async function closeStores(): Promise<void> {
  await Promise.allSettled(opened.splice(0).map((s) => s.close()));
}

/** The directory for files kept beside the log (dead letters, plans) when the log itself is not in a directory. */
export function localDir(g: GlobalOpts): string {
  return g.store ?? process.env.LEDGERFLOW_STORE ?? '.ledgerflow';
}

/** Whether the command talks to a NATS cluster (then approvals and events are published, not appended). */
export function usesNats(g: GlobalOpts): boolean {
  return !!g.nats || (!g.store && !!process.env.LEDGERFLOW_NATS_URL);
}

/** The NATS URL the command uses; undefined on the embedded store. */
export function natsUrlOf(g: GlobalOpts): string | undefined {
  return usesNats(g) ? (g.nats ?? process.env.LEDGERFLOW_NATS_URL) : undefined;
}
