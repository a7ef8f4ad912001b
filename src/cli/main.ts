/** The `ledgerflow` command: a command table over the library; errors map to exit codes in one place. */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../api/index.js';
import { LedgerflowError } from '../errors/index.js';
import * as cmd from './commands.js';
import { runIdArg } from './run-id.js';
import { closeStores, usesNats } from './store.js';
import { EXIT, exitCodeForError } from './exit.js';
import { commandOutputLimitOption } from './command-limit.js';
import { inertLines } from '../terminal/index.js';
import { optionSpecs, protectTail } from './tail.js';
import { inCliTerms } from './flag-forms.js';

// A reader that went away (`ledgerflow history … | head`) is not an error: stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); throw err; });
}

const io: cmd.Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };

const metricsPortOption = ['--metrics-port <port>', 'serve Prometheus metrics at http://<metrics-host>:<port>/metrics (0: any free port, printed at start)'] as const;
const metricsHostOption = ['--metrics-host <host>', 'address the metrics port listens on (default 127.0.0.1)'] as const;
const notifications = ['--notifications <file>', 'global notification rules (YAML/JSON: the `notifications:` list, optional `delivery:`) for every run driven here, besides each definition\'s own (default: LEDGERFLOW_NOTIFICATIONS)'] as const;
const outputRoot = ['--output-root <dir>', 'write output_to files under this directory, never outside it (default: the current directory, or LEDGERFLOW_OUTPUT_ROOT)'] as const;

/** `--help` after `run <file>` (found among the inputs' flags): the command's help, as commander prints it. */
function helpOf(c: Command): number {
  process.stdout.write(c.helpInformation());
  return EXIT.ok;
}

