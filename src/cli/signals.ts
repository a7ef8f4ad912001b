/** A long-running command (engine, worker, ui, agent, state-file --follow) until SIGINT or SIGTERM, then its stop. */
import { EXIT } from './render/exit.js';
import type { Io } from './render/io.js';

/** A stop asked for (SIGINT or SIGTERM) since catchStopSignals(). */
let asked: Promise<void> | null = null;

/**
 * Takes SIGINT and SIGTERM from now on as a request to stop (untilSignal then stops the command cleanly). Called just
 * before a long-running command says it is ready: a supervisor or a script that signals it as soon as it reads that
 * line must get the clean stop, not the default action. Installed only after the line, a SIGTERM could come between
 * (the line written, the process not yet past it) and kill the process at once: a `ui` told SIGTERM right after its
 * URL then ended without writing its state file, 1 time in 9 on a loaded machine. Not before start-up: a Ctrl-C while
 * a command is still starting (connecting, say) ends it at once, as it always did.
 */
export function catchStopSignals(): void {
  asked ??= new Promise<void>((res) => {
    process.once('SIGINT', () => res());
    process.once('SIGTERM', () => res());
  });
}

export async function untilSignal(io: Io, what: string, stop: () => Promise<void>): Promise<number> {
  catchStopSignals();
  await asked;
  io.err(`stopping ${what}…`);
  await stop();
  return EXIT.ok;
}
