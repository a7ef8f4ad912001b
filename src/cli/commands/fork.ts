/**
 * `ledgerflow fork <runId> --at <taskId|seq> [--definition <file>] [inputs…]` (docs/runs.md#forking-a-run): a new
 * run whose history is the original's up to the point, its inputs changed as given, recorded by the run API's `fork`
 * (authority judged there: L1). On the embedded store the new run is then driven here until it settles or waits, as
 * `retry` drives (`--detach`: recorded only, left to `serve`); over NATS the engines drive it. `--reset` also cancels
 * the original. `--json`: `{runId, from, status}` on both stores (`status` where this process may read the run;
 * `queued`/`request` for a request no engine took yet, `cancelled` with --reset).
 */
import { UsageError } from '../../errors/index.js';
import { loadDefinitionFile } from '../../files/index.js';
import type { Definition } from '../../definition/index.js';
import type { EventEnvelope } from '../../events/index.js';
import { latestWorkflow, type Handlers } from '../../runtime/index.js';
import type { Forked, ForkRequest } from '../../runs/index.js';
import { keepLeaseFor } from '../../notify/index.js';
import { InFlightNotices } from '../../monitor/index.js';
import { drive, driveFlags, drivingEngine, handlersFor, recordedHandlers, type RunOpts } from '../drive.js';
import { cliNotifier } from '../flags/notifications.js';
import { gatherInputs } from '../flags/inputs.js';
import { waitFlag } from '../flags/input-flags.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';
import { splitTail, type OptionSpec } from '../flags/tail.js';
import { storeFor } from '../open-store.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { actingFor, runsFor } from '../runs.js';

type ForkOpts = RunOpts & {
  at?: string;
  definition?: string;
  reset?: boolean;
  detach?: boolean;
  as?: string;
  wait?: string;
  inputFile?: string;
  input?: string;
};

export async function forkCmd(
  io: Io,
  global: GlobalOpts,
  runId: string,
  tail: string[],
  given: ForkOpts,
  specs: OptionSpec[],
  help: () => number,
): Promise<number> {
  // Where to connect and which definition, read before the inputs are known (partially: tail.ts); the inputs once it is.
  const first = splitTail(tail, specs, null, true);
  if (first.help) return help();
  const g: GlobalOpts = { ...global, ...first.globals };
  const nats = usesNats(g);
  const pre: ForkOpts = { ...given, ...first.options };
  if (pre.at === undefined)
    throw new UsageError('fork needs --at <taskId|seq>: the task to run again, or the event to branch off after', {
      option: '--at',
    });
  if (nats && (pre.detach || pre.handlers !== undefined))
    throw new UsageError('--detach and --handlers go with the embedded store: over NATS the engines drive the fork', {
      option: pre.detach ? '--detach' : '--handlers',
    });
  const runs = await runsFor(g);
  // The definition the inputs are read against: the one named, else the original's as its log has it now.
  const file = pre.definition !== undefined && !nats ? loadDefinitionFile(pre.definition) : null;
  let definition: Definition | null = file?.definition ?? null;
  if (pre.definition !== undefined && nats) definition = await runs.resolve!(pre.definition);
  const events = pre.definition === undefined ? await runs.history(runId).catch(() => []) : [];
  if (pre.definition === undefined) definition = events.length > 0 ? latestWorkflow(events).definition : null;
  const split = splitTail(tail, specs, definition);
  const opts: ForkOpts = { ...given, ...split.options };
  // Driven here: the handlers and how to drive, read before the fork is recorded, so that a module that cannot be
  // loaded, or lacks a task the fork will run, refuses it with nothing written (as `retry` and `run` refuse).
  const driving = nats || opts.detach ? null : await drivingHere(io, g, opts, file?.handlersPath, events);
  const req: ForkRequest = {
    at: opts.at!,
    input: gatherInputs(opts, split.inputs),
    inputFromStrings: true,
    ...(nats && opts.definition !== undefined ? { definition: opts.definition } : {}),
    ...(file
      ? {
          definition: file.definition,
          source: { file: file.file, ...(file.handlersPath ? { handlers: file.handlersPath } : {}) },
        }
      : {}),
    ...(opts.reset ? { reset: true } : {}),
    ...(driving ? { handlers: driving.handlers } : {}),
  };
  const forked = await runs.fork(runId, req, await actingFor(g, opts.as), { waitMs: nats ? waitFlag(opts.wait) : 0 });
  const said = (status?: string) => ({
    runId: forked.runId,
    from: runId,
    ...(status ? { status } : {}),
    ...(forked.queued ? { queued: true, request: forked.request } : {}),
    ...(forked.cancelled ? { cancelled: forked.cancelled.changed } : {}),
  });
  const say = opts.json ? io.err : io.out;
  say(`run ${forked.runId} ${forked.queued ? 'requested' : 'started'}: fork of run ${runId} at ${opts.at}`);
  if (forked.cancelled) say(cancelLine(runId, forked));
  if (!nats) {
    const reused = (await runs.status(forked.runId))?.forkOf?.reused ?? [];
    say(reused.length > 0 ? `reused the outputs of ${reused.join(', ')} (not run again)` : 'reused no output');
  }
  if (!driving) {
    // A person's NATS user may not read the log: the status is said where this process can read it.
    const view = forked.queued ? null : await runs.status(forked.runId).catch(() => null);
    if (opts.json) io.out(json(said(view?.status)));
    else if (!nats)
      io.out(`  recorded, not driven here: \`ledgerflow serve\` runs it (or \`ledgerflow resume ${forked.runId}\`)`);
    return forked.queued ? EXIT.waiting : EXIT.ok;
  }
  return driveFork(io, g, forked.runId, opts, driving, (status) => io.out(json(said(status))));
}

