/** The commands: each a thin layer over the library API. */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDefinitionFile } from '../api/index.js';
import { machineJson } from '../compiler/index.js';
import { definitionJsonSchema } from '../definition/index.js';
import { DefinitionError, RunBusyError, UsageError, formatDiagnostic } from '../errors/index.js';
import { SETTLED_STATUSES } from '../events/index.js';
import { runView, type Divergence } from '../runtime/index.js';
import { Engine } from '../local/index.js';
import { storeFor, usesNats, type GlobalOpts } from './store.js';
import type { CorruptRun, TornTail } from '../store/index.js';
import { openRunIndex, parseRunQuery, type DamagedLog, type RunRecord } from '../query/index.js';
import { EXIT, exitCodeForStatus } from './exit.js';
import { readInputFile } from './inputs.js';
import { splitTail, type OptionSpec } from './tail.js';
import { InFlightNotices } from './in-flight.js';
import { damageOf, damagedWarning, refuseDamaged } from './damaged.js';
import { outputFlag } from './output-root.js';
import { commandRunnerFlag } from './command-limit.js';
import { historyText, listText, statusText, statusYaml } from './render.js';
import { cliNotifier, finishNotifications, keepLeaseFor, withNotifier } from './notifications.js';
import type { Notifier } from '../notify/index.js';
import { inert } from '../terminal/index.js';
import { drive, driveFlags, engineFor, handlersFor, progressHooks, type RunOpts } from './drive.js';
import { defaultActor } from './input-flags.js';
import type { Io } from './io.js';

export type { GlobalOpts } from './store.js';
export type { Io } from './io.js';
export type { RunOpts } from './drive.js';

const json = (v: unknown) => JSON.stringify(v, null, 2);

export function validateCmd(io: Io, files: string[], opts: { strict?: boolean; json?: boolean }): number {
  const results = files.map((file) => {
    try {
      const loaded = loadDefinitionFile(file, { strict: opts.strict ?? false });
      return { file, valid: true, workflowId: loaded.definition.id, diagnostics: loaded.warnings };
    } catch (err) {
      if (err instanceof DefinitionError) return { file, valid: false, diagnostics: err.diagnostics };
      throw err;
    }
  });
  if (opts.json) io.out(json(results));
  else {
    for (const r of results) {
      for (const d of r.diagnostics) io.err(inert(formatDiagnostic(d)));
      io.out(`${r.valid ? '✓' : '✗'} ${r.file}${r.valid ? ` (${r.workflowId})` : ''}`);
    }
  }
  return results.every((r) => r.valid) ? EXIT.ok : EXIT.usage;
}

export function compileCmd(io: Io, files: string[], opts: { out: string; check?: boolean; json?: boolean }): number {
  const written: { file: string; machine: string; fresh: boolean }[] = [];
  for (const file of files) {
    const { definition, warnings } = loadDefinitionFile(file);
    for (const w of warnings) io.err(inert(formatDiagnostic(w)));
    const target = join(opts.out, `${definition.id}.json`);
    const text = machineJson(definition);
    const fresh = existsSync(target) && readFileSync(target, 'utf8') === text;
    if (!opts.check && !fresh) {
      mkdirSync(opts.out, { recursive: true });
      writeFileSync(target, text);
    }
    written.push({ file, machine: target, fresh });
  }
  if (opts.json) io.out(json(written));
  else for (const w of written) io.out(opts.check ? `${w.fresh ? '✓ fresh' : '✗ stale'} ${w.machine}` : `${w.fresh ? 'unchanged' : 'wrote'} ${w.machine}`);
  if (opts.check && written.some((w) => !w.fresh)) {
    io.err('machines are stale against their definitions: run `ledgerflow compile <file...>` and commit the result');
    return EXIT.failed;
  }
  return EXIT.ok;
}

export function schemaCmd(io: Io): number {
  io.out(json(definitionJsonSchema()));
  return EXIT.ok;
}

