/**
 * The command table of `ledgerflow`: every command's name, arguments, options
 * and description (what commander needs for parsing and for --help), and the
 * file that carries it out, imported only when the command runs. So
 * `ledgerflow --version` and `--help` load commander and this table, not the
 * library (zod, yaml, nats, xstate): nothing here imports it.
 */
import { Command, Option } from 'commander';
import { packageVersion } from '../install/index.js';
import { EXIT } from './render/exit.js';
import type { Io } from './render/io.js';
import {
  asOption,
  commandOutputLimitOption,
  httpAllowOption,
  workerHttpOptions,
  metricsHostOption,
  metricsPortOption,
  noStateFileOption,
  notificationsOption,
  inputFileOption,
  inputOption,
  outputRootOption,
  stateFileKeepOption,
  stateFileOption,
  waitOption,
  queryOption,
  dryRunOption,
  yesOption,
  skillsOption,
  secretsOption,
} from './flags/options.js';
import { usesNats, type GlobalOpts } from './flags/store.js';
import { optionSpecs } from './flags/tail.js';

/** `--help` after `run <file>` (found among the inputs' flags): the command's help, as commander prints it. */
function helpOf(c: Command): number {
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
function lazyActions(setCode: (code: number) => void, globals: () => GlobalOpts) {
  // `any`: commander's own action type (each action names the types of its arguments).
  // biome-ignore lint/suspicious/noExplicitAny: commander passes each command's own arguments and options
  return <M>(load: () => Promise<M>, run: (m: M, ...args: any[]) => number | Promise<number>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command;
      const runIds = command.registeredArguments.flatMap((a, i) =>
        a.name() === 'runId' && typeof args[i] === 'string' ? [args[i] as string] : [],
      );
      if (runIds.length > 0) {
        const { runIdArg } = await import('./flags/run-id.js');
        for (const id of runIds) runIdArg(id);
      }
      if (usesNats(globals())) await (await import('./open-store.js')).useStore(globals());
      setCode(await run(await load(), ...args));
    };
}

export function program(io: Io, setCode: (code: number) => void): Command {
  const p = new Command('ledgerflow')
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
  const act = lazyActions(setCode, g);

  p.command('validate')
    .argument('<file...>')
    .description('check definitions; every problem as file:line:col')
    .option('--strict', 'treat warnings as errors')
    .option('--json', 'machine-readable result')
    .action(
      act(
        () => import('./commands/validate.js'),
        (m, files: string[], o) => m.validateCmd(io, files, o),
      ),
    );
  p.command('compile')
    .argument('<file...>')
    .description('write machines/<workflow-id>.json (XState config)')
    .option('--out <dir>', 'output directory', 'machines')
    .option('--check', 'fail if a machine file is stale; write nothing')
    .option('--json')
    .action(
      act(
        () => import('./commands/validate.js'),
        (m, files: string[], o) => m.compileCmd(io, files, o),
      ),
    );
  p.command('schema')
    .description('print the JSON Schema of the definition language')
    .action(
      act(
        () => import('./commands/validate.js'),
        (m) => m.schemaCmd(io),
      ),
    );
  p.command('run')
    .argument('<file>')
    .argument('[inputs...]', 'workflow inputs as --<name> <value>')
    .description('start a run and execute it until it completes, fails or waits')
    .option(...inputFileOption)
    .option(...inputOption)
    .option('--handlers <module>', 'handler module (.ts, .js, .mjs)')
    .option(...skillsOption)
    .option('--max-wait <duration>', 'wait in-process for timers due within this long (default 5m)')
    .option(
      '--commit-window <duration>',
      'gather steps of in-process handlers into one commit for up to this long (default 0: each step durable before it acts)',
    )
    .option(...outputRootOption)
    .option(...commandOutputLimitOption)
    .option(...httpAllowOption)
    .option(...notificationsOption)
    .option(...secretsOption)
    .option(
      '--id <id>',
      "the run's id, chosen by you (1-100 of A-Z a-z 0-9 _ -): a second run with the same id returns that run (--json: existing: true) instead of starting another",
    )
    .option(
      '--id-reuse <policy>',
      "when an id whose run settled may start a new run: reject_duplicate (never: the default), allow_after_failure (once it FAILED or was CANCELLED), allow (once it settled); overrides the workflow's id_reuse:",
    )
    .option(
      '--priority <n>',
      "the run's priority when its work waits (a concurrency slot, a task limit; on NATS a worker): 0..99, higher first; overrides the workflow's priority: (default 50)",
    )
    .option(...stateFileOption)
    .option(...noStateFileOption)
    .option(...stateFileKeepOption)
    .option('--json', 'print the final state as JSON')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(
      act(
        () => import('./commands/run.js'),
        (m, file: string, tail: string[], o, c: Command) =>
          m.runCmd(io, g(), file, tail, o, optionSpecs(c), () => helpOf(c)),
      ),
    );
  p.command('resume')
    .argument('[runId]', 'run id (or --query)')
    .description(
      'continue an interrupted, waiting or paused run (a paused one is un-paused first: run.resumed). With --query: un-pause every paused run the filter matches (recorded, not driven here: a serve, ui or the engines move them on)',
    )
    .option(
      '--as <name>',
      'who resumes a paused run (default $USER. Over NATS with a user in the URL, that user (--as must match it); without one, a name recorded as unauthenticated)',
    )
    .option(
      '--wait <duration>',
      "over NATS, for a paused run: how long to wait for an engine's verdict when one is running (default 10s; 0: don't wait)",
    )
    .option('--handlers <module>')
    .option(...skillsOption)
    .option('--max-wait <duration>')
    .option('--commit-window <duration>')
    .option(...outputRootOption)
    .option(...commandOutputLimitOption)
    .option(...httpAllowOption)
    .option(...notificationsOption)
    .option(...secretsOption)
    .option(...stateFileOption)
    .option(...noStateFileOption)
    .option(...stateFileKeepOption)
    .option('--json')
    .option(...queryOption)
    .option(...dryRunOption)
    .option(...yesOption)
    .action(
      act(
        () => import('./commands/run.js'),
        (m, runId: string | undefined, o) => m.resumeCmd(io, g(), runId, o),
      ),
    );
  p.command('state-file')
    .argument('[path]', 'the file --rebuild writes (default .3ox/workflow.state.yaml)')
    .description(
      'the state file (.3ox/workflow.state.yaml) as the run log has it: printed, or with --rebuild written over the file',
    )
    .option('--rebuild', 'write it (and the worksets beside it) over the file instead of printing it')
    .option('--keep <n>', 'settled runs kept, the newest (default 50)')
    .option(
      '--follow',
      'keep the file (and the worksets) up to date from the log until Ctrl-C: on NATS from the stream, on any machine',
    )
    .action(
      act(
        () => import('./commands/state-file.js'),
        (m, path: string | undefined, o) => m.stateFileCmd(io, g(), path, o),
      ),
    );
  p.command('retry')
    .argument('[runId]', 'the FAILED or CANCELLED run to retry (or --query)')
    .description(
      'retry a FAILED or CANCELLED run from where it failed: a new run of its recorded definition and input that reuses the outputs of the tasks that completed and runs the rest (refused, exit 2, for any other run). Embedded: drives the new run here, as resume does; over NATS: the engines drive it and its id is printed',
    )
    .option('--handlers <module>', 'handler module (default: the one the failed run recorded)')
    .option(...skillsOption)
    .option('--max-wait <duration>')
    .option('--commit-window <duration>')
    .option(...outputRootOption)
    .option(...commandOutputLimitOption)
    .option(...secretsOption)
    .option(
      '--wait <duration>',
      'over NATS: wait this long for the new run to settle or wait for a person, and print its state (exit codes as run)',
    )
    .option('--json')
    .option(...queryOption)
    .option(...dryRunOption)
    .option(...yesOption)
    .action(
      act(
        () => import('./commands/retry.js'),
        (m, runId: string | undefined, o) => m.retryCmd(io, g(), runId, o),
      ),
    );
  p.command('status')
    .argument('<runId>', 'run id')
    .description(
      "where a run stands: its status, each task's state, who or what it waits for, and the command that moves it on",
    )
    .option('--json')
    .option('--yaml')
    .action(
      act(
        () => import('./commands/read.js'),
        (m, runId: string, o) => m.statusCmd(io, g(), runId, o),
      ),
    );
  p.command('list')
    .description('runs, newest first, from the run index (rebuilt from the log when missing or behind)')
    .option('--workflow <id>')
    .option('--status <status>')
    .option(
      '--trigger <kind[:id]>',
      'how runs started: event, schedule, parent, retry, manual; with :id an event type or event id, schedule slot or run id',
    )
    .option(
      '--agent <name>',
      "runs with a task assigned to this agent, an approval decided by them, or an attempt's outcome they reported (a worker's NATS user, a file agent)",
    )
    .option('--since <time>', 'started at or after: an ISO time, or how long ago (90m, 24h, 7d)')
    .option('--until <time>', 'started at or before (as --since)')
    .option('--output-contains <text>', "runs whose output's JSON contains this text (any case)")
    .option('--run-id <prefix>', 'run ids starting with this')
    .option(
      '--where <cond>',
      'runs whose search attribute meets this: name=value, name!=value, or <, <=, >, >= for numbers and times (repeat: all must hold)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--limit <n>', 'the newest n matching runs (at most 500)')
    .option('--json')
    .action(
      act(
        () => import('./commands/read.js'),
        (m, o) => m.listCmd(io, g(), o),
      ),
    );
  p.command('stats')
    .argument('<workflow>', 'the workflow id')
    .description(
      "a workflow's figures from the run index: runs, execution_time (p50, p95, mean, max), task_success_rate and retry_count (per task too), failure_rate; the table shows those its definition's monitoring.metrics lists, --json all",
    )
    .option('--since <time>', 'runs started at or after: an ISO time, or how long ago (90m, 24h, 7d)')
    .option('--version <n>', 'only the runs of this version of the workflow')
    .addOption(new Option('--workflow-version <n>').hideHelp())
    .option('--json', 'print every figure as JSON (the same as GET /api/definitions/<workflow>/stats)')
    .action(
      act(
        () => import('./commands/stats.js'),
        (m, workflow: string, o) => m.statsCmd(io, g(), workflow, o),
      ),
    );
  p.command('reindex')
    .description(
      'rebuild the run index from the log (NATS: KV LF_RUNS_INDEX; file store: <store>/index/runs.jsonl); progress on stderr',
    )
    .option('--json', 'print { index, runs, corrupt, ms } as JSON')
    .action(
      act(
        () => import('./commands/reindex.js'),
        (m, o) => m.reindexCmd(io, g(), o),
      ),
    );
  p.command('history')
    .argument('<runId>', 'run id')
    .description('the audit trail: every event of the run')
    .option('--json')
    .option(
      '--format <format>',
      "events (the default) or log: the execution log's lines (monitoring.log_to), rebuilt from the run's log",
    )
    .action(
      act(
        () => import('./commands/read.js'),
        (m, runId: string, o) => m.historyCmd(io, g(), runId, o),
      ),
    );
  p.command('replay')
    .argument('[runId]', 'run id')
    .description('rebuild the state from the log and check it (one run, or --all)')
    .option('--to <seq>', 'stop at this event')
    .option(
      '--definition <file>',
      'check whether this definition could take over the run (with --all: every run of its workflow)',
    )
    .option('--all', 'replay every recorded run')
    .option('--workflow <id>', 'with --all: only the runs of this workflow')
    .option('--json')
    .action(
      act(
        () => import('./commands/replay.js'),
        (m, runId: string | undefined, o) => m.replayCmd(io, g(), runId, o),
      ),
    );
  p.command('migrate')
    .argument('<workflow>', 'workflow id')
    .description(
      "move the unsettled runs of a workflow to another version: each run's history is replayed under it and sorted into takes over as is / with the task map / cannot (first divergence); without --dry-run each run that can take over gets run.migrated and goes on under the new version (docs/runs.md#migrating-in-flight-runs)",
    )
    .requiredOption(
      '--to <version>',
      'the version to move to: its number (embedded: in ./definitions or the bundled ones; NATS: deployed) or a definition file',
    )
    .option(
      '--map <old=new>',
      'a task renamed in the new version (repeatable): its state carries over under the new id',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--query <filter>',
      "only the runs of the workflow this filter matches: list's filters as key=value (status=WAITING since=1h where=customer=42)",
    )
    .option('--dry-run', 'print the verdict of every run, change nothing')
    .option(...asOption)
    .option(
      '--json',
      'print { workflowId, to, map, dryRun, judged, as_is, with_map, cannot, already, migrated, refused, runs: [...] }',
    )
    .action(
      act(
        () => import('./commands/migrate.js'),
        (m, workflow: string, o) => m.migrateCmd(io, g(), workflow, o),
      ),
    );
  for (const name of ['approve', 'reject'] as const) {
    p.command(name)
      .argument('[runId]', 'run id (or --query)')
      .argument('[taskId]', 'a HUMAN task of the run')
      .description(
        `${name} a HUMAN task of the run. Embedded store: recorded, and the run moved on here unless a serve, ui or run process drives it. Over NATS: recorded at once when no engine runs and the name is not proven (a server without users, no credentials), else published for the engines (queued until one, or \`resume\`, takes it)`,
      )
      .option(...asOption)
      .option('--comment <text>')
      .option(
        '--handlers <module>',
        'embedded store: handler module to move the run on with (default: the one the run recorded)',
      )
      .option(...outputRootOption)
      .option(...commandOutputLimitOption)
      .option(...waitOption)
      .option('--json', 'print { runId, task, decision, by, unauthenticated, recorded, queued, changed, seq, status }')
      .option(...queryOption)
      .option(...dryRunOption)
      .option(...yesOption)
      .option(
        '--task <taskId>',
        'with --query: only this waiting HUMAN task of each run (default: every HUMAN task each run waits on)',
      )
      .option(
        '--decision <decision>',
        `with --query: approved or rejected (default ${name === 'approve' ? 'approved' : 'rejected'})`,
      )
      .action(
        act(
          () => import('./commands/run-inputs.js'),
          (m, runId: string | undefined, taskId: string | undefined, o) =>
            m.approveCmd(io, g(), name, runId, taskId, o),
        ),
      );
  }
  p.command('signal')
    .argument('<runId>', 'run id')
    .argument('<name>', "the signal's name: what a WAIT's event: waits for")
    .description(
      'send a signal to a run: its WAITs on that name complete with the data as output (one not reached yet keeps it). Refused, recording nothing, when no WAIT would take it. Taken as approve is (embedded: the run moved on here; NATS: recorded at once or published)',
    )
    .option('--data <json>', "the signal's data (JSON, at most 64 KB): the WAIT's output")
    .option(...asOption)
    .option(
      '--handlers <module>',
      'embedded store: handler module to move the run on with (default: the one the run recorded)',
    )
    .option(...outputRootOption)
    .option(...commandOutputLimitOption)
    .option(...waitOption)
    .option('--json', 'print { runId, name, by, unauthenticated, recorded, queued, changed, seq, status }')
    .action(
      act(
        () => import('./commands/run-inputs.js'),
        (m, runId: string, name: string, o) => m.inputCmd(io, g(), runId, m.signalInput(name, o.data), o),
      ),
    );
  for (const [action, about] of [
    [
      'pause',
      'pause a run: running attempts finish and are recorded, no new one starts until `resume`. Refused (exit 2, nothing recorded) when settled or already paused. Over NATS, taken as approve is (published on lf.control.<user>.<runId>)',
    ],
    [
      'cancel',
      'cancel a run: its attempts are aborted, the child runs of its sub-workflows cancelled. Over NATS, taken as approve is (published on lf.control.<user>.<runId> when an engine runs, which records it and acts on it)',
    ],
  ] as const) {
    p.command(action)
      .argument('[runId]', 'run id (or --query)')
      .description(about)
      .option('--reason <text>')
      .option(...asOption)
      .option(...waitOption)
      .option('--json', 'print { runId, action, by, unauthenticated, recorded, queued, changed, seq, status }')
      .option(...queryOption)
      .option(...dryRunOption)
      .option(...yesOption)
      .action(
        act(
          () => import('./commands/run-inputs.js'),
          (m, runId: string | undefined, o) =>
            m.controlCmd(
              io,
              g(),
              runId,
              { kind: 'control', action, ...(o.reason !== undefined ? { reason: o.reason } : {}) },
              o,
            ),
        ),
      );
  }
  p.command('serve')
    .description(
      "the embedded store's engine, until SIGTERM/SIGINT: drives every unsettled run nobody else drives (timers on time, approvals and signals as they land, runs whose process died), one per store (a second stands by)",
    )
    .option('--handlers <module>', "handler module for every run (default: each run's recorded `handlers:` module)")
    .option(...skillsOption)
    .option('--grace <duration>', 'on SIGTERM/SIGINT, how long attempts in flight get to finish (default 10s)')
    .option(...outputRootOption)
    .option(
      '--json',
      'print each notice (run picked up, taken over, settled; standby, stopping) as a JSON line on stdout',
    )
    .option(
      '--definitions <dir>',
      'the definitions whose schedule triggers fire (default: ./definitions; without one no schedule fires, the bundled ones being for the tour); re-read when a file changes',
    )
    .option('--no-schedules', 'fire no schedules (only drive runs)')
    .option(...commandOutputLimitOption)
    .option(...httpAllowOption)
    .option(...notificationsOption)
    .option(...metricsPortOption)
    .option(...metricsHostOption)
    .option(...stateFileOption)
    .option(...noStateFileOption)
    .option(...stateFileKeepOption)
    .action(
      act(
        () => import('./commands/serve.js'),
        (m, o) => m.serveCmd(io, g(), o),
      ),
    );
  p.command('ui')
    .description(
      'the web dashboard: runs, definitions, schedules, metrics; approve, signal, cancel, pause, resume, retry, start and emit from a browser. Embedded store: also drives the runs (as serve), binds 127.0.0.1 and prints the URL with its access token; NATS: people sign in with their NATS user',
    )
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--handlers <module>',
      "embedded store: handler module for every run driven here (default: each run's recorded module)",
    )
    .option(
      '--definitions <dir>',
      'workflows to show and start (default: ./definitions, else the bundled ones) and fire schedules of (only a folder of yours: --definitions or ./definitions)',
    )
    .option(...outputRootOption)
    .option(...commandOutputLimitOption)
    .option(...notificationsOption)
    .option(
      '--users <file>',
      'embedded store: the users file (docs/users.md; default $LEDGERFLOW_USERS, else users.yaml here when there is one): people sign in with their name and password or their own token, act as themselves and are judged by their level; the shared token and the free `as` name are gone',
    )
    .option(
      '--allowed-host <name>',
      "a Host / Origin name to answer besides the listening address (a proxy's: name or name:port); repeatable",
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(...stateFileOption)
    .option(...noStateFileOption)
    .option(...stateFileKeepOption)
    .option('--json', 'print { url, token, port, mode, identity } as one JSON line on stdout once listening')
    .action(
      act(
        () => import('./commands/ui.js'),
        (m, o) => m.uiCmd(io, g(), o),
      ),
    );
  p.command('dev')
    .description(
      'start a local nats-server from nats-dev.conf (DEVELOPMENT ONLY: no credentials = the engine user), store under .ledgerflow/nats/ (or a cluster: --cluster 3); prints the URL to use',
    )
    .option(
      '--port <port>',
      'client port (of the first node with --cluster; the others take the next ones): default 4222, 4223 with --leaf',
    )
    .option(
      '--store-dir <dir>',
      "JetStream store directory (default .ledgerflow/nats, or .ledgerflow/cluster with --cluster; with --leaf, its config's folder, default .ledgerflow/leaf-<name>)",
    )
    .option(
      '--config <file>',
      'nats-server config (default nats-dev.conf, or nats-cluster-dev.conf with --cluster; nats.conf / nats-cluster.conf refuse connections without credentials)',
    )
    .option('--cluster <nodes>', 'start a cluster of this many nodes (3 to 9) from nats-cluster-dev.conf')
    .option(
      '--leaf-port <port>',
      'the hub of stations: also listen for their leaf nodes on this port (7422 by convention), each station as its user leaf-<name> with the password kept in <store>/leaf-password (or LF_LEAF_PASSWORD) (docs/nats.md#stations)',
    )
    .option(
      '--stations <list>',
      "with --leaf-port: the stations whose leaf nodes the hub takes, comma-separated; each link carries only its station's people and workers",
    )
    .option(
      '--leaf <station>',
      "start station <station>'s leaf node instead (no JetStream: its clients use the hub's, --nats 'nats://…?domain=hub'), linked to --hub",
    )
    .option(
      '--hub <url>',
      "with --leaf: the hub's leaf node port (default nats://127.0.0.1:7422; its password from LF_LEAF_PASSWORD or .ledgerflow/nats/leaf-password, unless the URL gives one)",
    )
    .option('--json', 'once ready, print the servers and the --nats value as JSON')
    .action(
      act(
        () => import('./commands/dev.js'),
        (m, o) => m.devCmd(io, o),
      ),
    );
  p.command('emit')
    .argument('<eventType>')
    .description('send an event: start each workflow whose trigger matches it, once per event id')
    .option('--data <json>', 'the payload, a JSON object')
    .option('--sample', "the payload is the sample: of the event type's file (events/<type>.yaml)")
    .option('--id <eventId>', 'unique event id (default: a new uuid)')
    .option('--time <iso>', 'when it happened (default: now)')
    .option('--source <name>', 'who sent it')
    .option('--definitions <dir>', 'workflows (default: definitions/ here, else the bundled ones)')
    .option('--events <dir>', 'event type schemas (default: events/ here, else the bundled ones)')
    .option('--max-wait <duration>', 'wait in-process for timers due within this long (default 5m)')
    .option(...outputRootOption)
    .option(...commandOutputLimitOption)
    .option(...notificationsOption)
    .option('--wait <duration>', "over NATS: how long to wait for the engines' verdict (default 10s; 0: don't wait)")
    .option('--json', 'print { event, runs } as JSON')
    .action(
      act(
        () => import('./commands/emit.js'),
        (m, type: string, o) => m.emitCmd(io, g(), type, o),
      ),
    );
  p.command('schedules')
    .description(
      'every schedule trigger: its next fire times (UTC and its zone) and the last slot fired with its run (embedded: definitions/ and <store>/schedules.json; NATS: the deployed ones)',
    )
    .option('--count <n>', 'next fire times to show per schedule (default 3)')
    .option('--definitions <dir>', 'embedded: workflows (default: definitions/ here, else the bundled ones)')
    .option('--json')
    .action(
      act(
        () => import('./commands/schedules.js'),
        (m, o) => m.schedulesCmd(io, g(), o),
      ),
    );
  {
    const schedules = p.commands.find((c) => c.name() === 'schedules')!;
    const about = {
      pause:
        "pause the workflow's schedules: no slot fires until a resume, across restarts and engine failovers (L1 with a users file)",
      resume: 'resume them: the next slot fires; the slots of the pause are missed slots that catch_up decides (L1)',
      trigger: 'one run now, recorded as a manual slot of the schedule (it runs even while paused; L1)',
      backfill:
        'start a run for every slot in [--from, --to) that has none yet, once: a second backfill starts nothing (L1)',
    } as const;
    for (const action of ['pause', 'resume', 'trigger', 'backfill'] as const) {
      const c = schedules
        .command(action)
        .argument('<workflow>', 'the workflow whose schedules these are')
        .description(about[action])
        .option('--trigger <n>', 'only triggers[n] (default: every schedule of the workflow; trigger: the first)');
      if (action === 'pause') c.option('--reason <text>', 'why, shown by `schedules` and the dashboard');
      if (action === 'backfill')
        c.requiredOption(
          '--from <time>',
          'the first instant, ISO (2026-11-20T00:00:00Z): slots at or after it',
        ).requiredOption('--to <time>', 'the end, ISO: slots before it');
      if (action === 'trigger' || action === 'backfill')
        c.option(
          '--wait <duration>',
          'NATS: how long to wait for the engines to start the runs (default 10s; 0: not at all)',
        );
      c.option('--definitions <dir>', 'embedded: workflows (default: definitions/ here, else the bundled ones)')
        .option(
          '--json',
          'print { action, workflowId, schedules?, queued?: [{ workflowId, trigger, slot, runId, manual? }], existing?, ahead?, started? }',
        )
        .action(
          act(
            () => import('./commands/schedules.js'),
            (m, workflow: string, o) => m.scheduleActionCmd(io, g(), action, workflow, { ...schedules.opts(), ...o }),
          ),
        );
    }
  }
  p.command('agents')
    .description(
      'who works on the store: every file agent that ran on it (embedded; up or gone, its queue, level, skills, attempts in flight) or every worker and agent the engines hear (NATS)',
    )
    .option(
      '--json',
      'print { agents: [{ name, kind, state, queue, level?, skills, handlers?, user?, inFlight?, lastSeen }] }',
    )
    .action(
      act(
        () => import('./commands/agents.js'),
        (m, o) => m.agentsCmd(io, g(), o),
      ),
    );
  p.command('map')
    .description(
      'the dependency map of workflows: which starts which, by sub-workflow, MAP, EMIT and the event triggers that hear it, or failure workflow (embedded: definitions/; NATS: the deployed ones)',
    )
    .option('--definitions <dir>', 'embedded: workflows (default: definitions/ here, else the bundled ones)')
    .option('--json', 'print { workflows, edges, unheard, dynamic, missing }')
    .action(
      act(
        () => import('./commands/map.js'),
        (m, o) => m.mapCmd(io, g(), o),
      ),
    );
  p.command('triggers')
    .description(
      'debounced and throttled event triggers: what waits now (open bursts, queues) and the decision log (started, queued, merged, dropped; embedded: <store>/triggers/; NATS: KV LF_TRIGGER_GATES, stream LF_TRIGGER_LOG)',
    )
    .option('--workflow <id>', "only this workflow's triggers")
    .option('--limit <n>', 'the last n decisions (default 50)')
    .option('--definitions <dir>', 'embedded: workflows (default: definitions/ here, else the bundled ones)')
    .option('--json', 'print { waiting, decisions }')
    .action(
      act(
        () => import('./commands/triggers.js'),
        (m, o) => m.triggersCmd(io, g(), o),
      ),
    );
  p.command('paths')
    .argument('<file>')
    .description(
      'the paths through a definition (each decision case, retry, failure, timeout, approval, skip) and the coverage they reach',
    )
    .option('--json', 'print { paths, coverage, uncovered, tasks, excluded }')
    .action(
      act(
        () => import('./commands/coverage.js'),
        (m, file: string, o) => m.pathsCmd(io, file, o),
      ),
    );
  p.command('test')
    .argument('<file...>')
    .description(
      'run every path, and the expectations in expectations/<file> beside each definition, against the runtime (scripted handlers, virtual time)',
    )
    .option('--json', 'print the results as JSON')
    .action(
      act(
        () => import('./commands/coverage.js'),
        (m, files: string[], o) => m.testCmd(io, files, o),
      ),
    );
  p.command('demo')
    .description(
      "the tour (npm start): in a fresh embedded store, emit the sample revenue, lead and compliance events, run the batch validation over the sample folders, approve the pending approval as cfo, print each run's trail and output",
    )
    .option(
      '--json',
      'print the summary (runs, statuses, approvals, per-folder results, files, store) as JSON on stdout; progress goes to stderr',
    )
    .action(
      act(
        () => import('./commands/demo.js'),
        (m, o) => m.demoCmd(io, g(), o),
      ),
    );
  p.command('bridge')
    .argument('[file]', 'a file of lines (default: standard input)')
    .description(
      'CMD.BRIDGE lines (@workflow <id> name=value …, @status <run>, @approve <run> <task> [comment], @cancel <run>), each answered with one line; on the embedded store',
    )
    .option(
      '--inbox <dir>',
      "watch this folder: each file dropped in it (a link is refused unread) is taken once, answered into done/ or failed/ with a .result file beside it; whoever can drop a file acts as the bridge's user",
    )
    .option(
      '--as <name>',
      "who the bridge acts as (default LEDGERFLOW_USER, else $USER); with a users file, signed in once at its start as any command is (LEDGERFLOW_PASSWORD, or asked at a terminal), and each line judged by that user's level",
    )
    .option(
      '--inbox-level <level>',
      "with --inbox and a users file (then required): the most a dropped file may do; its lines are judged at the lower of this level and the --as user's",
    )
    .option(
      '--detach',
      'record the runs @workflow starts and leave them to `ledgerflow serve` (default: drive them here)',
    )
    .option(
      '--handlers <module>',
      "handler module for the runs started here (default: each definition's handlers: line)",
    )
    .option('--json', 'answer each line as a JSON object')
    .action(
      act(
        () => import('./commands/bridge.js'),
        (m, file: string | undefined, o) => m.bridgeCmd(io, g(), file, o),
      ),
    );
  p.command('templates')
    .description('the template library: each bundled workflow, what it does and the command that runs it')
    .option(
      '--from <source>',
      'list the templates of a folder, a tarball (.tgz) or an npm package (@acme/ledgerflow-templates) instead',
    )
    .option('--json', 'print the catalogue entries as JSON')
    .action(
      act(
        () => import('./commands/templates.js'),
        (m, o) => m.templatesCmd(io, o),
      ),
    );
  p.command('new')
    .argument(
      '<template>',
      'a template id (see `ledgerflow templates`), or <source>/<template>: a folder, a tarball (.tgz) or an npm package of templates (@acme/ledgerflow-templates/onboarding)',
    )
    .description(
      'copy a template (definition, sub-workflows, handlers, samples, events, expectations) into a directory, renamed with --id; refuses (exit 2, nothing written) a file that exists',
    )
    .option('--id <workflowId>', "the copy's workflow id (its files are named after it)")
    .option('--dir <dir>', 'where to copy it (default: the current directory)')
    .option('--json')
    .action(
      act(
        () => import('./commands/templates.js'),
        (m, template: string, o) => m.newCmd(io, template, o),
      ),
    );
  p.command('import')
    .description('import workflow definitions written for another engine (conductor)')
    .command('conductor')
    .argument(
      '<source>',
      'a Conductor workflow JSON file (a WorkflowDef, or a list of them) or a folder of .json files',
    )
    .description(
      'Conductor workflows as ledgerflow YAML, each validated; a workflow that cannot be imported is refused naming each task and why (exit 1)',
    )
    .option('--out <dir>', 'write <dir>/<workflow-id>.yaml (default: print the YAML)')
    .option(
      '--as-simple <types>',
      "import these Conductor task types (comma-separated, e.g. LLM_CHAT_COMPLETE,SENDGRID) as SIMPLE tasks: a handler of the task's name does the work",
    )
    .option(
      '--no-integrations',
      "refuse Orkes' integration and AI tasks (LLM_*, GENERATE_*, agents, MCP, SENDGRID, OPS_GENIE, QUERY_PROCESSOR) instead of importing them as SIMPLE tasks whose handler makes the call",
    )
    .option('--json', 'print { imported, refused, notes }')
    .action(
      act(
        () => import('./commands/import.js'),
        (m, source: string, o) => m.importConductorCmd(io, source, o),
      ),
    );
  p.command('doctor')
    .description(
      'every stream and KV bucket ledgerflow keeps on NATS: replicas, leader, health; warns where they differ from LEDGERFLOW_NATS_REPLICAS',
    )
    .option(
      '--routes <list>',
      'cluster route addresses (host:port,…) to check: each must refuse a server without the route password',
    )
    .option('--json', 'print { server, expectedReplicas, streams, missing, routes, warnings, notes }')
    .action(
      act(
        () => import('./commands/cluster.js'),
        (m, o) => m.doctorCmd(io, g(), o),
      ),
    );
  const dlq = p
    .command('dlq')
    .description(
      'what engines and workers gave up on (streams LF_DLQ and LF_DLQ_WORKERS, over NATS): list, show, replay, purge',
    );
  dlq
    .command('list')
    .description(
      'every dead letter (engines first, then workers), oldest first: id, kind, when, whether replayable, size, where it came from, reason',
    )
    .option(
      '--kind <kind>',
      'only this kind: inputs, timers, approvals, triggers, tasks, signals, control, notifications',
    )
    .option('--json', 'print the entries as JSON')
    .action(
      act(
        () => import('./commands/dlq.js'),
        (m, o) => m.dlqListCmd(io, g(), o),
      ),
    );
  dlq
    .command('show')
    .argument('<id>', "the dead letter's id (from dlq list: 12 for an engine's, w12 for a worker's)")
    .description('one dead letter in full: reason, reference to the message, kept body or excerpt')
    .option('--json')
    .action(
      act(
        () => import('./commands/dlq.js'),
        (m, seq: string, o) => m.dlqShowCmd(io, g(), seq, o),
      ),
    );
  dlq
    .command('replay')
    .argument('[id]', "the dead letter's id (from dlq list)")
    .description(
      'publish the kept body again on its original subject, then delete the dead letter (refused, exit 2, when the body was not kept)',
    )
    .option('--all', 'every replayable dead letter (the others are named and kept; exit 2 if any)')
    .option('--kind <kind>', 'with --all: only this kind')
    .option('--json')
    .action(
      act(
        () => import('./commands/dlq.js'),
        (m, seq: string | undefined, o) => m.dlqReplayCmd(io, g(), seq, o),
      ),
    );
  dlq
    .command('purge')
    .description('delete dead letters (all, or of one kind); without --yes nothing is deleted (exit 2, with the count)')
    .option('--kind <kind>')
    .option('--yes', 'really delete')
    .option('--json')
    .action(
      act(
        () => import('./commands/dlq.js'),
        (m, o) => m.dlqPurgeCmd(io, g(), o),
      ),
    );
  const limits = p
    .command('limits')
    .description(
      'limits per task queue and per handler name, shared by every workflow (docs/language.md): set them from a file, show them',
    );
  limits
    .command('set')
    .argument(
      '<file>',
      'a limits file: queues: { <queue>: { concurrency: { limit: 5 }, rate_limit: { limit: 100, per: 1s }, breaker: { failures: 5, window: 1m, open_for: 30s } } }, handlers: { <handler>: ... }',
    )
    .description(
      'validate the file and store its limits where every run, resume, serve, ui and engine of the store reads them (an empty file clears them); a bad file: every problem at file:line:col, exit 2, nothing stored',
    )
    .option(
      '--wait <duration>',
      "over NATS as a person's user (not the engine's): how long to wait for the engine that judges your level (L1) and stores them (default 10s; 0: not at all); none in time: queued, exit 3",
    )
    .option('--json', 'print { file, stored, limits | diagnostics }')
    .action(
      act(
        () => import('./commands/limits.js'),
        (m, file: string, o) => m.limitsSetCmd(io, g(), file, o),
      ),
    );
  limits
    .command('show')
    .description('the limits stored now, per queue and per handler, and the state of every circuit breaker')
    .option(
      '--json',
      'print { limits: { queues, handlers }, breakers: [{ name, state, failures, openedAt?, until?, by? }] }',
    )
    .action(
      act(
        () => import('./commands/limits.js'),
        (m, o) => m.limitsShowCmd(io, g(), o),
      ),
    );
  const breaker = p
    .command('breaker')
    .description('circuit breakers (docs/language.md): open one to hold its attempts, close one to let them go');
  for (const to of ['open', 'close'] as const) {
    breaker
      .command(to)
      .argument(
        '<target>',
        'the breaker, as `limits show` names it: task/<workflow>/<task>, queue/<queue> or handler/<handler>',
      )
      .description(
        to === 'open'
          ? 'open the breaker until an operator closes it: its attempts wait SCHEDULED'
          : 'close the breaker and forget its failures: the attempts it held start',
      )
      .option('--json', 'print { breaker: { name, state, failures, openedAt?, until?, by? } }')
      .action(
        act(
          () => import('./commands/breaker.js'),
          (m, target: string, o) => m.breakerCmd(io, g(), to, target, o),
        ),
      );
  }
  const users = p
    .command('users')
    .description(
      'the users file (docs/users.md): who may act, at which of the levels L0 Commander, L1 CMD.BRIDGE, L2 Station OPS, L3 Worker',
    );
  const usersFile = (c: Command) =>
    c.option('--users <file>', 'the users file (default $LEDGERFLOW_USERS, else users.yaml here)').option('--json');
  usersFile(
    users
      .command('add')
      .argument('<name>')
      .description('add a user at a level; --password-stdin reads a password (kept as a scrypt hash, never in clear)')
      .requiredOption('--level <level>', 'L0, L1, L2 or L3')
      .option('--domains <list>', 'for an L2: the workflow domains it may start, comma-separated')
      .option(
        '--queues <list>',
        'for an L3 Worker: the task queues it takes attempts of on NATS (users nats-conf), comma-separated; default: default',
      )
      .option(
        '--stations <list>',
        "the stations whose leaf node the user acts through (a Worker: their queue station-<name>), comma-separated; leaf-<station> with --stations <station> is that station's link (users nats-conf, docs/nats.md#stations)",
      )
      .option('--password-stdin', 'read the password from the first line of stdin'),
  ).action(
    act(
      () => import('./commands/users.js'),
      (m, name: string, o) => m.usersAddCmd(io, name, o),
    ),
  );
  usersFile(
    users
      .command('set-level')
      .argument('<name>')
      .argument('<level>', 'L0, L1, L2 or L3')
      .description("change a user's level (and, with --domains, its domains)")
      .option('--domains <list>', 'the workflow domains it may start, comma-separated (empty: none)')
      .option('--queues <list>', "a Worker's task queues, comma-separated"),
  ).action(
    act(
      () => import('./commands/users.js'),
      (m, name: string, level: string, o) => m.usersSetLevelCmd(io, name, level, o),
    ),
  );
  usersFile(
    users
      .command('passwd')
      .argument('<name>')
      .description("set a user's password from the first line of stdin (kept as a scrypt hash)")
      .option('--password-stdin', 'read it from stdin (the only way: never on the command line)'),
  ).action(
    act(
      () => import('./commands/users.js'),
      (m, name: string, o) => m.usersPasswdCmd(io, name, o),
    ),
  );
  usersFile(
    users
      .command('nats-conf')
      .description(
        "nats-server's account block from the users file: each user with a bcrypt hash of their password and the permissions of their level (docs/users.md#on-nats)",
      )
      .option('--engine <name>', 'the user the engines connect as: every subject (default: engine)')
      .option('--out <file>', 'write it to this file (owner-only) instead of printing it')
      .option(
        '--domain <domain>',
        "for a station's leaf node (docs/nats.md#stations): the permissions name the hub's JetStream through this domain ($JS.<domain>.API…), and the account has no JetStream of its own",
      ),
  ).action(
    act(
      () => import('./commands/users.js'),
      (m, o) => m.usersNatsConfCmd(io, o),
    ),
  );
  usersFile(
    users
      .command('token')
      .argument('<name>')
      .description(
        'a new dashboard token for the user, printed once (the file keeps its sha256); the one before stops working',
      ),
  ).action(
    act(
      () => import('./commands/users.js'),
      (m, name: string, o) => m.usersTokenCmd(io, name, o),
    ),
  );
  usersFile(users.command('rm').argument('<name>').description('remove a user')).action(
    act(
      () => import('./commands/users.js'),
      (m, name: string, o) => m.usersRmCmd(io, name, o),
    ),
  );
  usersFile(
    users
      .command('list')
      .description('who is in the users file: name, level, domains, whether a password is set (never the hash)'),
  ).action(
    act(
      () => import('./commands/users.js'),
      (m, o) => m.usersListCmd(io, o),
    ),
  );
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
    .action(
      act(
        () => import('./commands/cluster.js'),
        (m, files: string[], o) => m.deployCmd(io, g(), files, o),
      ),
    );
  p.command('start')
    .argument('<workflow>', '<workflowId> or <workflowId>@<version>')
    .argument('[inputs...]', 'workflow inputs as --<name> <value>')
    .description(
      'start a run of a workflow by its id. Embedded: the definition is found in ./definitions (else the bundled ones) and run here as `run` does (--detach: recorded, left to `serve`). Over NATS: a deployed workflow, recorded, its id printed at once',
    )
    .option(...inputFileOption)
    .option(...inputOption)
    .option('--detach', 'embedded: record the start, print the run id and leave the run to `ledgerflow serve`')
    .option(notificationsOption[0], `embedded, without --detach: ${notificationsOption[1]}`)
    .option('--handlers <module>', "embedded: handler module (default: the definition's handlers: line)")
    .option(...stateFileOption)
    .option(...noStateFileOption)
    .option(...stateFileKeepOption)
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
    .action(
      act(
        () => import('./commands/start.js'),
        (m, ref: string, tail: string[], o, c: Command) =>
          m.startCmd(io, g(), ref, tail, o, optionSpecs(c), () => helpOf(c)),
      ),
    );
  p.command('wait')
    .argument('<runId>', 'run id')
    .description('block until the run settles (exit codes as run)')
    .option('--timeout <duration>')
    .option('--or-waiting', 'also return when the run waits for a person or is paused (exit 3)')
    .option('--json')
    .action(
      act(
        () => import('./commands/read.js'),
        (m, runId: string, o) => m.waitCmd(io, g(), runId, o),
      ),
    );
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
    .option(...asOption)
    .action(
      act(
        () => import('./commands/watch.js'),
        (m, runId: string | undefined, o) => m.watchCmd(io, g(), runId, o),
      ),
    );
  p.command('engine')
    .description(
      'take runtime inputs, timers, approvals, signals, run control and trigger events from NATS until stopped',
    )
    .option('--handlers <module>', 'also run these task handlers in this process')
    .option('--commands', 'also run COMMAND tasks in this process')
    .option(...commandOutputLimitOption)
    .option(...workerHttpOptions[0])
    .option(...workerHttpOptions[1])
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
    .option(...outputRootOption)
    .option(...notificationsOption)
    .option(...metricsPortOption)
    .option(...metricsHostOption)
    .option(...stateFileOption)
    .option(...noStateFileOption)
    .option(...stateFileKeepOption)
    .action(
      act(
        () => import('./commands/cluster.js'),
        (m, o) => m.engineCmd(io, g(), o),
      ),
    );
  p.command('worker')
    .description(
      'run task attempts from the NATS work queue with a handler module (and, with --commands, COMMAND tasks; with --http, HTTP tasks) until stopped',
    )
    .option('--handlers <module>', 'handler module (.ts, .js, .mjs)')
    .option('--commands', "also run COMMAND tasks' programs (attempts on lf.q.<queue>._command)")
    .option(...commandOutputLimitOption)
    .option(...workerHttpOptions[0])
    .option(...workerHttpOptions[1])
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
    .option(...outputRootOption)
    .option(
      '--skills <list>',
      'its skills, comma-separated (or LEDGERFLOW_SKILLS): it also takes attempts of tasks whose requires: it has every one of',
    )
    .option(
      '--secrets <file>',
      "where ${secrets.NAME} values come from besides KV LF_SECRETS (read first): a YAML or JSON file of NAME: value, mode 600 (default: LEDGERFLOW_SECRETS_FILE), then the environment's LEDGERFLOW_SECRET_<NAME>",
    )
    .action(
      act(
        () => import('./commands/cluster.js'),
        (m, o) => m.workerCmd(io, g(), o),
      ),
    );
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
    .option(...secretsOption)
    .option('--json', 'print { name, stored, where }')
    .action(
      act(
        () => import('./commands/secrets.js'),
        (m, name: string, o) => m.secretsSetCmd(io, g(), name, o),
      ),
    );
  secrets
    .command('list')
    .description('the names of the secrets stored (never their values)')
    .option(...secretsOption)
    .option('--json', 'print { where, names }')
    .action(
      act(
        () => import('./commands/secrets.js'),
        (m, o) => m.secretsListCmd(io, g(), o),
      ),
    );
  secrets
    .command('rm')
    .argument('<name>', "the secret's name")
    .description(
      'remove a secret (on NATS it is purged: no history keeps it); exit 2 with LF_SECRET_NOT_FOUND when there is none',
    )
    .option(...secretsOption)
    .option('--json', 'print { name, removed, where }')
    .action(
      act(
        () => import('./commands/secrets.js'),
        (m, name: string, o) => m.secretsRmCmd(io, g(), name, o),
      ),
    );
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
    .action(
      act(
        () => import('./commands/agent.js'),
        (m, o) => m.agentCmd(io, g(), o),
      ),
    );
  // A mistake in a command's arguments points at that command's own help, not the list of commands.
  for (const c of p.commands) c.showHelpAfterError(`(run \`ledgerflow ${c.name()} --help\` for usage)`);
  return p;
}
