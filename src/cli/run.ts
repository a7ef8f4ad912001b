/** `run` and `resume`: a run driven here, from its definition file or from where its log stands. */
import { loadDefinitionFile } from '../api/index.js';
import { RunBusyError, UsageError, formatDiagnostic } from '../errors/index.js';
import { checkCallerRunId, checkIdReuse } from '../executor/index.js';
import { SETTLED_STATUSES } from '../events/index.js';
import { runView } from '../runtime/index.js';
import type { Engine } from '../local/index.js';
import { finishNotifications, keepLeaseFor, withNotifier, type Notifier } from '../notify/index.js';
import { inert } from '../terminal/index.js';
import { storeFor } from './open-store.js';
import { usesNats, type GlobalOpts } from './store.js';
import { EXIT, exitCodeForStatus } from './exit.js';
import { readInputFile } from './inputs.js';
import { splitTail, type OptionSpec } from './tail.js';
import { InFlightNotices } from '../monitor/index.js';
import { refuseDamaged } from './damaged.js';
import { outputFlag } from './output-root.js';
import { commandRunnerFlag } from './command-limit.js';
import { cliNotifier } from './notifications.js';
import { drive, driveFlags, engineFor, handlersFor, progressHooks, type RunOpts } from './drive.js';
import { defaultActor } from './input-flags.js';
import { json, type Io } from './io.js';

export async function runCmd(io: Io, global: GlobalOpts, file: string, tail: string[], given: RunOpts, specs: OptionSpec[], help: () => number): Promise<number> {
  const loaded = loadDefinitionFile(file);
  // The options after the file and the inputs, told apart by the definition's inputs (tail.ts).
  const split = splitTail(tail, specs, loaded.definition);
  if (split.help) return help();
  const opts: RunOpts & { id?: string; idReuse?: string } = { ...given, ...split.options };
  // A caller-chosen id and its reuse policy, checked before anything is opened or written (exit 2).
  const idOpts = opts.id !== undefined
    ? { runId: checkCallerRunId(opts.id, '--id'), ...(opts.idReuse !== undefined ? { idReuse: checkIdReuse(opts.idReuse, '--id-reuse')! } : {}) }
    : {};
  if (opts.idReuse !== undefined && opts.id === undefined) throw new UsageError('--id-reuse needs --id <id>: it says when that id may start a new run', { option: '--id-reuse' });
  const g: GlobalOpts = { ...global, ...split.globals };
  const flags = driveFlags(opts);
  const writeOutput = outputFlag(opts.outputRoot);
  const runCommand = commandRunnerFlag(opts.commandOutputLimit);
  for (const w of loaded.warnings) io.err(inert(formatDiagnostic(w)));
  const raw = { ...(opts.inputFile ? readInputFile(opts.inputFile) : {}), ...split.inputs };
  const { handlers, path } = await handlersFor(opts.handlers, loaded.handlersPath);
  if (usesNats(g)) await (await import('./cluster.js')).prepareNats(g);
  const notices = new InFlightNotices(io.err);
  const notifier = cliNotifier(storeFor(g), opts.notifications, opts.json ? io.err : io.out);
  const engine = engineFor(g, withNotifier({ ...progressHooks(io, opts, notices), writeOutput, runCommand }, notifier));
  // Engine.run, as the library and the bench use it: the start commit holds the first tasks' starts, and nothing is read back.
  const say = opts.json ? io.err : io.out;
  return drive(io, g, async (signal) => {
    const view = await engine.run(loaded.definition, raw, {
      inputFromStrings: true, handlers, source: { file: loaded.file, ...(path ? { handlers: path } : {}) }, ...flags, signal, ...keepLeaseFor(notifier), ...idOpts,
      onStarted: (runId) => say(`run ${runId} started (${loaded.definition.id} v${loaded.definition.version})`),
    });
    // Not driven here: the run that has the id stands as it is (its own process, a serve or a resume moves it).
    if (view.existing) say(`run ${view.runId} exists already (${view.workflowId} v${view.version}, ${view.status}): not started again`);
    return view;
  }, opts, notifier, notices);
}

