/** `status`, `list`, `history` and `wait`: what the log and the run index say, printed. */
import { UsageError } from '../../errors/index.js';
import type { CorruptRun, EventStore } from '../../store/index.js';
import { childRunId } from '../../compiler/index.js';
import type { EventEnvelope } from '../../events/index.js';
import { shownChildRunId } from '../../executor/index.js';
import { MAX_LIMIT, parseRunQuery, type DamagedLog, type RunRecord } from '../../query/index.js';
import { inert } from '../../terminal/index.js';
import { natsUrlOf, type GlobalOpts } from '../flags/store.js';
import { EXIT, exitCodeForStatus } from '../render/exit.js';
import { optionalDurationFlag } from '../flags/duration-flag.js';
import { SETTLED_STATUSES } from '../../events/index.js';
import { runsFor, sideFor, withTaskProgress } from '../runs.js';
import { damageCheck, damagedWarning, journalDamage } from '../render/damaged.js';
import { engineFor } from '../drive.js';
import type { RunView } from '../../runtime/index.js';
import { corruptText, indexProgressText, listText } from '../render/list.js';
import { childRunTasks, historyText, tasksOf } from '../render/history.js';
import { statusText, statusYaml } from '../render/render.js';
import { waitingHints } from '../render/progress.js';
import { json, type Io } from '../render/io.js';
import { archivedListText, archivedPeriodOf, archivedRunCount, archivedStatusText } from '../render/archived.js';

export async function statusCmd(
  io: Io,
  g: GlobalOpts,
  runId: string,
  opts: { json?: boolean; yaml?: boolean },
): Promise<number> {
  const engine = engineFor(g);
  const loaded = await engine.load(runId);
  const side = await sideFor(g);
  // Each task's progress (docs/handlers.md#progress): live while its attempt runs, else what its outcome kept.
  const view = await (await side.runs()).withProgress(
    await side.unserved(loaded.compiled.definition, await engine.commits.statusOf(loaded)),
    { events: loaded.events },
  );
  // A log cut short shows the state of what is left: said, and exit 1, so it is not taken for a crash.
  const damaged = await damageCheck(g)(runId, view.seq);
  // Its status is DAMAGED, not the state of what is left (RUNNING, to be taken up again): nothing drives it.
  const shown = damaged ? { ...view, status: 'DAMAGED' as RunView['status'] } : view;
  // Read from the archive as from the live log, which left a person wondering why `list` does not show it. Only a
  // settled run can be archived: a live one costs no archive read. Text only: --json and --yaml keep one shape.
  const human = !opts.json && !opts.yaml;
  const archivedIn = human && SETTLED_STATUSES.includes(view.status) ? await archivedPeriodOf(g, runId) : null;
  io.out(
    opts.json
      ? json(damaged ? { ...shown, damaged } : view)
      : opts.yaml
        ? statusYaml(shown).trimEnd()
        : statusText(shown, Date.now(), archivedIn !== null ? { archived: archivedStatusText(runId, archivedIn) } : {}),
  );
  if (damaged) io.err(damagedWarning(damaged));
  return damaged ? EXIT.failed : EXIT.ok;
}

export interface ListOpts {
  workflow?: string;
  status?: string;
  trigger?: string;
  agent?: string;
  since?: string;
  until?: string;
  outputContains?: string;
  runId?: string;
  where?: string[];
  limit?: string;
  all?: boolean;
  json?: boolean;
  /** Taken before the command runs (program/act.ts): where the data key comes from, not a filter. */
  secrets?: string;
}

/** The runs `list` prints when neither --limit nor --all is given: a page, as the dashboard shows them. */
export const LIST_PAGE = 50;

/**
 * `list`: the run index's records (src/query), filtered by the flags (the same query the HTTP API takes), newest first:
 * the newest 50 that match, --limit n of them, or --all. When more match, stderr says so (text mode) and how to see
 * them. A corrupt run is listed as CORRUPT (in --json too) and warned about whatever the filters; the others as usual.
 */
export async function listCmd(io: Io, g: GlobalOpts, opts: ListOpts): Promise<number> {
  const { json: asJson, all, secrets: _secrets, ...flags } = opts;
  if (all && flags.limit !== undefined)
    throw new UsageError('--all and --limit together: give one (--all prints every matching run)', {
      option: '--all',
    });
  const query = parseRunQuery(
    { ...flags, limit: all ? undefined : (flags.limit ?? String(LIST_PAGE)) },
    'cli',
    Date.now(),
  );
  const corrupt: CorruptRun[] = [];
  const damaged = new Map<string, DamagedLog>();
  // Newest first, as the query gives them and the dashboard shows them. A cache that cannot be written (a disk
  // full) is warned about and the runs listed all the same: a read never fails for it.
  const page = await (await runsFor(g)).page(query, {
    onCorrupt: (c) => corrupt.push(c),
    onDamaged: (d) => damaged.set(d.runId, d),
    onWarning: (m) => io.err(`warning: ${inert(m)}`),
    onProgress: (n, of) => io.err(indexProgressText(n, of)),
  });
  let runs = page.runs;
  // The index told what it recorded (onDamaged); the store's journal may know more of a log cut before the index saw
  // it: asked once for every run listed (run by run, it was read again for each).
  for (const [runId, d] of await journalDamage(
    g,
    runs.filter((r) => !damaged.has(r.runId)),
  ))
    damaged.set(runId, d);
  runs = runs.map((r) => (damaged.has(r.runId) ? { ...r, status: 'DAMAGED' as RunRecord['status'] } : r));
  io.out(
    asJson
      ? json([
          ...runs.map((r) => ({
            runId: r.runId,
            workflowId: r.workflowId,
            version: r.version,
            status: r.status,
            startedAt: r.startedAt,
            completedAt: r.completedAt,
            ...(r.parent ? { parent: r.parent } : {}),
            ...(r.schedule ? { schedule: r.schedule } : {}),
            trigger: r.trigger,
            agents: r.agents,
            result: r.result,
            durationMs: r.durationMs,
            ...(r.search ? { search: r.search } : {}),
            ...(damaged.has(r.runId) ? { damaged: damaged.get(r.runId) } : {}),
          })),
          ...corrupt.map(({ runId, file, reason }) => ({ runId, status: 'CORRUPT', file, reason })),
        ])
      : listText(runs),
  );
  for (const c of corrupt) io.err(corruptText(c));
  for (const r of runs) if (damaged.has(r.runId)) io.err(damagedWarning(damaged.get(r.runId)!));
  if (!asJson && page.nextCursor !== null) io.err(moreText(runs.length, page.total));
  // A store whose runs were all archived listed nothing and said nothing of where they went.
  if (!asJson && runs.length === 0 && corrupt.length === 0) {
    const held = await archivedRunCount(g);
    if (held > 0) io.err(archivedListText(held));
  }
  return EXIT.ok;
}

