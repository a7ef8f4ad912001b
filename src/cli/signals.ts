/** A long-running command (engine, worker, state-file --follow) until SIGINT or SIGTERM, then its stop. */
import { EXIT } from './render/exit.js';
import type { Io } from './render/io.js';

export async function untilSignal(io: Io, what: string, stop: () => Promise<void>): Promise<number> {
  await new Promise<void>((res) => {
    process.once('SIGINT', () => res());
    process.once('SIGTERM', () => res());
  });
  io.err(`stopping ${what}…`);
  await stop();
  return EXIT.ok;
}
