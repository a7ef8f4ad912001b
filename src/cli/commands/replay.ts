/** `replay`: one run, or every run (--all), rebuilt from its log and checked; optionally against a candidate definition. */
import { loadDefinitionFile } from '../../files/index.js';
import { BlobAlteredError, BlobMissingError, UsageError } from '../../errors/index.js';
import type { Divergence } from '../../runtime/index.js';
import type { CorruptRun, TornTail } from '../../store/index.js';
import type { GlobalOpts } from '../flags/store.js';
import { readWithoutKey } from '../../encryption/index.js';
import { EXIT } from '../render/exit.js';
import { engineFor } from '../drive.js';
import { statusText } from '../render/render.js';
import { json, type Io } from '../render/io.js';

const tornText = (t: TornTail) =>
  `a torn last line was cut from the log of run ${t.runId} (a write cut short by a crash); ${t.bytes} bytes of torn lines are kept in ${t.file}`;

/** Where a replay (or a candidate definition) breaks, for the replay commands' output. */
const breakText = (d: Divergence | null | undefined) => `event ${d?.seq} (${d?.type}): ${d?.reason}`;
const divergenceText = (d: Divergence) => `diverges at ${breakText(d)}`;

export interface ReplayOpts {
  to?: string;
  definition?: string;
  json?: boolean;
  all?: boolean;
  workflow?: string;
}

export async function replayCmd(io: Io, g: GlobalOpts, runId: string | undefined, opts: ReplayOpts): Promise<number> {
  if (opts.all) {
    if (runId !== undefined)
      throw new UsageError(`replay takes a run id or --all, not both (got ${runId} and --all)`, { runId });
    if (opts.to !== undefined) throw new UsageError('--to goes with one run id, not with --all', { value: opts.to });
    return replayAllCmd(io, g, opts);
  }
  if (runId === undefined) throw new UsageError('replay needs a run id, or --all for every recorded run', {});
  if (opts.workflow !== undefined)
    throw new UsageError('--workflow goes with --all: replay --all --workflow <id>', { value: opts.workflow });
  let to: number | undefined;
  if (opts.to !== undefined) {
    to = Number(opts.to);
    if (!Number.isInteger(to) || to < 1)
      throw new UsageError(`--to ${opts.to} must be an event sequence number (1 or more)`, { value: opts.to });
  }
  const candidate = opts.definition ? loadDefinitionFile(opts.definition).definition : undefined;
  const engine = engineFor(g);
  let report: Awaited<ReturnType<typeof engine.replay>>;
  try {
    report = await engine.replay(runId, {
      ...(to !== undefined ? { to } : {}),
      ...(candidate ? { candidate } : {}),
    });
  } catch (err) {
    // A body a template reads is missing or changed: the fold cannot go on, and that is replay's finding, not a crash.
    if (!(err instanceof BlobMissingError || err instanceof BlobAlteredError)) throw err;
    if (opts.json) io.out(json({ runId, payloads: { problems: [{ code: err.code, message: err.message }] } }));
    else io.out(`✗ ${err.code}: ${err.message}`);
    return EXIT.failed;
  }
  const ok = !report.divergence && (report.candidate?.compatible ?? true) && !report.payloads?.problems.length;
  if (opts.json) io.out(json(report));
  else {
    io.out(`replayed ${report.events} events of run ${runId} (to seq ${report.toSeq}): ${report.view.status}`);
    if (report.torn) io.out(`⚠ ${tornText(report.torn)}`);
    if (report.divergence) {
      const d = report.divergence;
      io.out(
        `✗ ${divergenceText(d)}${d.recorded ? `; recorded ${d.recorded.status}/${d.recorded.hash}, computed ${d.computed?.status}/${d.computed?.hash}` : ''}`,
      );
    } else if (report.sealedFrom)
      io.out(
        `✓ every event up to ${report.sealedFrom.seq - 1} leads to the state it recorded; from event ${report.sealedFrom.seq} (${report.sealedFrom.type}) on the run's course turned on sealed values, not checked without the data key`,
      );
    else io.out('✓ every event leads to the state it recorded');
    if (report.payloads) {
      const { checked, problems } = report.payloads;
      for (const p of problems) io.out(`✗ ${p.code}: ${p.message}`);
      if (problems.length === 0)
        io.out(
          `✓ ${checked === 1 ? '1 large payload matches its digest' : `${checked} large payloads match their digests`}`,
        );
    }
    if (readWithoutKey(engine.store, runId))
      io.out(
        '⚠ its values are encrypted at rest and this process has no data key: the statuses were checked, not the values (set LF_DATA_KEY, docs/security.md)',
      );
    if (report.candidate) {
      const c = report.candidate;
      io.out(
        c.compatible
          ? `✓ ${c.workflowId} v${c.version} could take over this run`
          : `✗ ${c.workflowId} v${c.version} could not take over this run: ${breakText(c.divergence)}`,
      );
    }
    io.out(statusText(report.view));
  }
  return ok ? EXIT.ok : EXIT.failed;
}

