/**
 * What every group of the command table (../program.ts) shares: the lazy action that loads a
 * command's file only when it runs, `--help` for a command that reads its own flags, and the
 * context a group declares its commands with.
 */
import type { Command } from 'commander';
import { EXIT } from '../render/exit.js';
import type { Io } from '../render/io.js';
import type { GlobalOpts } from '../flags/store.js';

/** `--help` after `run <file>` (found among the inputs' flags): the command's help, as commander prints it. */
export function helpOf(c: Command): number {
  process.stdout.write(c.helpInformation());
  return EXIT.ok;
}

/**
 * An action that imports its command's file when it runs, then calls it; the
 * exit code it returns goes to `setCode`. An argument named runId is checked
 * first (run-id.ts), as an argument parser would: a bad id is exit 2 before
 * anything else is read. A command over NATS gets the JetStream adapter
 * loaded first (open-store.ts), so the embedded store's commands never load it.
 */
export function lazyActions(setCode: (code: number) => void, globals: () => GlobalOpts) {
  // `any`: commander's own action type (each action names the types of its arguments).
  // biome-ignore lint/suspicious/noExplicitAny: commander passes each command's own arguments and options
  return <M>(load: () => Promise<M>, run: (m: M, ...args: any[]) => number | Promise<number>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command;
      const runIds = command.registeredArguments.flatMap((a, i) =>
        a.name() === 'runId' && typeof args[i] === 'string' ? [args[i] as string] : [],
      );
      if (runIds.length > 0) {
        const { runIdArg } = await import('../flags/run-id.js');
        for (const id of runIds) runIdArg(id);
      }
      await (await import('../open-store.js')).useStore(globals());
      setCode(await run(await load(), ...args));
    };
}

/** What a group of commands is declared with: the output, the global options, and the lazy action. */
export interface CommandTable {
  io: Io;
  g: () => GlobalOpts;
  act: ReturnType<typeof lazyActions>;
}
