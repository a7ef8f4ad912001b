/** `run` and `resume`: a run driven here, from its definition file or from where its log stands. */
import { secretsFlag } from '../flags/secrets-flag.js';
import { requireStart, startedBy } from '../flags/acting.js';
import { bundledDefaults, loadDefinitionFile } from '../../files/index.js';
import { RunBusyError, formatDiagnostic } from '../../errors/index.js';
import { checkPriority } from '../../limits/index.js';
import { callerIdFlags } from '../flags/run-id.js';
import { deliverOwedNotifications, prepareResume, releaseResumed, unsettledFailureRun } from '../../local/index.js';
import { finishNotifications, keepLeaseFor, withNotifier } from '../../notify/index.js';
import { inert } from '../../terminal/index.js';
import { storeFor, useStore } from '../open-store.js';
import type { GlobalOpts } from '../flags/store.js';
import { EXIT, exitCodeForStatus } from '../render/exit.js';
import { gatherInputs } from '../flags/inputs.js';
import { splitTail, type OptionSpec } from '../flags/tail.js';
// in-flight.js, not the monitor's index: that also holds `watch`'s live loop (log-update, NATS discovery), which `run` never needs.
import { InFlightNotices } from '../../monitor/in-flight.js';
import { cliNotifier } from '../flags/notifications.js';
import {
  drive,
  driveFlags,
  drivingEngine,
  engineFor,
  handlersFor,
  progressHooks,
  recordedHandlers,
  taskRunners,
  type RunOpts,
} from '../drive.js';
import { needRunId, waitFlag } from '../flags/input-flags.js';
import { actingFor, sideFor, withTaskProgress } from '../runs.js';
import { json, type Io } from '../render/io.js';
import { useStateFile } from './state-file.js';

export async function runCmd(
  io: Io,
  global: GlobalOpts,
  file: string,
  tail: string[],
  given: RunOpts,
  specs: OptionSpec[],
  help: () => number,
): Promise<number> {
  const loaded = loadDefinitionFile(file);
  // The options after the file and the inputs, told apart by the definition's inputs (tail.ts).
  const split = splitTail(tail, specs, loaded.definition);
  if (split.help) return help();
  const opts: RunOpts & { id?: string; idReuse?: string; priority?: string } = { ...given, ...split.options };
  const priority = checkPriority(opts.priority, '--priority');
  // A caller-chosen id and its reuse policy, checked before anything is opened or written (exit 2).
  const idOpts = callerIdFlags(opts);
  const g: GlobalOpts = { ...global, ...split.globals };
  const flags = driveFlags(opts);
  const runners = taskRunners(opts);
  for (const w of loaded.warnings) io.err(inert(formatDiagnostic(w)));
  // A bundled definition run from another folder: its defaults that name the package's sample files, as their paths.
  const raw = { ...bundledDefaults(loaded.definition, loaded.file), ...gatherInputs(opts, split.inputs) };
  const { handlers, path } = await handlersFor(opts.handlers, loaded.handlersPath);
  // Starting a run is the bridge's (L1), or a Station OPS's (L2) for a workflow of its domains, where a users file says who is who;
  // then who started it is recorded (source.by), as an engine records a person's start over NATS.
  // Over NATS the NATS user is who starts it, and the cluster's streams are made first (as resume's do).
  const side = await sideFor(g);
  const acting = await side.acting(undefined);
  requireStart(acting, loaded.definition);
  await side.ready();
  await useStore(g); // --nats may come after the file (split.globals)
  const notices = new InFlightNotices(io.err);
  await useStateFile(g, opts, loaded.definition);
  const notifier = cliNotifier(storeFor(g), opts.notifications, opts.json ? io.err : io.out);
  const secrets = secretsFlag(opts.secrets);
  const engine = engineFor(
    g,
    withNotifier({ ...progressHooks(io, opts, notices), ...runners, ...(secrets ? { secrets } : {}) }, notifier),
  );
  // Engine.run, as the library and the bench use it: the start commit holds the first tasks' starts, and nothing is read back.
  const say = opts.json ? io.err : io.out;
  return drive(
    io,
    g,
    async (signal) => {
      const view = await engine.run(loaded.definition, raw, {
        inputFromStrings: true,
        handlers,
        source: { file: loaded.file, ...(path ? { handlers: path } : {}), ...startedBy(acting) },
        ...flags,
        signal,
        releaseOnStop: true, // Ctrl-C gives the attempts back: `resume` continues them, no loss counted
        ...keepLeaseFor(notifier),
        ...idOpts,
        ...(priority !== undefined ? { priority } : {}),
        onStarted: (runId) => say(`run ${runId} started (${loaded.definition.id} v${loaded.definition.version})`),
      });
      // Not driven here: the run that has the id stands as it is (its own process, a serve or a resume moves it).
      if (view.existing)
        say(
          `run ${view.runId} exists already (${view.workflowId} v${view.version}, ${view.status}): not started again`,
        );
      // concurrency: the limit is reached; the run waits (exit 3) until a settle, `resume` or a serve admits it.
      else if (view.status === 'QUEUED')
        say(
          `run ${view.runId} is QUEUED: ${loaded.definition.id} has ${loaded.definition.concurrency?.limit ?? 0} run(s) going (concurrency.limit); it starts when one settles (a serve, or \`ledgerflow resume ${view.runId}\` once a slot is free)`,
        );
      return view;
    },
    opts,
    notifier,
    notices,
  );
}

