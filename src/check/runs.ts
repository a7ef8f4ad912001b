/**
 * What the new version does to the runs that exist: every unsettled run of the workflow judged as `migrate --dry-run`
 * judges it (executor/migrate.ts: as is, with the task map, or cannot and where it first parts from the run), and with
 * `--history N` the newest N settled runs replayed under it (runtime/replay.ts, as `replay --definition` does). Nothing
 * is written: a dry run only reads the logs.
 */
import { compile } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';
import { migrateRuns, migrationCounts, unjudgedFrom, type MigrationRow } from '../executor/index.js';
import { settledRunIds, unsettledRunIds } from '../query/index.js';
import { replayRun, type Divergence, type TaskMap } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import type { CheckedDefinition } from './diff.js';
import type { Finding } from './findings.js';
import { taskLocation } from './locate.js';

export interface RunsCheck {
  store: EventStore;
  after: CheckedDefinition;
  /** Tasks the new version renames (`--map old=new`), as `migrate --map` takes them. */
  map: TaskMap;
  /** How many of the newest settled runs to replay too (0: none). */
  history: number;
  warn(message: string): void;
}

export interface RunsSummary {
  unsettled: number;
  asIs: number;
  withMap: number;
  cannot: number;
  /** Runs already on the new version (deployed before the check): nothing to take over. */
  already: number;
  settled: number;
  settledDiverge: number;
  /** Runs read without the data key whose course turned on sealed values: judged only up to there (a warning each). */
  unjudged: number;
}

export interface RunsResult {
  findings: Finding[];
  summary: RunsSummary;
  /** Each run judged, for the formats that list what passed (JUnit's testcases). */
  judged: { runId: string; ok: boolean }[];
}

const mapText = (map: TaskMap) =>
  Object.entries(map)
    .map(([a, b]) => `${a}=${b}`)
    .join(' ');

/** The task the event at the divergence is about, if it names one. */
function taskAt(events: readonly EventEnvelope[], d: Divergence): string | undefined {
  const ev = events.find((e) => e.seq === d.seq);
  return ev && 'task' in ev.data && typeof ev.data.task === 'string' ? ev.data.task : undefined;
}

/**
 * What `migrate --to` is given in the hint: the file that was checked, which migrate reads wherever it lies (a version
 * number is looked up in ./definitions only, where a candidate being checked often is not yet); the version when
 * the definition came from no file.
 */
const migrateTo = (after: CheckedDefinition): string =>
  after.file
    ? /^[\w./@+-]+$/.test(after.file)
      ? after.file
      : `'${after.file.replace(/'/g, "'\\''")}'`
    : String(after.definition.version);

const divergenceText = (d: Divergence) => `event ${d.seq} (${d.type}): ${d.reason}`;

/** A run the gate could judge only up to event `seq`, for want of the key: a warning, never a pass or a fail of its own. */
const unjudged = (run: string, seq: number, runId: string, location: Finding['location']): Finding => ({
  section: 'runs',
  rule: 'run-sealed-unjudged',
  level: 'warning',
  message: `${run}: read without the data key, its course turned on sealed values from event ${seq}, so the new version was judged against it only up to there; give the gate LF_DATA_KEY to judge it whole`,
  location,
  runId,
});

export async function runFindings(c: RunsCheck): Promise<RunsResult> {
  const { store, after } = c;
  const workflowId = after.definition.id;
  const target = compile(after.definition);
  const ids = await unsettledRunIds(store, workflowId, {}, c.warn);
  const rows = await migrateRuns(store, ids, target, c.map, { dryRun: true, now: () => new Date().toISOString() });
  const findings: Finding[] = [];
  const judged: RunsResult['judged'] = [];
  const at = async (row: MigrationRow) => taskLocation(after, taskAt(await store.read(row.runId), row.divergence!));
  let unjudgedRuns = 0;
  for (const row of rows) {
    const run = `run ${row.runId} (${row.status}, v${row.from})`;
    // Without the key: a verdict on events past the run's own parting is not one (executor/migrate.ts keylessRow).
    if (row.sealedFrom) {
      unjudgedRuns++;
      judged.push({ runId: row.runId, ok: true });
      findings.push(unjudged(run, row.sealedFrom.seq, row.runId, taskLocation(after, undefined)));
      continue;
    }
    // Passes as it is: a run that needs the map or cannot take over is a finding of its own.
    judged.push({ runId: row.runId, ok: row.verdict === 'as_is' || row.verdict === 'already' });
    if (row.verdict === 'cannot')
      findings.push({
        section: 'runs',
        rule: 'run-cannot-take-over',
        level: 'error',
        message: `${run}: ${workflowId} v${after.definition.version} cannot take it over: ${divergenceText(row.divergence!)}`,
        location: await at(row),
        runId: row.runId,
      });
    else if (row.verdict === 'with_map')
      findings.push({
        section: 'runs',
        rule: 'run-takes-over-with-map',
        level: 'warning',
        message: `${run}: takes over only with the task map (${mapText(row.map ?? {})}); migrate it with \`ledgerflow migrate ${workflowId} --to ${migrateTo(after)} ${Object.entries(
          row.map ?? {},
        )
          .map(([a, b]) => `--map ${a}=${b}`)
          .join(' ')}\``,
        location: taskLocation(after, Object.values(row.map ?? {})[0]),
        runId: row.runId,
      });
  }
  const settled = await settledRunIds(store, workflowId, c.history, c.warn);
  let settledDiverge = 0;
  for (const runId of settled) {
    const events = await store.read(runId);
    const d = replayRun(events, { candidate: after.definition }).candidate?.divergence ?? null;
    // Without the key (a CI job seldom holds it): a divergence past the run's own parting is not one.
    const sealedFrom = unjudgedFrom(store, events, d?.seq);
    if (sealedFrom) {
      unjudgedRuns++;
      judged.push({ runId, ok: true });
      findings.push(unjudged(`settled run ${runId}`, sealedFrom.seq, runId, taskLocation(after, undefined)));
      continue;
    }
    judged.push({ runId, ok: d === null });
    if (d === null) continue;
    settledDiverge++;
    findings.push({
      section: 'runs',
      rule: 'settled-run-diverges',
      level: 'warning',
      message: `settled run ${runId}: replayed under ${workflowId} v${after.definition.version} it parts at ${divergenceText(d)}`,
      location: taskLocation(after, taskAt(events, d)),
      runId,
    });
  }
  // The verdicts counted are those judged whole; runs judged only in part are counted apart (`unjudged`).
  const counts = migrationCounts(rows);
  return {
    findings,
    judged,
    summary: {
      unsettled: counts.judged,
      asIs: counts.as_is,
      withMap: counts.with_map,
      cannot: counts.cannot,
      already: counts.already,
      settled: settled.length,
      settledDiverge,
      unjudged: unjudgedRuns,
    },
  };
}
