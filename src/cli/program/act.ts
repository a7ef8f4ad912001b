/**
 * What every group of the command table (../program.ts) shares: the lazy actions that load a command's file only when
 * it runs, and the context a group declares its commands with.
 */
import type { Command } from 'commander';
import { EXIT } from '../render/exit.js';
import type { Io } from '../render/io.js';
import type { GlobalOpts } from '../flags/store.js';
import { optionSpecs, splitTail } from '../flags/tail.js';
import { OPENS_STORE } from '../flags/options.js';

/**
 * Actions that import their command's file when they run, then call it; the exit code it returns goes to `setCode`. An
 * argument named runId is checked first (run-id.ts), as an argument parser would: a bad id is exit 2 before anything
 * else is read. A command over NATS gets the JetStream adapter loaded first (open-store.ts), so the embedded store's
 * commands never load it.
 */
export function lazyActions(io: Io, setCode: (code: number) => void, globals: () => GlobalOpts) {
  // `any`: commander's own action type (each action names the types of its arguments).
  // biome-ignore lint/suspicious/noExplicitAny: commander passes each command's own arguments and options
  type Args = any[];
  type Code = number | Promise<number>;
  const actCall =
    <M>(load: () => Promise<M>, run: (m: M, ...args: Args) => Code) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command;
      const runIds = command.registeredArguments.flatMap((a, i) =>
        a.name() === 'runId' && typeof args[i] === 'string' ? [args[i] as string] : [],
      );
      if (runIds.length > 0) {
        const { runIdArg } = await import('../flags/run-id.js');
        for (const id of runIds) runIdArg(id);
      }
      // The data key's file before any store is opened: a store's key ring asks its providers once, at its first
      // read (resume reads the run before it drives it). Not for `secrets` and `keys`, which keep the file (and may
      // make it). optsWithGlobals: `archive list --secrets f` is given to `archive`'s own option by commander.
      const secrets = command.optsWithGlobals<{ secrets?: unknown }>().secrets;
      const keeper = ['secrets', 'keys'].includes(command.parent?.name() ?? '');
      if (typeof secrets === 'string' && !keeper) (await import('../flags/secrets-flag.js')).secretsFlag(secrets);
      await (await import('../open-store.js')).useStore(globals());
      setCode(await run(await load(), ...args));
    };
  const opensStore = <F extends object>(f: F): F => Object.assign(f, { [OPENS_STORE]: true as const });
  // A command file's export `name`, called with these first arguments.
  type Named<K extends string, First extends unknown[]> = Record<K, (...args: [...First, ...Args]) => Code>;
  return {
    actCall,
    /** actCall for a command that opens a store: it takes `--secrets` (options.ts keysOption). */
    actStore: <M>(load: () => Promise<M>, run: (m: M, ...args: Args) => Code) => opensStore(actCall(load, run)),
    /** `m[name](io, global options, ...arguments, options)`: commander's Command, last, left out. */
    act: <K extends string, M extends Named<K, [Io, GlobalOpts]>>(load: () => Promise<M>, name: K) =>
      opensStore(actCall(load, (m, ...args) => m[name](io, globals(), ...args.slice(0, -1)))),
    /** The same without the global options, for a command that opens no store: `m[name](io, ...arguments, options)`. */
    actLocal: <K extends string, M extends Named<K, [Io]>>(load: () => Promise<M>, name: K) =>
      actCall(load, (m, ...args) => m[name](io, ...args.slice(0, -1))),
    /**
     * As `act`, for run and start, whose inputs are flags of their own: then the command's options, which tail.ts tells
     * the inputs apart from, and its `--help` (found among the inputs' flags).
     */
    actInputs: <K extends string, M extends Named<K, [Io, GlobalOpts]>>(load: () => Promise<M>, name: K) =>
      opensStore(
        actCall(load, async (m, ...args) => {
          const command = args.at(-1) as Command;
          const help = () => {
            process.stdout.write(command.helpInformation());
            return EXIT.ok;
          };
          const specs = optionSpecs(command);
          // `--secrets` among the inputs' flags (commander leaves the tail to tail.ts): in effect before any store is
          // opened, as for every other command (fork reads the run before it drives it).
          const tail = args.find((a): a is string[] => Array.isArray(a));
          const secrets = tail ? splitTail(tail, specs, null, true).options.secrets : undefined;
          if (typeof secrets === 'string') (await import('../flags/secrets-flag.js')).secretsFlag(secrets);
          return m[name](io, globals(), ...args.slice(0, -1), specs, help);
        }),
      ),
  };
}

/** What a group of commands is declared with: the output, the global options, and the lazy actions. */
export type CommandTable = { io: Io; g: () => GlobalOpts } & ReturnType<typeof lazyActions>;