function program(setCode: (c: number) => void): Command {
  const p = new Command('ledgerflow')
    .description('Event-sourced workflow engine: YAML workflows → XState statecharts → runs rebuilt from their event log')
    .option('--store <dir>', 'embedded event store directory (default .ledgerflow, or LEDGERFLOW_STORE)')
    .option('--nats <url>', 'use NATS JetStream as the event log, e.g. nats://127.0.0.1:4222 (or LEDGERFLOW_NATS_URL)')
    .version(packageVersion(), '-V, --version', 'print the version of ledgerflow')
    .exitOverride()
    .showHelpAfterError('(run `ledgerflow --help` for usage)');
  const g = () => p.opts<cmd.GlobalOpts>();
  const act = <A extends unknown[]>(fn: (...a: A) => number | Promise<number>) =>
    async (...a: A) => { setCode(await fn(...a)); };

  p.command('validate').argument('<file...>').description('check definitions; every problem as file:line:col')
    .option('--strict', 'treat warnings as errors').option('--json', 'machine-readable result')
    .action(act((files: string[], o) => cmd.validateCmd(io, files, o)));
  p.command('compile').argument('<file...>').description('write machines/<workflow-id>.json (XState config)')
    .option('--out <dir>', 'output directory', 'machines').option('--check', 'fail if a machine file is stale; write nothing').option('--json')
    .action(act((files: string[], o) => cmd.compileCmd(io, files, o)));
  p.command('schema').description('print the JSON Schema of the definition language')
    .action(act(() => cmd.schemaCmd(io)));
  p.command('run').argument('<file>').argument('[inputs...]', 'workflow inputs as --<name> <value>')
    .description('start a run and execute it until it completes, fails or waits')
    .option('--input-file <file>', 'JSON or YAML object of inputs').option('--handlers <module>', 'handler module (.ts, .js, .mjs)')
    .option('--max-wait <duration>', 'wait in-process for timers due within this long (default 5m)')
    .option('--commit-window <duration>', 'gather steps of in-process handlers into one commit for up to this long (default 0: each step durable before it acts)')
    .option(...outputRoot).option(...commandOutputLimitOption).option(...notifications).option('--json', 'print the final state as JSON')
    .allowUnknownOption().allowExcessArguments()
    .action(act((file: string, tail: string[], o, c: Command) => cmd.runCmd(io, g(), file, tail, o, optionSpecs(c), () => helpOf(c))));
  p.command('resume').argument('<runId>', 'run id', runIdArg).description('continue an interrupted, waiting or paused run (a paused one is un-paused first: run.resumed)')
    .option('--as <name>', 'who resumes a paused run (default $USER. Over NATS with a user in the URL, that user (--as must match it); without one, a name recorded as unauthenticated)')
    .option('--wait <duration>', "over NATS, for a paused run: how long to wait for an engine's verdict when one is running (default 10s; 0: don't wait)")
    .option('--handlers <module>').option('--max-wait <duration>').option('--commit-window <duration>').option(...outputRoot).option(...commandOutputLimitOption).option(...notifications).option('--json')
    .action(act((runId: string, o) => cmd.resumeCmd(io, g(), runId, o)));
  p.command('retry').argument('<runId>', 'the FAILED or CANCELLED run to retry', runIdArg)
    .description('retry a FAILED or CANCELLED run from where it failed: a new run of its recorded definition and input that reuses the outputs of the tasks that completed and runs the rest (refused, exit 2, for any other run). Embedded: drives the new run here, as resume does; over NATS: the engines drive it and its id is printed')
    .option('--handlers <module>', 'handler module (default: the one the failed run recorded)').option('--max-wait <duration>').option('--commit-window <duration>')
    .option(...outputRoot).option(...commandOutputLimitOption)
    .option('--wait <duration>', 'over NATS: wait this long for the new run to settle or wait for a person, and print its state (exit codes as run)').option('--json')
    .action(act(async (runId: string, o) => (await import('./retry.js')).retryCmd(io, g(), runId, o)));
  p.command('status').argument('<runId>', 'run id', runIdArg).description('where a run stands: its status, each task\'s state, who or what it waits for, and the command that moves it on')
    .option('--json').option('--yaml')
    .action(act((runId: string, o) => cmd.statusCmd(io, g(), runId, o)));
  p.command('list').description('runs, newest first, from the run index (rebuilt from the log when missing or behind)')
    .option('--workflow <id>').option('--status <status>')
    .option('--trigger <kind[:id]>', 'how runs started: event, schedule, parent, retry, manual; with :id an event type or event id, schedule slot or run id')
    .option('--agent <name>', 'runs with a task assigned to this agent, or an approval decided by them')
    .option('--since <time>', 'started at or after: an ISO time, or how long ago (90m, 24h, 7d)').option('--until <time>', 'started at or before (as --since)')
    .option('--output-contains <text>', "runs whose output's JSON contains this text (any case)").option('--run-id <prefix>', 'run ids starting with this')
    .option('--limit <n>', 'the newest n matching runs (at most 500)').option('--json')
    .action(act((o) => cmd.listCmd(io, g(), o)));
  p.command('reindex').description('rebuild the run index from the log (NATS: KV LF_RUNS_INDEX; file store: <store>/index/runs.json); progress on stderr')
    .option('--json', 'print { bucket, runs, corrupt, ms } as JSON')
    .action(act(async (o) => (await import('./reindex.js')).reindexCmd(io, g(), o)));
  p.command('history').argument('<runId>', 'run id', runIdArg).description('the audit trail: every event of the run').option('--json')
    .action(act((runId: string, o) => cmd.historyCmd(io, g(), runId, o)));
  p.command('replay').argument('[runId]', 'run id', runIdArg).description('rebuild the state from the log and check it (one run, or --all)')
    .option('--to <seq>', 'stop at this event').option('--definition <file>', 'check whether this definition could take over the run (with --all: every run of its workflow)')
    .option('--all', 'replay every recorded run').option('--workflow <id>', 'with --all: only the runs of this workflow').option('--json')
    .action(act((runId: string | undefined, o) => cmd.replayCmd(io, g(), runId, o)));
  const asOption = ['--as <name>', 'who acts (default $USER). Over NATS with a user in the URL, that user (--as must match it); without one, a name recorded as unauthenticated'] as const;
  const waitOption = ['--wait <duration>', "over NATS: how long to wait for an engine's verdict when one is running (default 10s; 0: don't wait)"] as const;
  const inputs = async () => import('./run-inputs.js');
  for (const [name, decision] of [['approve', 'approved'], ['reject', 'rejected']] as const) {
    p.command(name).argument('<runId>', 'run id', runIdArg).argument('<taskId>', 'a HUMAN task of the run')
      .description(`${name} a HUMAN task of the run. Embedded store: recorded, and the run moved on here unless a serve, ui or run process drives it. Over NATS: recorded at once when no engine runs and the name is not proven (a server without users, no credentials), else published for the engines (queued until one, or \`resume\`, takes it)`)
      .option(...asOption).option('--comment <text>').option('--handlers <module>', 'embedded store: handler module to move the run on with (default: the one the run recorded)')
      .option(...outputRoot).option(...commandOutputLimitOption)
      .option(...waitOption).option('--json', 'print { runId, task, decision, by, unauthenticated, recorded, queued, changed, seq, status }')
      .action(act(async (runId: string, taskId: string, o) => (await inputs()).inputCmd(io, g(), runId, { kind: 'approval', taskId, decision, ...(o.comment !== undefined ? { comment: o.comment } : {}) }, o)));
  }
  p.command('signal').argument('<runId>', 'run id', runIdArg).argument('<name>', "the signal's name: what a WAIT's event: waits for")
    .description('send a signal to a run: its WAITs on that name complete with the data as output (one not reached yet keeps it). Refused, recording nothing, when no WAIT would take it. Taken as approve is (embedded: the run moved on here; NATS: recorded at once or published)')
    .option('--data <json>', "the signal's data (JSON, at most 64 KB): the WAIT's output").option(...asOption)
    .option('--handlers <module>', 'embedded store: handler module to move the run on with (default: the one the run recorded)')
    .option(...outputRoot).option(...commandOutputLimitOption).option(...waitOption).option('--json', 'print { runId, name, by, unauthenticated, recorded, queued, changed, seq, status }')
    .action(act(async (runId: string, name: string, o) => { const m = await inputs(); return m.inputCmd(io, g(), runId, m.signalInput(name, o.data), o); }));
  p.command('pause').argument('<runId>', 'run id', runIdArg)
    .description('pause a run: running attempts finish and are recorded, no new one starts until `resume`. Refused (exit 2, nothing recorded) when settled or already paused. Over NATS, taken as approve is (published on lf.control.<user>.<runId>)')
    .option('--reason <text>').option(...asOption).option(...waitOption).option('--json', 'print { runId, action, by, unauthenticated, recorded, queued, changed, seq, status }')
    .action(act(async (runId: string, o) => (await inputs()).inputCmd(io, g(), runId, { kind: 'control', action: 'pause', ...(o.reason !== undefined ? { reason: o.reason } : {}) }, o)));
  p.command('cancel').argument('<runId>', 'run id', runIdArg)
    .description('cancel a run: its attempts are aborted, the child runs of its sub-workflows cancelled. Over NATS, taken as approve is (published on lf.control.<user>.<runId> when an engine runs, which records it and acts on it)')
    .option('--reason <text>').option(...asOption).option(...waitOption).option('--json', 'print { runId, action, by, unauthenticated, recorded, queued, changed, seq, status }')
    .action(act(async (runId: string, o) => (await inputs()).inputCmd(io, g(), runId, { kind: 'control', action: 'cancel', ...(o.reason !== undefined ? { reason: o.reason } : {}) }, o)));
  p.command('serve').description('the embedded store\'s engine, until SIGTERM/SIGINT: drives every unsettled run nobody else drives (timers on time, approvals and signals as they land, runs whose process died), one per store (a second stands by)')
    .option('--handlers <module>', 'handler module for every run (default: each run\'s recorded `handlers:` module)')
    .option('--grace <duration>', 'on SIGTERM/SIGINT, how long attempts in flight get to finish (default 10s)')
    .option(...outputRoot).option('--json', 'print each notice (run picked up, taken over, settled; standby, stopping) as a JSON line on stdout')
    .option('--definitions <dir>', 'the definitions whose schedule triggers fire (default: ./definitions, else the bundled ones); re-read when a file changes')
    .option('--no-schedules', 'fire no schedules (only drive runs)')
    .option(...commandOutputLimitOption).option(...notifications)
    .option(...metricsPortOption).option(...metricsHostOption)
    .action(act(async (o) => (await import('./serve.js')).serveCmd(io, g(), o)));
  p.command('ui').description('the web dashboard: runs, definitions, schedules, metrics; approve, signal, cancel, pause, resume, retry, start and emit from a browser. Embedded store: also drives the runs (as serve), binds 127.0.0.1 and prints the URL with its access token; NATS: people sign in with their NATS user')
    .option('--port <port>', 'port to listen on (0: any free port)', '8080').option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--handlers <module>', 'embedded store: handler module for every run driven here (default: each run\'s recorded module)')
    .option('--definitions <dir>', 'workflows to show, start and fire schedules of (default: ./definitions, else the bundled ones)')
    .option(...outputRoot).option(...commandOutputLimitOption).option(...notifications)
    .option('--users <file>', 'embedded store: named users with their own tokens (YAML/JSON: users: [{ name, token | token_sha256 }]); actions are recorded as the signed-in user, and the shared token and the free `as` name are gone')
    .option('--allowed-host <name>', 'a Host / Origin name to answer besides the listening address (a proxy\'s: name or name:port); repeatable', (v: string, acc: string[] = []) => [...acc, v])
    .option('--json', 'print { url, token, port, mode, identity } as one JSON line on stdout once listening')
    .action(act(async (o) => (await import('./ui.js')).uiCmd(io, g(), o)));
  p.command('dev').description('start a local nats-server from nats-dev.conf (DEVELOPMENT ONLY: no credentials = the engine user), store under .ledgerflow/nats/ (or a cluster: --cluster 3); prints the URL to use')
    .option('--port <port>', 'client port (of the first node with --cluster; the others take the next ones)', '4222').option('--store-dir <dir>', 'JetStream store directory (default .ledgerflow/nats, or .ledgerflow/cluster with --cluster)')
    .option('--config <file>', 'nats-server config (default nats-dev.conf, or nats-cluster-dev.conf with --cluster; nats.conf / nats-cluster.conf refuse connections without credentials)')
    .option('--cluster <nodes>', 'start a cluster of this many nodes (3 to 9) from nats-cluster-dev.conf')
    .option('--json', 'once ready, print the servers and the --nats value as JSON')
    .action(act(async (o) => (await import('./dev.js')).devCmd(io, o)));
  p.command('emit').argument('<eventType>').description('send an event: start each workflow whose trigger matches it, once per event id')
    .option('--data <json>', 'the payload, a JSON object').option('--sample', "the payload is the sample: of the event type's file (events/<type>.yaml)").option('--id <eventId>', 'unique event id (default: a new uuid)')
    .option('--time <iso>', 'when it happened (default: now)').option('--source <name>', 'who sent it')
    .option('--definitions <dir>', 'workflows (default: definitions/ here, else the bundled ones)')
    .option('--events <dir>', 'event type schemas (default: events/ here, else the bundled ones)')
    .option('--max-wait <duration>', 'wait in-process for timers due within this long (default 5m)').option(...outputRoot).option(...commandOutputLimitOption)
    .option(...notifications)
    .option('--wait <duration>', "over NATS: how long to wait for the engines' verdict (default 10s; 0: don't wait)").option('--json', 'print { event, runs } as JSON')
    .action(act(async (type: string, o) => usesNats(g())
      ? (await import('./cluster.js')).publishEventCmd(io, g(), type, o)
      : (await import('./emit.js')).emitCmd(io, g(), type, o)));
  p.command('schedules').description('every schedule trigger: its next fire times (UTC and its zone) and the last slot fired with its run (embedded: definitions/ and <store>/schedules.json; NATS: the deployed ones)')
    .option('--count <n>', 'next fire times to show per schedule (default 3)')
    .option('--definitions <dir>', 'embedded: workflows (default: definitions/ here, else the bundled ones)').option('--json')
    .action(act(async (o) => (await import('./schedules.js')).schedulesCmd(io, g(), o)));
  p.command('paths').argument('<file>').description('the paths through a definition (each decision case, retry, failure, timeout, approval, skip) and the coverage they reach')
    .option('--json', 'print { paths, coverage, uncovered, tasks, excluded }')
    .action(act(async (file: string, o) => (await import('./coverage.js')).pathsCmd(io, file, o)));
  p.command('test').argument('<file...>').description('run every path, and the expectations in expectations/<file> beside each definition, against the runtime (scripted handlers, virtual time)')
    .option('--json', 'print the results as JSON')
    .action(act(async (files: string[], o) => (await import('./coverage.js')).testCmd(io, files, o)));
  p.command('demo').description('the tour (npm start): in a fresh embedded store, emit the sample revenue, lead and compliance events, run the batch validation over the sample folders, approve the pending approval as cfo, print each run\'s trail and output')
    .option('--json', 'print the summary (runs, statuses, approvals, per-folder results, files, store) as JSON on stdout; progress goes to stderr')
    .action(act(async (o) => (await import('./demo.js')).demoCmd(io, g(), o)));
  p.command('templates').description('the template library: each bundled workflow, what it does and the command that runs it')
    .option('--json', 'print the catalogue entries as JSON')
    .action(act(async (o) => (await import('./templates.js')).templatesCmd(io, o)));
  p.command('new').argument('<template>', 'a template id (see `ledgerflow templates`)')
    .description('copy a template (definition, sub-workflows, handlers, samples, events, expectations) into a directory, renamed with --id; refuses (exit 2, nothing written) a file that exists')
    .option('--id <workflowId>', "the copy's workflow id (its files are named after it)").option('--dir <dir>', 'where to copy it (default: the current directory)').option('--json')
    .action(act(async (template: string, o) => (await import('./templates.js')).newCmd(io, template, o)));
  p.command('doctor').description("every stream and KV bucket ledgerflow keeps on NATS: replicas, leader, health; warns where they differ from LEDGERFLOW_NATS_REPLICAS")
    .option('--json', 'print { server, expectedReplicas, streams, missing, warnings }')
    .action(act(async (o) => (await import('./cluster.js')).doctorCmd(io, g(), o)));
  const dlq = p.command('dlq').description('what engines and workers gave up on (stream LF_DLQ, over NATS): list, show, replay, purge');
  const dlqCmd = async () => import('./dlq.js');
  dlq.command('list').description('every dead letter, oldest first: sequence, kind, when, whether replayable, size, where it came from, reason')
    .option('--kind <kind>', 'only this kind: inputs, timers, approvals, triggers, tasks, signals, control, notifications').option('--json', 'print the entries as JSON')
    .action(act(async (o) => (await dlqCmd()).dlqListCmd(io, g(), o)));
  dlq.command('show').argument('<seq>', "the dead letter's sequence (from dlq list)").description('one dead letter in full: reason, reference to the message, kept body or excerpt')
    .option('--json').action(act(async (seq: string, o) => (await dlqCmd()).dlqShowCmd(io, g(), seq, o)));
  dlq.command('replay').argument('[seq]', "the dead letter's sequence").description('publish the kept body again on its original subject, then delete the dead letter (refused, exit 2, when the body was not kept)')
    .option('--all', 'every replayable dead letter (the others are named and kept; exit 2 if any)').option('--kind <kind>', 'with --all: only this kind').option('--json')
    .action(act(async (seq: string | undefined, o) => (await dlqCmd()).dlqReplayCmd(io, g(), seq, o)));
  dlq.command('purge').description('delete dead letters (all, or of one kind); without --yes nothing is deleted (exit 2, with the count)')
    .option('--kind <kind>').option('--yes', 'really delete').option('--json')
    .action(act(async (o) => (await dlqCmd()).dlqPurgeCmd(io, g(), o)));
  p.command('deploy').argument('<file...>').description('store validated definitions where every engine finds them (versioned, content-addressed)')
    .option('--json').action(act(async (files: string[], o) => (await import('./cluster.js')).deployCmd(io, g(), files, o)));
  p.command('start').argument('<workflow>', '<workflowId> or <workflowId>@<version>').argument('[inputs...]', 'workflow inputs as --<name> <value>')
    .description('record the start of a run of a deployed workflow and print its id at once')
    .option('--input-file <file>').option('--json').allowUnknownOption().allowExcessArguments()
    .action(act(async (ref: string, tail: string[], o, c: Command) => (await import('./cluster.js')).startCmd(io, g(), ref, tail, o, optionSpecs(c), () => helpOf(c))));
  p.command('wait').argument('<runId>', 'run id', runIdArg).description('block until the run settles (exit codes as run)')
    .option('--timeout <duration>').option('--or-waiting', 'also return when the run waits for a person or is paused (exit 3)').option('--json')
    .action(act(async (runId: string, o) => (await import('./cluster.js')).waitCmd(io, g(), runId, o)));
  p.command('watch').argument('[runId]', 'run id', runIdArg)
    .description('a live view of runs in the terminal: per task a status glyph, progress, attempts, elapsed time, and the last events; redrawn on a terminal, one plain line per event when stdout is not one; exits when every watched run settles (exit codes as wait; 130 on Ctrl-C)')
    .option('--workflow <id>', 'the active runs of this workflow, and those that start while watching').option('--all', 'every active run, and those that start while watching')
    .option('--or-waiting', 'also end when the runs wait for a person or a signal, or are paused (exit 3)')
    .option('--keep-open', 'with --workflow/--all: keep watching for new runs after the watched ones settled, until Ctrl-C')
    .option('--tail <n>', 'events shown per run (default 5; plain and JSON output: the recorded ones printed when a run is picked up)')
    .option('--no-color', 'a frame without colours (NO_COLOR=1 does the same)').option('--json', 'one JSON line per event instead of a frame')
    .action(act(async (runId: string | undefined, o) => (await import('./watch.js')).watchCmd(io, g(), runId, o)));
  p.command('engine').description('take runtime inputs, timers, approvals, signals, run control and trigger events from NATS until stopped')
    .option('--handlers <module>', 'also run these task handlers in this process').option('--commands', 'also run COMMAND tasks in this process').option(...commandOutputLimitOption)
    .option('--queue <queue>', 'task queue for --handlers and --commands')
    .option('--events <dir>', 'event type schemas for triggers').option('--concurrency <n>')
    .option('--snapshot-every <n>', 'snapshot a run in the KV bucket each time its log grows by this many events (default 1000; 0: none)')
    .option('--no-schedules', 'fire no schedule triggers from this engine (by default every engine fires them, each slot once across engines)')
    .option(...outputRoot).option(...notifications)
    .option(...metricsPortOption).option(...metricsHostOption)
    .action(act(async (o) => (await import('./cluster.js')).engineCmd(io, g(), o)));
  p.command('worker').description('run task attempts from the NATS work queue with a handler module (and, with --commands, COMMAND tasks) until stopped')
    .option('--handlers <module>', 'handler module (.ts, .js, .mjs)').option('--commands', "also run COMMAND tasks' programs (attempts on lf.q.<queue>._command)")
    .option(...commandOutputLimitOption).option('--queue <queue>', 'task queue (a task\'s `queue`, default "default")').option('--concurrency <n>')
    .option('--ack-wait <duration>', 'redeliver an attempt whose worker sent no heartbeat for this long, to run it elsewhere (default 10s; set by whoever creates the queue\'s consumer first: the engines, or this worker if its NATS user may create consumers)')
    .option(...outputRoot)
    .action(act(async (o) => (await import('./cluster.js')).workerCmd(io, g(), o)));
  // A mistake in a command's arguments points at that command's own help, not the list of commands.
  for (const c of p.commands) c.showHelpAfterError(`(run \`ledgerflow ${c.name()} --help\` for usage)`);
  return p;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const wantsJson = argv.includes('--json');
  try {
    const p = program((c) => { code = c; });
    // The tail of run/start goes to the command untouched: only it can tell options from inputs (tail.ts).
    await p.parseAsync(protectTail(argv, p), { from: 'user' });
    return code;
  } catch (thrown) {
    const err = inCliTerms(thrown);
    if (err instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is bad usage.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (wantsJson && err instanceof LedgerflowError) process.stdout.write(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
    // A message may quote what a user or a run supplied: shown inert (a message listing problems keeps its lines, indented).
    io.err(`error: ${inertLines(err instanceof Error ? err.message : String(err))}`);
    if (!(err instanceof LedgerflowError) && err instanceof Error && err.stack) io.err(err.stack);
    return exitCodeForError(err);
  } finally {
    await closeStores();
  }
}

const code = await main(process.argv.slice(2));
// Exit explicitly: a handler that ignores its AbortSignal must not keep a settled run's process alive.
process.stdout.write('', () => process.exit(code));
