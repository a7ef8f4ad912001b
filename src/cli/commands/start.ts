/**
 * `ledgerflow start <workflow>`: over NATS a deployed workflow (cluster.ts),
 * else the definition found by its id on disk and run here (start-local.ts).
 * Only the store flags are read here, to tell which.
 */
import type { Io } from '../render/io.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';
import { splitTail, type OptionSpec } from '../flags/tail.js';

export async function startCmd(io: Io, global: GlobalOpts, ref: string, tail: string[], given: { inputFile?: string; input?: string; json?: boolean; detach?: boolean }, specs: OptionSpec[], help: () => number): Promise<number> {
  const first = splitTail(tail, specs, null);
  if (first.help) return help();
  if (usesNats({ ...global, ...first.globals })) return (await import('./cluster.js')).startCmd(io, global, ref, tail, given, specs, help);
  return (await import('./start-local.js')).startLocal(io, global, ref, tail, given, specs, help);
}
