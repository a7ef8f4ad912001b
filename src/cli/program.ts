/**
 * The command table of `ledgerflow`: every command's name, arguments, options and description (what commander needs for
 * parsing and for --help), and the file that carries it out, imported only when the command runs. So
 * `ledgerflow --version` and `--help` load commander and this table, not the library (zod, yaml, nats, xstate): nothing
 * here imports it.
 *
 * The commands are declared by group, in program/*.ts; the order of the calls below is the order of --help and
 * docs/cli.md.
 */
import { packageVersion } from '../install/index.js';
import type { Io } from './render/io.js';
import type { GlobalOpts } from './flags/store.js';
import { TableCommand } from './flags/options.js';
import { type CommandTable, lazyActions } from './program/act.js';
import { runningCommands } from './program/running.js';
import { readingCommands } from './program/reading.js';
import { runInputCommands } from './program/run-inputs.js';
import { servingCommands } from './program/serving.js';
import { toolCommands } from './program/tools.js';
import { operationCommands } from './program/operations.js';
import { userCommands } from './program/users.js';
import { engineCommands } from './program/engines.js';

export function program(io: Io, setCode: (code: number) => void): TableCommand {
  const p = new TableCommand('ledgerflow')
    .description(
      'Event-sourced workflow engine: YAML workflows → XState statecharts → runs rebuilt from their event log',
    )
    .option('--store <dir>', 'embedded event store directory (default .ledgerflow, or LEDGERFLOW_STORE)')
    .option(
      '--nats <url>',
      "use NATS JetStream as the event log, e.g. nats://127.0.0.1:4222 (or LEDGERFLOW_NATS_URL); at a station's leaf node add ?domain=hub (or LEDGERFLOW_NATS_DOMAIN=hub: docs/nats.md#stations)",
    )
    .version(packageVersion(), '-V, --version', 'print the version of ledgerflow')
    .exitOverride()
    .showHelpAfterError('(run `ledgerflow --help` for usage)');
  const g = () => p.opts<GlobalOpts>();
  const table: CommandTable = { io, g, ...lazyActions(io, setCode, g) };

  runningCommands(p, table);
  readingCommands(p, table);
  runInputCommands(p, table);
  servingCommands(p, table);
  toolCommands(p, table);
  operationCommands(p, table);
  userCommands(p, table);
  engineCommands(p, table);
  // A mistake in a command's arguments points at that command's own help, not the list of commands.
  for (const c of p.commands) c.showHelpAfterError(`(run \`ledgerflow ${c.name()} --help\` for usage)`);
  return p;
}
