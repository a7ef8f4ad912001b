/**
 * Migrating unsettled runs to another version of their workflow (docs/runs.md#migrating-in-flight-runs), on any store:
 * each run judged on its log as it is (runtime/migration.ts: as is, with the task map, or not, and where it breaks),
 * and a run that can take over given one run.migrated, appended after the sequence it was judged on. A run that moved
 * on meanwhile is judged again on its new log (commitWithRetry); one already on the version is counted, not migrated
 * again, so a migration cut short and run again ends as one run through would (crash-safe), and two racing migrations
 * migrate each run once.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import { UsageError } from '../errors/index.js';
import type { EventEnvelope } from '../events/index.js';
import {
  applyEvent,
  foldEvents,
  judgeMigration,
  migratedEvent,
  envelopeOf,
  runStatus,
  type Divergence,
  type SealedFrom,
  type TaskMap,
} from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { unjudgedFrom } from './keyless-view.js';
import { commitWithRetry } from './commit-with-retry.js';
import { appendCommit } from './run-log.js';
import { foldLoaded } from './payloads.js';

/** What a migration did (or, dry, would do) with one run. */
export interface MigrationRow {
  runId: string;
  status: string;
  /** The version the run was on when judged. */
  from: number;
  /** as_is / with_map: the new version can take it over (`map`: the one used); cannot: `divergence` says where it breaks; already: it is on the version. */
  verdict: 'as_is' | 'with_map' | 'cannot' | 'already';
  map?: TaskMap;
  divergence?: Divergence;
  /** Real runs only: true once its run.migrated is in the log. */
  migrated?: boolean;
  /** Why a run that could take over was left as it is (none is, so far: kept for stores that may refuse one). */
  refused?: { code: string; message: string };
  /**
   * Read without the data key, a run whose course turned on sealed values from this event (runtime/sealed-parting.ts):
   * the verdict rests on events the fold could not follow, so it was judged only up to there (`status` is then the
   * one its last event recorded). A divergence before this event is a verdict as any other, and has no `sealedFrom`.
   */
  sealedFrom?: SealedFrom;
}

interface MigrateOptions {
  /** Only judge: nothing is written. */
  dryRun: boolean;
  /** Who migrates (run.migrated's `by`). */
  by?: string;
  /** The time the event records (ISO). */
  now(): string;
}

/** Checks a task map against the two versions: every old id is a task of some version of the run, every new id one of the target. */
export function checkTaskMap(map: TaskMap, target: CompiledWorkflow): void {
  const ids = new Set(target.definition.tasks.map((t) => t.id));
  for (const [from, to] of Object.entries(map)) {
    if (!ids.has(to))
      throw new UsageError(
        `--map ${from}=${to}: ${target.definition.id} v${target.definition.version} has no task "${to}"`,
        { option: '--map', value: `${from}=${to}` },
      );
  }
}

/** Judges run `runId` against `target` and, unless dry, migrates it if it can take over. */
export async function migrateRun(
  store: EventStore,
  runId: string,
  target: CompiledWorkflow,
  map: TaskMap,
  o: MigrateOptions,
): Promise<MigrationRow> {
  return commitWithRetry(runId, async () => {
    const events = await store.read(runId);
    if (events.length === 0) throw new UsageError(`no run ${runId}`, { runId });
    // A run whose DECISION read a large payload: its body loaded where this process has not (foldLoaded).
    const blobs = store.blobs?.();
    const row = await foldLoaded(blobs, () => judged(events, target, map));
    if (o.dryRun || (row.verdict !== 'as_is' && row.verdict !== 'with_map')) return keylessRow(store, events, row.row);
    // No lease is taken: a process driving the run follows its log (RunLog.catchUp) and goes on under the new version.
    const { current, seq, snapshot } = row;
    const ev = migratedEvent(current, target, { map: row.map, snapshot: row.next }, o.now(), o.by);
    const after = await foldLoaded(blobs, () => applyEvent(current, snapshot, ev).snapshot);
    const env = envelopeOf(runId, seq + 1, ev, after);
    // One dedup id per run, sequence and target version: a retried append of this very migration writes nothing twice.
    const written = await appendCommit(store, runId, seq, `migrate-${target.hash.slice(0, 16)}`, [env]);
    // The same migration written already (another migrate at the same moment, or this one's own retried append): counted, not migrated twice.
    if (written.duplicate) return { ...row.row, verdict: 'already' };
    return { ...row.row, migrated: true };
  });
}