export async function resumeCmd(io: Io, g: GlobalOpts, runId: string, opts: RunOpts & { as?: string; wait?: string }): Promise<number> {
  const flags = driveFlags(opts);
  // Over NATS: what people queued for the run is taken first; a paused run is resumed (by the engines, or here).
  if (usesNats(g)) {
    const code = await (await import('./resume-nats.js')).resumeOverNats(io, g, runId, opts);
    if (code !== null) return code;
  }
  const notices = new InFlightNotices(io.err);
  // A damaged log is not driven: folded as it is, it looks like a crash and its completed work runs again.
  await refuseDamaged(g, runId);
  const notifier = cliNotifier(storeFor(g), opts.notifications, opts.json ? io.err : io.out);
  const engine = engineFor(g, withNotifier({ ...progressHooks(io, opts, notices), writeOutput: outputFlag(opts.outputRoot), runCommand: commandRunnerFlag(opts.commandOutputLimit) }, notifier));
  // A paused run is un-paused first (run.resumed), then continued as any other.
  let unpaused = false;
  if (!usesNats(g)) {
    const { changed } = await engine.unpause(runId, { by: opts.as ?? defaultActor() });
    if (changed) (opts.json ? io.err : io.out)(`run ${runId} resumed (it was paused)`);
    unpaused = changed;
  }
  // Read and folded once: the same state decides whether there is anything to do and is what gets driven.
  const loaded = await engine.load(runId);
  const first = loaded.events[0]!;
  // A failed run whose process died before it started its failure workflow: resume starts that (once, by its run id).
  const failure = loaded.snapshot.status !== 'active' ? await engine.pendingFailureRun(loaded) : null;
  if (loaded.snapshot.status !== 'active' && !failure) {
    const view = runView(loaded.snapshot, loaded.seq, loaded.compiled.definition);
    (opts.json ? io.err : io.out)(`run ${runId} is already ${view.status}; nothing to resume`);
    await owedUnderLease(engine, notifier, runId, opts.json ? io.err : io.out);
    // Its failure workflow's run, cut short by a crash, is a run of its own: say which to resume.
    const failureRun = view.status === 'FAILED' ? (await engine.status(runId)).failureRun : undefined;
    const unsettled = failureRun ? await engine.status(failureRun) : undefined;
    if (unsettled && !SETTLED_STATUSES.includes(unsettled.status)) {
      (opts.json ? io.err : io.out)(`its failure workflow run ${failureRun} is ${unsettled.status}: continue it with \`ledgerflow resume ${failureRun}\``);
    }
    if (opts.json) io.out(json(view));
    return exitCodeForStatus(view.status);
  }
  // Notifications its history does not note as delivered (the process before died first) are delivered now.
  notifier.catchUp(loaded.events);
  if (usesNats(g)) await (await import('./cluster.js')).prepareNats(g);
  const recorded = first.type === 'run.started' ? first.data.source?.handlers : undefined;
  const { handlers } = await handlersFor(opts.handlers, recorded);
  (opts.json ? io.err : io.out)(failure
    ? `run ${runId} is FAILED but its failure workflow ${failure.workflow} never started: starting it (run ${failure.runId})`
    : `resuming run ${runId} at event ${loaded.seq}`);
  try {
    return await drive(io, g, (signal) => engine.drive(loaded, { handlers, ...flags, signal, ...keepLeaseFor(notifier) }), opts, notifier, notices);
  } catch (err) {
    // Un-paused, and another process (a `ledgerflow serve`) drives the run: it acts on run.resumed, which is all that was asked.
    if (!(unpaused && err instanceof RunBusyError)) throw err;
    (opts.json ? io.err : io.out)(`run ${runId} is driven by pid ${String(err.meta.pid ?? '?')} (e.g. ledgerflow serve), which continues it`);
    if (opts.json) io.out(json(await engine.status(runId)));
    return EXIT.ok;
  }
}

/**
 * A settled run's notifications its history does not note as delivered (its
 * driver died first), delivered under the run's lease where the store has
 * one: a `serve` on the store leaves them to this process meanwhile. A run
 * another live process holds is left to it (it delivers them).
 */
async function owedUnderLease(engine: Engine, notifier: Notifier, runId: string, say: (line: string) => void): Promise<void> {
  let lease;
  try {
    lease = await engine.store.leaseRun?.(runId);
  } catch (err) {
    if (!(err instanceof RunBusyError)) throw err;
    say(`its notifications are left to pid ${String(err.meta.pid ?? '?')}, which holds the run`);
    return;
  }
  try {
    // Read again under the lease: a driver before may have noted deliveries since.
    notifier.catchUp(await engine.events(runId));
    await finishNotifications(notifier, say);
  } finally {
    await lease?.release();
  }
}