/** What `list` says on stderr when more runs match than it printed. */
function moreText(shown: number, total: number): string {
  return `the newest ${shown} of ${total} matching runs shown; for more: --limit n (up to ${MAX_LIMIT}), --all (every one), or GET /api/runs and its nextCursor`;
}

/** `wait`: the run once it settles (or, --or-waiting, waits for a person or is paused), on either store; exit codes as `run`. */
export async function waitCmd(
  io: Io,
  g: GlobalOpts,
  runId: string,
  opts: { timeout?: string; orWaiting?: boolean; json?: boolean },
): Promise<number> {
  const timeoutMs = optionalDurationFlag('--timeout', opts.timeout, '30s or 5m');
  const view = await (await runsFor(g)).wait(runId, {
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    orWaiting: opts.orWaiting ?? false,
  });
  // Returned neither settled nor (with --or-waiting) waiting for a person: the timeout ended the wait; say so (stderr: --json's stdout is the view).
  const reached =
    SETTLED_STATUSES.includes(view.status) ||
    (opts.orWaiting === true && (view.status === 'WAITING' || view.status === 'PAUSED'));
  if (!reached)
    io.err(
      `--timeout ${opts.timeout ?? ''} reached: run ${runId} is still ${view.status}${view.status === 'WAITING' || view.status === 'PAUSED' ? ' (--or-waiting returns as soon as it waits for a person or is paused)' : ''}`,
    );
  await printView(io, g, view, opts.json);
  return exitCodeForStatus(view.status);
}

/** The run as `wait` (and `retry --wait`) prints it: the view (--json), or its status and what it waits for. */
export async function printView(io: Io, g: GlobalOpts, run: RunView, asJson: boolean | undefined): Promise<void> {
  const view = await withTaskProgress(g, run);
  if (asJson) io.out(json(view));
  else for (const line of [statusText(view), ...waitingHints(view, natsUrlOf(g))]) io.out(line);
}

/** The child runs a history names that are under their spare id (a run not theirs took the derived one), by derived id. */
async function childrenShown(store: EventStore, events: EventEnvelope[]): Promise<Map<string, string>> {
  const shown = new Map<string, string>();
  const tasks = tasksOf(events);
  const subs = childRunTasks(tasks);
  for (const e of events) {
    if (e.type !== 'task.started' || !subs.has(e.data.task) || e.data.reused) continue;
    const child = childRunId(e.runId, e.data, e.data.attempt);
    const at = await shownChildRunId(store, child, e.runId);
    if (at !== child) shown.set(child, at);
  }
  return shown;
}

export async function historyCmd(
  io: Io,
  g: GlobalOpts,
  runId: string,
  opts: { json?: boolean; format?: string },
): Promise<number> {
  if (opts.format !== undefined && opts.format !== 'events' && opts.format !== 'log') {
    throw new UsageError(
      `--format ${opts.format} is not a history format: events (every event, the default) or log (the execution log's lines)`,
      { option: '--format' },
    );
  }
  const engine = engineFor(g);
  const events = await engine.events(runId);
  if (opts.format === 'log') {
    // The lines the execution log got as the run committed (docs/state-file.md#the-execution-log), from its whole log.
    const { executionLogLines, executionLogOf } = await import('../../execution-log/index.js');
    const { compiledForRun } = await import('../../runtime/index.js');
    const first = events[0]!;
    const frequency =
      first.type === 'run.started' ? (executionLogOf(compiledForRun(first))?.frequency ?? 'per_task') : 'per_task';
    const lines = executionLogLines(events, frequency);
    if (opts.json) io.out(json(lines));
    else io.out(lines.join('\n'));
    return EXIT.ok;
  }
  const damaged = await damageCheck(g)(runId, events.at(-1)?.seq ?? 0);
  const code = damaged ? EXIT.failed : EXIT.ok;
  if (damaged) io.err(damagedWarning(damaged));
  if (opts.json) {
    io.out(json(events.map((e) => ({ seq: e.seq, time: e.time, type: e.type, data: e.data, state: e.state }))));
    return code;
  }
  // A failed run names the failure workflow run it started (whose own history names it back).
  const last = events.at(-1);
  const failure = last?.state.status === 'FAILED' ? (await engine.status(runId)).failureRun : undefined;
  io.out(
    historyText(events, await childrenShown(engine.store, events)) +
      (failure ? `\n      → failure workflow run ${failure} (ledgerflow history ${failure})` : '') +
      (damaged
        ? `\n      ✗ the log ends here, but events up to ${damaged.recordedSeq} (${damaged.recordedStatus}) were recorded: they are lost`
        : ''),
  );
  return code;
}
