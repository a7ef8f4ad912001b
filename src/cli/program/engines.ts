/**
 * deploy, start, wait, watch, engine, worker, secrets and agent: deploying and starting workflows, waiting on and
 * watching runs, and the processes that do the work (engines, workers, file agents) with the secrets they read.
 */
import {
  type TableCommand,
  asOption,
  commandOutputLimitOption,
  workerHttpOptions,
  metricsOptions,
  notificationsOption,
  inputOptions,
  outputRootOption,
  stateFileOptions,
  secretsOption,
} from '../flags/options.js';
import type { CommandTable } from './act.js';
import { retentionOptions } from '../flags/retention-flags.js';

/** An engine's and a worker's grace on SIGTERM/SIGINT (docs/nats.md, "Stopping an engine or a worker"). */
const graceFlag = '--grace <duration>';
const graceHelp =
  'on SIGTERM/SIGINT, how long attempts in flight get to finish (default 10s); the ones still running are then given back (task.released) and run again elsewhere, not counted as lost';

export function engineCommands(p: TableCommand, { act, actInputs }: CommandTable): void {
  p.command('deploy')
    .argument('<file...>')
    .description(
      "store validated definitions where every engine finds them (versioned, content-addressed); as a person's NATS user (not the engine's), the engines judge your level (L1) and deploy it",
    )
    .option(
      '--wait <duration>',
      "as a person's NATS user: how long to wait for the engine's answer (default 10s; 0: not at all); none in time: queued for the next engine, exit 3",
    )
    .option('--json')
    .action(act(() => import('../commands/cluster.js'), 'deployCmd'));
  p.command('start')
    .argument('<workflow>', '<workflowId> or <workflowId>@<version>')
    .argument('[inputs...]', 'workflow inputs as --<name> <value>')
    .description(
      'start a run of a workflow by its id. Embedded: the definition is found in ./definitions (else the bundled ones) and run here as `run` does (--detach: recorded, left to `serve`). Over NATS: a deployed workflow, recorded, its id printed at once',
    )
    .with(...inputOptions)
    .option('--detach', 'embedded: record the start, print the run id and leave the run to `ledgerflow serve`')
    .option(notificationsOption[0], `embedded, without --detach: ${notificationsOption[1]}`)
    .option('--handlers <module>', "embedded: handler module (default: the definition's handlers: line)")
    .with(...stateFileOptions)
    .option(
      '--id <id>',
      "the run's id, chosen by you (as run --id): a second start with it prints that run instead of starting another (--json: existing: true)",
    )
    .option('--id-reuse <policy>', 'reject_duplicate (default), allow_after_failure or allow: as run --id-reuse')
    .option(
      '--priority <n>',
      'as run --priority: 0..99, higher first when its work waits (a concurrency slot, a task limit, a worker)',
    )
    .option(
      '--wait <duration>',
      "over NATS as a person's user (not the engine's): how long to wait for the engine that judges your level and starts the run (default 10s; 0: not at all); none in time: queued, exit 3",
    )
    .option('--json')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(actInputs(() => import('../commands/start.js'), 'startCmd'));
  p.command('wait')
    .argument('<runId>', 'run id')
    .description('block until the run settles (exit codes as run)')
    .option('--timeout <duration>')
    .option('--or-waiting', 'also return when the run waits for a person or is paused (exit 3)')
    .option('--json')
    .action(act(() => import('../commands/read.js'), 'waitCmd'));
  p.command('watch')
    .argument('[runId]', 'run id')
    .description(
      'a live view of runs in the terminal: per task a status glyph, progress, attempts, elapsed time, and the last events; redrawn on a terminal, one plain line per event when stdout is not one; exits when every watched run settles (exit codes as wait; 130 on Ctrl-C). With nothing named, on a terminal: the monitor (every active run with its progress bar and ETA; keys [R]efresh [D]etails [P]ause [K]ill [Q]uit, Tab the next run)',
    )
    .option('--workflow <id>', 'the active runs of this workflow, and those that start while watching')
    .option('--all', 'every active run, and those that start while watching')
    .option('--or-waiting', 'also end when the runs wait for a person or a signal, or are paused (exit 3)')
    .option(
      '--keep-open',
      'with --workflow/--all: keep watching for new runs after the watched ones settled, until Ctrl-C',
    )
    .option(
      '--tail <n>',
      'events shown per run (default 5; plain and JSON output: the recorded ones printed when a run is picked up)',
    )
    .option('--no-color', 'a frame without colours (NO_COLOR=1 does the same)')
    .option('--json', 'one JSON line per event instead of a frame')
    .with(asOption)
    .action(act(() => import('../commands/watch.js'), 'watchCmd'));
  p.command('engine')
    .description(
      'take runtime inputs, timers, approvals, signals, run control and trigger events from NATS until stopped',
    )
    .option('--handlers <module>', 'also run these task handlers in this process')
    .option('--commands', 'also run COMMAND tasks in this process')
    .with(commandOutputLimitOption, ...workerHttpOptions)
    .option('--queue <queue>', 'task queue for --handlers and --commands')
    .option(
      '--skills <list>',
      'skills of the handlers run here (--handlers), comma-separated: they also take attempts of tasks whose requires: they cover',
    )
    .option('--events <dir>', 'event type schemas for triggers')
    .option('--concurrency <n>')
    .option(
      '--snapshot-every <n>',
      'snapshot a run in the KV bucket each time its log grows by this many events (default 1000; 0: none)',
    )
    .option(
      '--no-schedules',
      'fire no schedule triggers from this engine (by default every engine fires them, each slot once across engines)',
    )
    .option(
      '--users <file>',
      "judge each sender's L0–L3 level from this users file (docs/users.md): approvals by the task's agent_level, pause/resume/cancel by L1; a NATS user it does not name is a Worker (L3)",
    )
    .option(graceFlag, graceHelp)
    .with(...retentionOptions)
    .with(outputRootOption, notificationsOption, ...metricsOptions, ...stateFileOptions)
    .action(act(() => import('../commands/engine-worker.js'), 'engineCmd'));
  p.command('worker')
    .description(
      'run task attempts from the NATS work queue with a handler module (and, with --commands, COMMAND tasks; with --http, HTTP tasks) until stopped',
    )
    .option('--handlers <module>', 'handler module (.ts, .js, .mjs)')
    .option('--commands', "also run COMMAND tasks' programs (attempts on lf.q.<queue>._command)")
    .with(commandOutputLimitOption, ...workerHttpOptions)
    .option('--queue <queue>', 'task queue (a task\'s `queue`, default "default")')
    .option(
      '--station <name>',
      "serve the tasks of this station (a task's `station`: queue station-<name>); run it beside the station's leaf node, its --nats URL with ?domain=hub (docs/nats.md#stations)",
    )
    .option('--concurrency <n>')
    .option(
      '--ack-wait <duration>',
      "redeliver an attempt whose worker sent no heartbeat for this long, to run it elsewhere (default 10s; set by whoever creates the queue's consumer first: the engines, or this worker if its NATS user may create consumers)",
    )
    .with(outputRootOption)
    .option(
      '--skills <list>',
      'its skills, comma-separated (or LEDGERFLOW_SKILLS): it also takes attempts of tasks whose requires: it has every one of',
    )
    .option(
      '--secrets <file>',
      "where ${secrets.NAME} values come from besides KV LF_SECRETS (read first): a YAML or JSON file of NAME: value, mode 600 (default: LEDGERFLOW_SECRETS_FILE), then the environment's LEDGERFLOW_SECRET_<NAME>",
    )
    .option(graceFlag, graceHelp)
    .action(act(() => import('../commands/engine-worker.js'), 'workerCmd'));
  const secrets = p
    .command('secrets')
    .description(
      'the secrets ${secrets.NAME} reads, in the --secrets file (or LEDGERFLOW_SECRETS_FILE) or, with --nats, the KV bucket LF_SECRETS (docs/operations.md#secrets); values are never printed',
    );
  secrets
    .command('set')
    .argument('<name>', "the secret's name (letters, digits and _)")
    .description(
      'store a secret: its value is read from stdin (never a flag), e.g. printf \'%s\' "$TOKEN" | ledgerflow secrets set API_TOKEN --secrets secrets.yaml',
    )
    .with(secretsOption)
    .option('--json', 'print { name, stored, where }')
    .action(act(() => import('../commands/secrets.js'), 'secretsSetCmd'));
  secrets
    .command('list')
    .description('the names of the secrets stored (never their values)')
    .with(secretsOption)
    .option('--json', 'print { where, names }')
    .action(act(() => import('../commands/secrets.js'), 'secretsListCmd'));
  secrets
    .command('rm')
    .argument('<name>', "the secret's name")
    .description(
      'remove a secret (on NATS it is purged: no history keeps it); exit 2 with LF_SECRET_NOT_FOUND when there is none',
    )
    .with(secretsOption)
    .option('--json', 'print { name, removed, where }')
    .action(act(() => import('../commands/secrets.js'), 'secretsRmCmd'));
  p.command('keys')
    .description(
      'the data keys of encryption at rest (docs/security.md): LF_DATA_KEY among the secrets, the keys before it kept as LF_DATA_KEY_<id>',
    )
    .command('rotate')
    .description(
      'make a new data key LF_DATA_KEY (new writes use it) and keep the one it replaces as LF_DATA_KEY_<id> (what it sealed still reads); in the --secrets file (or LEDGERFLOW_SECRETS_FILE) or, with --nats, KV LF_SECRETS. Nothing stored is rewritten; processes started before read the new key when they start again',
    )
    .with(secretsOption)
    .option('--json', 'print { id, previous, where }')
    .option('--as <name>', 'who rotates, with a users file (L1, docs/users.md)')
    .action(act(() => import('../commands/keys.js'), 'keysRotateCmd'));
  p.command('agent')
    .description(
      'a worker whose agent is whatever reads and writes files (the 1N/0UT file protocol, docs/agents.md): writes task-<run>-<task>.yaml in --inbox for each attempt of its queue, records result-<run>-<task>.yaml from --outbox, moves both to done/ (refused ones to rejected/ with a .reason)',
    )
    .requiredOption('--inbox <dir>', 'where task files are written (1N.3OX)')
    .requiredOption('--outbox <dir>', 'where results are read (0UT.3OX)')
    .option(
      '--queue <queue>',
      'the task queue it serves (a task\'s `queue`, default "default"): engines on the store hold its attempts for agents from now on',
    )
    .option(
      '--station <name>',
      "serve the tasks of this station (a task's `station`: queue station-<name>; docs/nats.md#stations)",
    )
    .option('--level <level>', 'its authority, L0–L3 (default L3): it takes only tasks whose agent_level it meets')
    .option('--skills <list>', 'its skills, comma-separated (recorded with its queue)')
    .option(
      '--handler <names>',
      "with --nats: the handler names it answers, comma-separated (a task's handler, else its id; default: the handler tasks on its queue of every workflow deployed when it starts)",
    )
    .option(
      '--name <name>',
      'recorded as who reported each outcome on the embedded store (default: the --as user with a users file, else agent:<queue>)',
    )
    .option(
      '--as <user>',
      "with a users file (docs/users.md): the user the agent runs as (LEDGERFLOW_PASSWORD proves it); its level is the agent's",
    )
    .option('--poll <duration>', 'how often it looks at the folders and the runs (default 200ms)')
    .option('--once', 'one pass, then exit')
    .option('--withdraw', 'take the queue back: engines run its tasks with their handlers again')
    .option('--json', 'with --once: print { written, recorded, rejected }')
    .action(act(() => import('../commands/agent.js'), 'agentCmd'));
}