export async function resumeCmd(
  io: Io,
  g: GlobalOpts,
  given: string | undefined,
  opts: RunOpts & { as?: string; wait?: string; query?: string; dryRun?: boolean; yes?: boolean },
): Promise<number> {
  // With --query: every paused run the filter matches is un-paused (bulk.ts); nothing is driven here.
  if (opts.query !== undefined)
    return (await import('./run-inputs.js')).bulkQueryCmd(io, g, 'resume', [given], { ...opts, query: opts.query });
  const runId = needRunId(given, 'resume');
  const inputs = await import('./run-inputs.js');
  inputs.noBulkFlags('resume', opts);
  const flags = driveFlags(opts);
  const say = opts.json ? io.err : io.out;
  const notices = new InFlightNotices(io.err);
  // A damaged log is not driven: folded as it is, it looks like a crash and its completed work runs again.
  // Loaded here, not with `run`: the damage check reads the run index's records (zod schemas built as they load).
  await (await import('../render/damaged.js')).refuseDamaged(g, runId);
  // The run's recorded definition says where its state file is (monitoring.state_file).
  await useStateFile(g, opts, runId);
  // Over NATS what people queued for the run is taken first; a paused run is un-paused (by the engines, or here).
  const runs = await (await sideFor(g)).runs();
  const waitMs = runs.store === 'nats' ? waitFlag(opts.wait) : 0;
  const r = await runs.resume(runId, () => actingFor(g, opts.as), { waitMs, say });
  if (r.next === 'ask-engines') return inputs.inputCmd(io, g, runId, { kind: 'control', action: 'resume' }, opts);
  if (r.next === 'engines')
    say(`run ${runId} resumed; the engines continue it (\`ledgerflow wait ${runId}\`), recorded as ${r.outcome.by}`);
  if (r.next === 'queued')
    say(
      `published the resume of run ${runId} as ${r.outcome.by}${waitMs === 0 ? '' : `, but no engine answered within ${waitMs} ms`}: it waits in LF_CONTROL for an engine`,
    );
  if (r.next !== 'drive') {
    if (opts.json) {
      const view = r.next === 'queued' ? r.view : await runs.status(runId);
      io.out(json(view && (await withTaskProgress(g, view))));
    }
    return r.next === 'queued' && waitMs !== 0 ? EXIT.waiting : EXIT.ok;
  }
  if (r.resumed) say(`run ${runId} resumed (it was paused)${runs.store === 'nats' ? ` as ${r.resumed.by}` : ''}`);
  const notifier = cliNotifier(storeFor(g), opts.notifications, say);
  const engine = drivingEngine(io, g, opts, notifier, notices);
  // Un-paused, and another process (a `ledgerflow serve`) drives the run: it acts on run.resumed, which is all that was asked.
  const drivenElsewhere = async (err: unknown): Promise<number> => {
    if (!(r.resumed && err instanceof RunBusyError)) throw err;
    say(`run ${runId} is driven by pid ${String(err.meta.pid ?? '?')} (e.g. ledgerflow serve), which continues it`);
    if (opts.json) io.out(json(await withTaskProgress(g, await engine.status(runId))));
    return EXIT.ok;
  };
  // The run's lease is taken here (prepareResume), before anything says it resumes: a run another process drives is refused first.
  let run;
  try {
    run = await prepareResume(engine, runId, { owed: notifier });
  } catch (err) {
    return drivenElsewhere(err);
  }
  if (run.settled) {
    say(`run ${runId} is already ${run.settled.status}; nothing to resume`);
    const { busy } = await deliverOwedNotifications(engine, runId, {
      catchUp: (h) => notifier.catchUp(h),
      finish: () => finishNotifications(notifier, say),
    });
    if (busy) say(`its notifications are left to pid ${String(busy.meta.pid ?? '?')}, which holds the run`);
    // Its failure workflow's run, cut short by a crash, is a run of its own: say which to resume.
    const failureRun = await unsettledFailureRun(engine, run.settled);
    if (failureRun)
      say(
        `its failure workflow run ${failureRun.runId} is ${failureRun.status}: continue it with \`ledgerflow resume ${failureRun.runId}\``,
      );
    if (opts.json) io.out(json(await withTaskProgress(g, run.settled)));
    return exitCodeForStatus(run.settled.status);
  }
  const leased = run;
  try {
    const { handlers } = await recordedHandlers(opts.handlers, leased.loaded.events);
    say(
      leased.failure
        ? `run ${runId} is FAILED but its failure workflow ${leased.failure.workflow} never started: starting it (run ${leased.failure.runId})`
        : `resuming run ${runId} at event ${leased.loaded.seq}`,
    );
    const lease = leased.lease ? { heldLease: leased.lease } : {};
    return await drive(
      io,
      g,
      (signal) =>
        engine.drive(leased.loaded, {
          handlers,
          ...flags,
          signal,
          releaseOnStop: true,
          ...keepLeaseFor(notifier),
          ...lease,
        }),
      opts,
      notifier,
      notices,
    );
  } finally {
    // Its notifications delivered first: a `serve` on the store leaves a leased run's to its driver.
    await releaseResumed(leased, keepLeaseFor(notifier).beforeLeaseRelease);
  }
}