function cancelLine(runId: string, forked: Forked): string {
  return forked.cancelled?.changed
    ? `run ${runId} cancelled (--reset)`
    : `run ${runId} not cancelled (--reset): it had settled already`;
}

/** What driving the fork here takes, made before it is recorded: every flag checked, the handler module loaded. */
interface Driving {
  handlers: Handlers;
  flags: ReturnType<typeof driveFlags>;
  notifier: ReturnType<typeof cliNotifier>;
  notices: InFlightNotices;
  engine: ReturnType<typeof drivingEngine>;
}

/**
 * `--handlers`, else the module the fork will record: the one `--definition`'s file names, or the original's (the
 * events of its log: its run.started records it), as `retry` finds the failed run's.
 */
async function drivingHere(
  io: Io,
  g: GlobalOpts,
  opts: ForkOpts,
  fileHandlers: string | undefined,
  original: EventEnvelope[],
): Promise<Driving> {
  const flags = driveFlags(opts);
  const { handlers } =
    opts.definition !== undefined
      ? await handlersFor(opts.handlers, fileHandlers)
      : await recordedHandlers(opts.handlers, original);
  const notices = new InFlightNotices(io.err);
  const notifier = cliNotifier(storeFor(g), opts.notifications, opts.json ? io.err : io.out);
  return { handlers, flags, notifier, notices, engine: drivingEngine(io, g, opts, notifier, notices) };
}

/** The fork driven here, as `retry` drives its new run; with --json the one shape printed instead of the run's view. */
async function driveFork(
  io: Io,
  g: GlobalOpts,
  runId: string,
  opts: ForkOpts,
  { handlers, flags, notifier, notices, engine }: Driving,
  printJson: (status: string) => void,
): Promise<number> {
  let status = '';
  const quiet: Io = opts.json ? { ...io, out: () => undefined } : io;
  const code = await drive(
    quiet,
    g,
    async (signal) => {
      const view = await engine.drive(runId, {
        handlers,
        ...flags,
        signal,
        releaseOnStop: true,
        ...keepLeaseFor(notifier),
      });
      status = view.status;
      return view;
    },
    opts,
    notifier,
    notices,
  );
  if (opts.json) printJson(status);
  return code;
}