export async function runCmd(io: Io, global: GlobalOpts, file: string, tail: string[], given: RunOpts, specs: OptionSpec[], help: () => number): Promise<number> {
  const loaded = loadDefinitionFile(file);
  // The options after the file and the inputs, told apart by the definition's inputs (tail.ts).
  const split = splitTail(tail, specs, loaded.definition);
  if (split.help) return help();
  const opts: RunOpts = { ...given, ...split.options };
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
  return drive(io, g, (signal) => engine.run(loaded.definition, raw, {
    inputFromStrings: true, handlers, source: { file: loaded.file, ...(path ? { handlers: path } : {}) }, ...flags, signal, ...keepLeaseFor(notifier),
    onStarted: (runId) => (opts.json ? io.err : io.out)(`run ${runId} started (${loaded.definition.id} v${loaded.definition.version})`),
  }), opts, notifier, notices);
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

export async function statusCmd(io: Io, g: GlobalOpts, runId: string, opts: { json?: boolean; yaml?: boolean }): Promise<number> {
  const view = await engineFor(g).status(runId);
  // A log cut short shows the state of what is left: said, and exit 1, so it is not taken for a crash.
  const damaged = await damageOf(g, runId, view.seq);
  io.out(opts.json ? json(damaged ? { ...view, damaged } : view) : opts.yaml ? statusYaml(view).trimEnd() : statusText(view));
  if (damaged) io.err(damagedWarning(damaged));
  return damaged ? EXIT.failed : EXIT.ok;
}

export interface ListOpts { workflow?: string; status?: string; trigger?: string; agent?: string; since?: string; until?: string; outputContains?: string; runId?: string; limit?: string; json?: boolean }

/**
 * `list`: the run index's records (src/query), filtered by the flags (the same
 * query the HTTP API takes), oldest first. With --limit, the newest n that
 * match, still printed oldest first. A corrupt run is listed as CORRUPT (in
 * --json too) and warned about whatever the filters; the others as usual.
 */
export async function listCmd(io: Io, g: GlobalOpts, opts: ListOpts): Promise<number> {
  const { json: asJson, ...flags } = opts;
  const query = parseRunQuery(flags, 'cli', Date.now());
  const corrupt: CorruptRun[] = [];
  const damaged = new Map<string, DamagedLog>();
  // A cache that cannot be written (a disk full) is warned about and the runs listed all the same: a read never fails for it.
  const index = openRunIndex({ store: storeFor(g), onCorrupt: (c) => corrupt.push(c), onDamaged: (d) => damaged.set(d.runId, d), onWarning: (m) => io.err(`warning: ${inert(m)}`) });
  let runs: RunRecord[];
  try {
    // Newest first, as the query gives them and the dashboard shows them.
    runs = (await index.query(query)).runs;
  } finally {
    await index.close();
  }
  io.out(asJson
    ? json([
      ...runs.map(({ runId, workflowId, version, status: s, startedAt, completedAt, parent, schedule, trigger, agents, result, durationMs }) => ({
        runId, workflowId, version, status: s, startedAt, completedAt, ...(parent ? { parent } : {}), ...(schedule ? { schedule } : {}), trigger, agents, result, durationMs,
        ...(damaged.has(runId) ? { damaged: damaged.get(runId) } : {}),
      })),
      ...corrupt.map(({ runId, file, reason }) => ({ runId, status: 'CORRUPT', file, reason })),
    ])
    : listText(runs));
  for (const c of corrupt) io.err(corruptText(c));
  for (const r of runs) if (damaged.has(r.runId)) io.err(damagedWarning(damaged.get(r.runId)!));
  return EXIT.ok;
}

export async function historyCmd(io: Io, g: GlobalOpts, runId: string, opts: { json?: boolean }): Promise<number> {
  const engine = engineFor(g);
  const events = await engine.events(runId);
  const damaged = await damageOf(g, runId, events.at(-1)?.seq ?? 0);
  const code = damaged ? EXIT.failed : EXIT.ok;
  if (damaged) io.err(damagedWarning(damaged));
  if (opts.json) {
    io.out(json(events.map((e) => ({ seq: e.seq, time: e.time, type: e.type, data: e.data, state: e.state }))));
    return code;
  }
  // A failed run names the failure workflow run it started (whose own history names it back).
  const last = events.at(-1);
  const failure = last?.state.status === 'FAILED' ? (await engine.status(runId)).failureRun : undefined;
  io.out(historyText(events) + (failure ? `\n      → failure workflow run ${failure} (ledgerflow history ${failure})` : '')
    + (damaged ? `\n      ✗ the log ends here, but events up to ${damaged.recordedSeq} (${damaged.recordedStatus}) were recorded: they are lost` : ''));
  return code;
}

const tornText = (t: TornTail) => `a torn last line was cut from the log of run ${t.runId} (a write cut short by a crash); ${t.bytes} bytes of torn lines are kept in ${t.file}`;
const corruptText = (c: CorruptRun) => `warning: run ${c.runId} is corrupt and was left out: ${c.file}: ${c.reason}`;

/** Where a replay (or a candidate definition) breaks, for the replay commands' output. */
const breakText = (d: Divergence | null | undefined) => `event ${d?.seq} (${d?.type}): ${d?.reason}`;
const divergenceText = (d: Divergence) => `diverges at ${breakText(d)}`;

export interface ReplayOpts { to?: string; definition?: string; json?: boolean; all?: boolean; workflow?: string }

export async function replayCmd(io: Io, g: GlobalOpts, runId: string | undefined, opts: ReplayOpts): Promise<number> {
  if (opts.all) {
    if (runId !== undefined) throw new UsageError(`replay takes a run id or --all, not both (got ${runId} and --all)`, { runId });
    if (opts.to !== undefined) throw new UsageError('--to goes with one run id, not with --all', { value: opts.to });
    return replayAllCmd(io, g, opts);
  }
  if (runId === undefined) throw new UsageError('replay needs a run id, or --all for every recorded run', {});
  if (opts.workflow !== undefined) throw new UsageError('--workflow goes with --all: replay --all --workflow <id>', { value: opts.workflow });
  let to: number | undefined;
  if (opts.to !== undefined) {
    to = Number(opts.to);
    if (!Number.isInteger(to) || to < 1) throw new UsageError(`--to ${opts.to} must be an event sequence number (1 or more)`, { value: opts.to });
  }
  const candidate = opts.definition ? loadDefinitionFile(opts.definition).definition : undefined;
  const report = await engineFor(g).replay(runId, { ...(to !== undefined ? { to } : {}), ...(candidate ? { candidate } : {}) });
  const ok = !report.divergence && (report.candidate?.compatible ?? true);
  if (opts.json) io.out(json(report));
  else {
    io.out(`replayed ${report.events} events of run ${runId} (to seq ${report.toSeq}): ${report.view.status}`);
    if (report.torn) io.out(`⚠ ${tornText(report.torn)}`);
    if (report.divergence) {
      const d = report.divergence;
      io.out(`✗ ${divergenceText(d)}${d.recorded ? `; recorded ${d.recorded.status}/${d.recorded.hash}, computed ${d.computed?.status}/${d.computed?.hash}` : ''}`);
    } else io.out('✓ every event leads to the state it recorded');
    if (report.candidate) {
      const c = report.candidate;
      io.out(c.compatible
        ? `✓ ${c.workflowId} v${c.version} could take over this run`
        : `✗ ${c.workflowId} v${c.version} could not take over this run: ${breakText(c.divergence)}`);
    }
    io.out(statusText(report.view));
  }
  return ok ? EXIT.ok : EXIT.failed;
}

/**
 * Every recorded run replayed and checked (of one workflow with --workflow),
 * and with --definition whether that version could take over each run of its
 * workflow. Progress goes to stderr; the problems and a summary to stdout.
 * Exit 0 when every run replays to the states it recorded (and, with
 * --definition, could be taken over), else 1; a run whose log is corrupt is
 * reported (`corrupt` in --json) and counts as a failure too.
 */
async function replayAllCmd(io: Io, g: GlobalOpts, opts: ReplayOpts): Promise<number> {
  const candidate = opts.definition ? loadDefinitionFile(opts.definition).definition : undefined;
  if (candidate && opts.workflow !== undefined && opts.workflow !== candidate.id) {
    throw new UsageError(`--definition ${opts.definition} is workflow ${candidate.id}, not --workflow ${opts.workflow}: a version can only take over runs of its own workflow`, { value: opts.workflow });
  }
  const workflowId = opts.workflow ?? candidate?.id;
  const totals = { runs: 0, events: 0, diverged: 0, incompatible: 0 };
  const corrupt: CorruptRun[] = [];
  const torn: TornTail[] = [];
  const onCorrupt = (c: CorruptRun) => {
    corrupt.push(c);
    if (!opts.json) io.out(`✗ ${c.runId}: corrupt log, not replayed: ${c.file}: ${c.reason}`);
  };
  const problems: { runId: string; workflowId: string; version: number; events: number; divergence: unknown; candidate?: unknown }[] = [];
  let lastProgress = Date.now();
  for await (const report of engineFor(g).replayAll({ ...(workflowId !== undefined ? { workflowId } : {}), ...(candidate ? { candidate } : {}), onCorrupt })) {
    totals.runs++;
    totals.events += report.events;
    const incompatible = report.candidate !== undefined && !report.candidate.compatible;
    if (report.divergence) totals.diverged++;
    if (incompatible) totals.incompatible++;
    if (report.torn) {
      torn.push(report.torn);
      if (!opts.json) io.out(`⚠ ${report.runId}: ${tornText(report.torn)}`);
    }
    if (report.divergence || incompatible) {
      const { workflowId: wf, version } = report.view;
      problems.push({ runId: report.runId, workflowId: wf, version, events: report.events, divergence: report.divergence, ...(report.candidate ? { candidate: report.candidate } : {}) });
      if (!opts.json) {
        if (report.divergence) {
          const d = report.divergence;
          io.out(`✗ ${report.runId} (${wf} v${version}): ${divergenceText(d)}`);
        }
        if (incompatible) {
          const c = report.candidate!;
          io.out(`✗ ${report.runId}: ${c.workflowId} v${c.version} could not take over: ${breakText(c.divergence)}`);
        }
      }
    }
    if (Date.now() - lastProgress >= 1000) {
      lastProgress = Date.now();
      io.err(`… ${totals.runs.toLocaleString('en-US')} runs (${totals.events.toLocaleString('en-US')} events) replayed`);
    }
  }
  const ok = totals.diverged === 0 && totals.incompatible === 0 && corrupt.length === 0;
  if (opts.json) {
    io.out(json({ ...totals, ...(workflowId !== undefined ? { workflowId } : {}), ...(candidate ? { candidate: { workflowId: candidate.id, version: candidate.version } } : {}), problems, corrupt, ...(torn.length > 0 ? { torn } : {}) }));
  } else {
    const scope = workflowId !== undefined ? ` of ${workflowId}` : '';
    io.out(`replayed ${totals.runs.toLocaleString('en-US')} run${totals.runs === 1 ? '' : 's'}${scope} (${totals.events.toLocaleString('en-US')} events): ${totals.diverged === 0 ? '✓ every event leads to the state it recorded' : `✗ ${totals.diverged} diverge`}`);
    if (candidate) {
      io.out(totals.incompatible === 0
        ? `✓ ${candidate.id} v${candidate.version} could take over all ${totals.runs} of them`
        : `✗ ${candidate.id} v${candidate.version} could not take over ${totals.incompatible} of ${totals.runs}`);
    }
    if (corrupt.length > 0) io.out(`✗ ${corrupt.length} run${corrupt.length === 1 ? '' : 's'} could not be read (corrupt log) and ${corrupt.length === 1 ? 'was' : 'were'} not replayed`);
  }
  return ok ? EXIT.ok : EXIT.failed;
}