/**
 * Every recorded run replayed and checked (of one workflow with --workflow), and with --definition whether that version
 * could take over each run of its workflow. Progress goes to stderr; the problems and a summary to stdout. Exit 0 when
 * every run replays to the states it recorded (and, with --definition, could be taken over), else 1; a run whose log is
 * corrupt is reported (`corrupt` in --json) and counts as a failure too.
 */
async function replayAllCmd(io: Io, g: GlobalOpts, opts: ReplayOpts): Promise<number> {
  const candidate = opts.definition ? loadDefinitionFile(opts.definition).definition : undefined;
  if (candidate && opts.workflow !== undefined && opts.workflow !== candidate.id) {
    throw new UsageError(
      `--definition ${opts.definition} is workflow ${candidate.id}, not --workflow ${opts.workflow}: a version can only take over runs of its own workflow`,
      { value: opts.workflow },
    );
  }
  const workflowId = opts.workflow ?? candidate?.id;
  // `sealed`: runs read without the data key whose course turned on sealed values, checked up to there (keyless-view.ts).
  const totals = { runs: 0, events: 0, diverged: 0, incompatible: 0, sealed: 0 };
  // Large payloads missing or altered (replay reads each body a run refers to): said only when there are any.
  const payloadProblems: { runId: string; code: string; message: string }[] = [];
  const corrupt: CorruptRun[] = [];
  const torn: TornTail[] = [];
  const onCorrupt = (c: CorruptRun) => {
    corrupt.push(c);
    if (!opts.json) io.out(`✗ ${c.runId}: corrupt log, not replayed: ${c.file}: ${c.reason}`);
  };
  const problems: {
    runId: string;
    workflowId: string;
    version: number;
    events: number;
    divergence: unknown;
    candidate?: unknown;
  }[] = [];
  let lastProgress = Date.now();
  for await (const report of engineFor(g).replayAll({
    ...(workflowId !== undefined ? { workflowId } : {}),
    ...(candidate ? { candidate } : {}),
    onCorrupt,
  })) {
    totals.runs++;
    totals.events += report.events;
    const incompatible = report.candidate !== undefined && !report.candidate.compatible;
    if (report.divergence) totals.diverged++;
    if (report.sealedFrom) totals.sealed++;
    for (const p of report.payloads?.problems ?? []) {
      payloadProblems.push({ runId: report.runId, code: p.code, message: p.message });
      if (!opts.json) io.out(`✗ ${report.runId}: ${p.code}: ${p.message}`);
    }
    if (incompatible) totals.incompatible++;
    if (report.torn) {
      torn.push(report.torn);
      if (!opts.json) io.out(`⚠ ${report.runId}: ${tornText(report.torn)}`);
    }
    if (report.divergence || incompatible) {
      const { workflowId: wf, version } = report.view;
      problems.push({
        runId: report.runId,
        workflowId: wf,
        version,
        events: report.events,
        divergence: report.divergence,
        ...(report.candidate ? { candidate: report.candidate } : {}),
      });
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
      io.err(
        `… ${totals.runs.toLocaleString('en-US')} runs (${totals.events.toLocaleString('en-US')} events) replayed`,
      );
    }
  }
  const ok = totals.diverged === 0 && totals.incompatible === 0 && corrupt.length === 0 && payloadProblems.length === 0;
  const { sealed, ...counted } = totals;
  if (opts.json) {
    io.out(
      json({
        ...counted,
        // Only when there are such runs (a reader without the key): the report's shape is as before otherwise.
        ...(sealed > 0 ? { sealed } : {}),
        ...(workflowId !== undefined ? { workflowId } : {}),
        ...(candidate ? { candidate: { workflowId: candidate.id, version: candidate.version } } : {}),
        problems,
        corrupt,
        ...(torn.length > 0 ? { torn } : {}),
        ...(payloadProblems.length > 0 ? { payloads: payloadProblems } : {}),
      }),
    );
  } else {
    const scope = workflowId !== undefined ? ` of ${workflowId}` : '';
    io.out(
      `replayed ${totals.runs.toLocaleString('en-US')} run${totals.runs === 1 ? '' : 's'}${scope} (${totals.events.toLocaleString('en-US')} events): ${totals.diverged === 0 ? '✓ every event leads to the state it recorded' : `✗ ${totals.diverged} diverge`}${totals.sealed > 0 ? ` (${totals.sealed} read without the data key turned on sealed values: checked up to there)` : ''}`,
    );
    if (candidate) {
      io.out(
        totals.incompatible === 0
          ? `✓ ${candidate.id} v${candidate.version} could take over all ${totals.runs} of them`
          : `✗ ${candidate.id} v${candidate.version} could not take over ${totals.incompatible} of ${totals.runs}`,
      );
    }
    if (payloadProblems.length > 0)
      io.out(
        `✗ ${payloadProblems.length} large payload${payloadProblems.length === 1 ? ' is' : 's are'} missing or altered`,
      );
    if (corrupt.length > 0)
      io.out(
        `✗ ${corrupt.length} run${corrupt.length === 1 ? '' : 's'} could not be read (corrupt log) and ${corrupt.length === 1 ? 'was' : 'were'} not replayed`,
      );
  }
  return ok ? EXIT.ok : EXIT.failed;
}