/**
 * A row judged by a process without the data key: where the run's own course turned on sealed values (its fold parts
 * from what its events recorded), a verdict on events from there on is marked `sealedFrom`. A real migration of such a
 * run is refused by the store (it may not append to a run it read so); a dry run and the deploy gate say it.
 */
function keylessRow(store: EventStore, events: EventEnvelope[], row: MigrationRow): MigrationRow {
  if (row.verdict === 'already') return row;
  const from = unjudgedFrom(store, events, row.divergence?.seq);
  return from ? { ...row, status: events.at(-1)!.state.status, sealedFrom: from } : row;
}

type Judged =
  | {
      verdict: 'as_is' | 'with_map';
      row: MigrationRow;
      current: CompiledWorkflow;
      snapshot: ReturnType<typeof foldEvents>['snapshot'];
      next: ReturnType<typeof foldEvents>['snapshot'];
      seq: number;
      map: TaskMap;
    }
  | { verdict: 'cannot' | 'already'; row: MigrationRow };

function judged(events: EventEnvelope[], target: CompiledWorkflow, map: TaskMap): Judged {
  const { compiled, snapshot, seq } = foldEvents(events);
  const runId = events[0]!.runId;
  const base = { runId, status: runStatus(snapshot), from: compiled.definition.version };
  if (compiled.definition.id !== target.definition.id) {
    throw new UsageError(
      `run ${runId} is of workflow ${compiled.definition.id}, not ${target.definition.id}: a version takes over runs of its own workflow only`,
      { runId },
    );
  }
  const v = judgeMigration(events, compiled, snapshot, target, map);
  if (v.verdict === 'already') return { verdict: 'already', row: { ...base, verdict: 'already' } };
  if (v.verdict === 'settled')
    return {
      verdict: 'cannot',
      row: {
        ...base,
        verdict: 'cannot',
        divergence: {
          seq,
          type: events.at(-1)!.type,
          reason: `the run is ${base.status}: only an unsettled run is migrated`,
        },
      },
    };
  if (v.verdict === 'cannot')
    return { verdict: 'cannot', row: { ...base, verdict: 'cannot', divergence: v.divergence } };
  return {
    verdict: v.verdict,
    row: { ...base, verdict: v.verdict, map: v.map },
    current: compiled,
    snapshot,
    next: v.snapshot,
    seq,
    map: v.map,
  };
}

/** The rows of a migration, counted by verdict (and, when real, how many were migrated and how many refused). */
interface MigrationCounts {
  judged: number;
  as_is: number;
  with_map: number;
  cannot: number;
  already: number;
  migrated: number;
  refused: number;
  /** Read without the data key: runs judged only up to where their course turned on sealed values (not in the verdicts' counts). */
  unjudged: number;
}

export function migrationCounts(rows: readonly MigrationRow[]): MigrationCounts {
  const count = (f: (r: MigrationRow) => boolean) => rows.filter((r) => !r.sealedFrom && f(r)).length;
  return {
    judged: rows.length,
    unjudged: rows.filter((r) => r.sealedFrom).length,
    as_is: count((r) => r.verdict === 'as_is'),
    with_map: count((r) => r.verdict === 'with_map'),
    cannot: count((r) => r.verdict === 'cannot'),
    already: count((r) => r.verdict === 'already'),
    migrated: count((r) => r.migrated === true),
    refused: count((r) => r.refused !== undefined),
  };
}

/** Runs judged (and migrated) at once: each is a read and at most one append of its own. */
const AT_ONCE = 8;

/** migrateRun over many runs, a few at a time; rows in the order of `runIds`. */
export async function migrateRuns(
  store: EventStore,
  runIds: readonly string[],
  target: CompiledWorkflow,
  map: TaskMap,
  o: MigrateOptions & { progress?(done: number, of: number): void },
): Promise<MigrationRow[]> {
  const rows = new Array<MigrationRow>(runIds.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < runIds.length) {
      const i = next++;
      rows[i] = await migrateRun(store, runIds[i]!, target, map, o);
      o.progress?.(++done, runIds.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, runIds.length) }, worker));
  return rows;
}

/** The one answer of a migration (CLI --json, HTTP API). */
export function migrationAnswer(
  target: CompiledWorkflow,
  map: TaskMap,
  dryRun: boolean,
  rows: readonly MigrationRow[],
): Record<string, unknown> {
  return {
    workflowId: target.definition.id,
    to: { version: target.definition.version, hash: target.hash },
    map,
    dryRun,
    ...migrationCounts(rows),
    runs: rows,
  };
}
