/**
 * Options several commands share, as commander declares them (flags, help text): the command table (program.ts) gives
 * them to each command that takes them, so their --help reads the same everywhere. Declarations only: what a value
 * means is parsed where the command runs.
 */
import { Command } from 'commander';

type OptionSpec = readonly [flags: string, description?: string];

/** commander's Command, and its subcommands, with `with`: shared options added in the middle of a declaration. */
export class TableCommand extends Command {
  override createCommand(name?: string): TableCommand {
    return new TableCommand(name);
  }

  /** Adds these options in this order (the order of --help), as `.option(flags, description)` each. */
  with(...options: readonly OptionSpec[]): this {
    for (const [flags, description] of options) this.option(flags, description);
    return this;
  }

  /**
   * A command whose action opens a store (act.ts marks it) reads and writes values with the data key among the
   * secrets: it takes `--secrets <file>` as run does, unless it declares its own.
   */
  // biome-ignore lint/suspicious/noExplicitAny: commander's own signature
  override action(fn: (...args: any[]) => void | Promise<void>): this {
    if ((fn as { [OPENS_STORE]?: true })[OPENS_STORE] && !this.options.some((o) => o.long === '--secrets'))
      this.with(keysOption);
    return super.action(fn);
  }
}

/** Marks an action that opens a store (act.ts). */
export const OPENS_STORE = Symbol('opens a store');

/** `--secrets` of a command that reads or writes runs' values (docs/security.md): where the data key is. */
export const keysOption = [
  '--secrets <file>',
  'where the data key LF_DATA_KEY (docs/security.md) and ${secrets.NAME} values come from: a YAML or JSON file of NAME: value, mode 600 (default: LEDGERFLOW_SECRETS_FILE, then the environment)',
] as const;

export const outputRootOption = [
  '--output-root <dir>',
  'write output_to files under this directory, never outside it (default: the current directory, or LEDGERFLOW_OUTPUT_ROOT)',
] as const;
export const notificationsOption = [
  '--notifications <file>',
  "global notification rules (YAML/JSON: the `notifications:` list, optional `delivery:`) for every run driven here, besides each definition's own (default: LEDGERFLOW_NOTIFICATIONS)",
] as const;
export const metricsOptions = [
  [
    '--metrics-port <port>',
    'serve Prometheus metrics at http://<metrics-host>:<port>/metrics (0: any free port, printed at start)',
  ],
  ['--metrics-host <host>', 'address the metrics port listens on (default 127.0.0.1)'],
] as const;
/** Parsed by command-limit.ts. */
export const commandOutputLimitOption = [
  '--command-output-limit <bytes>',
  'bytes of stdout and of stderr kept per COMMAND attempt (e.g. 65536, 64KiB, 1MiB; default 1MiB); the rest is dropped and the output says how much',
] as const;
/** Parsed by http-flag.ts. */
export const httpAllowOption = [
  '--http-allow <hosts>',
  'hosts HTTP tasks may call, comma-separated (api.example.com, 127.0.0.1:8080, *.example.com, * for any); without it any host',
] as const;
export const workerHttpOptions = [
  ['--http', "also run HTTP tasks' requests (attempts on lf.q.<queue>._http); needs --http-allow"],
  [
    '--http-allow <hosts>',
    'the hosts HTTP tasks may call from here, comma-separated (api.example.com, 127.0.0.1:8080, *.example.com; * for any); others fail LF_HTTP_HOST_REFUSED',
  ],
] as const;
/** Of the commands that give a run an input (approve, reject, signal, pause, cancel). */
export const asOption = [
  '--as <name>',
  'who acts (default $USER). Over NATS with a user in the URL, that user (--as must match it); without one, a name recorded as unauthenticated',
] as const;
export const waitOption = [
  '--wait <duration>',
  "over NATS: how long to wait for an engine's verdict when one is running (default 10s; 0: don't wait)",
] as const;
export const stateFileOptions = [
  [
    '--state-file <path>',
    "keep this state file (default: the definition's monitoring.state_file, else .3ox/workflow.state.yaml when the definition has monitoring: or the folder has .3ox/; LEDGERFLOW_STATE_FILE)",
  ],
  ['--no-state-file', 'keep no state file'],
  ['--state-file-keep <n>', 'settled runs the state file keeps, the newest (default 50)'],
] as const;
/** The bulk form of resume, retry, approve, reject, pause and cancel (bulk.ts): every run `list`'s filter matches. */
export const bulkOptions = [
  [
    '--query <filter>',
    "every run this filter matches instead of one run id: list's filters as key=value (workflow=orders status=RUNNING since=1h; trigger, agent, until, output-contains, run-id, where=customer=42)",
  ],
  ['--dry-run', 'with --query: say how many runs and which, change nothing'],
  ['--yes', 'with --query: no confirmation (a terminal is asked; anything else is refused without it)'],
] as const;

/** `--skills`'s help, the same on every command. */
export const skillsOption = [
  '--skills <list>',
  'skills this process has, comma-separated (or LEDGERFLOW_SKILLS): it runs tasks whose requires: they cover; tasks requiring others wait for an agent or worker that has them',
] as const;
export const secretsOption = [
  '--secrets <file>',
  "where ${secrets.NAME} values come from: a YAML or JSON file of NAME: value, mode 600 (default: LEDGERFLOW_SECRETS_FILE, then the environment's LEDGERFLOW_SECRET_<NAME>)",
] as const;

/** A run's inputs besides its `--<name> <value>` flags (inputs.ts): run and start. */
export const inputOptions = [
  ['--input-file <file>', 'a JSON or YAML object of inputs (- reads it from stdin)'],
  [
    '--input <json>',
    'the inputs as one JSON object, e.g. --input \'{"n": 4}\' (over --input-file; each --<name> <value> over both)',
  ],
] as const;
