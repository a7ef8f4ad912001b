/**
 * A workflow's figures from a store: its runs' records from the run index (the same on the file store and on NATS), and
 * the definition whose `monitoring.metrics` says which figures come first — the one given (the dashboard's), else the
 * one the newest run of the version recorded.
 */
import { MONITORING_METRICS, type Definition, type MonitoringMetric } from '../definition/index.js';
import { LedgerflowError } from '../errors/index.js';
import { recordedDefinitionOf } from '../events/index.js';
import {
  emptyTally,
  mergeTally,
  tallyRun,
  type KeptVersion,
  type RunIndex,
  type RunRecord,
  type RunTally,
} from '../query/index.js';
import { latestWorkflow } from '../runtime/index.js';
import { compareRuns, type EventStore } from '../store/index.js';
import { workflowStats, workflowStatsOf, type WorkflowStats } from './figures.js';

export interface StatsQuery {
  workflow: string;
  /** An ISO time: runs started at or after it (parseRunQuery resolves `24h`). */
  since?: string;
  version?: number;
}

/**
 * The figures of `q.workflow`. Without `definition`, the workflow must have runs in the store (LF_DEFINITION_NOT_FOUND
 * naming those that do, when it has none or not of that version): its recorded definition is read.
 */
export async function loadWorkflowStats(
  index: RunIndex,
  store: EventStore,
  q: StatsQuery,
  definition?: Definition | null,
): Promise<WorkflowStats> {
  // Every run since a time is a window of the records; all of them, the kept figures when the index keeps them.
  const kept = q.since === undefined ? await index.keptFigures?.(q.workflow) : null;
  const fast = kept ? await fromKept(kept, store, q, definition) : null;
  if (fast) return fast;
  const def = definition === undefined ? await recordedDefinition(index, store, q) : definition;
  const records = (await index.query({ workflow: q.workflow, ...(q.since !== undefined ? { since: q.since } : {}) }))
    .runs;
  return workflowStats(records, {
    workflowId: q.workflow,
    version: q.version ?? null,
    since: q.since ?? null,
    listed: listedMetrics(def),
    taskOrder: def?.tasks.map((t) => t.id) ?? [],
  });
}

/** A definition's monitoring.metrics, the known names only (a definition recorded before they were checked may hold others). */
export function listedMetrics(def: Definition | null): MonitoringMetric[] | null {
  const raw = def?.monitoring?.metrics;
  if (!Array.isArray(raw)) return null;
  const known: readonly string[] = MONITORING_METRICS;
  return raw.filter((m): m is MonitoringMetric => typeof m === 'string' && known.includes(m));
}

async function recordedDefinition(index: RunIndex, store: EventStore, q: StatsQuery): Promise<Definition> {
  const seen = await index.versions();
  const mine = seen.filter((v) => v.workflowId === q.workflow).sort((a, b) => b.version - a.version);
  if (mine.length === 0) {
    const others = [...new Set(seen.map((v) => v.workflowId))].sort();
    throw new LedgerflowError(
      'LF_DEFINITION_NOT_FOUND',
      `no run of workflow ${q.workflow} is recorded in this store${others.length > 0 ? ` (workflows with runs: ${others.join(', ')})` : ' (it has no runs)'}`,
      { workflow: q.workflow },
    );
  }
  const chosen = q.version === undefined ? mine[0]! : mine.find((v) => v.version === q.version);
  if (!chosen) {
    throw new LedgerflowError(
      'LF_DEFINITION_NOT_FOUND',
      `workflow ${q.workflow} has no run of version ${q.version} (versions with runs: ${mine.map((v) => v.version).join(', ')})`,
      { workflow: q.workflow, version: q.version ?? null },
    );
  }
  return definitionOfRun(store, q.workflow, chosen);
}

/** The definition of `run.version` that `run.runId` recorded (its run.started, or the run.migrated that moved it there). */
async function definitionOfRun(
  store: EventStore,
  workflow: string,
  run: { runId: string; version: number },
): Promise<Definition> {
  const first = (await store.read(run.runId, { toSeq: 1 }))[0];
  if (first?.type !== 'run.started')
    throw new LedgerflowError(
      'LF_DEFINITION_NOT_FOUND',
      `run ${run.runId} of workflow ${workflow} has no run.started to read its definition from`,
      { runId: run.runId },
    );
  const recorded = recordedDefinitionOf(first.data);
  // A run migrated to this version (docs/runs.md#migrating-in-flight-runs) records it in its run.migrated.
  return recorded.version === run.version ? recorded : latestWorkflow(await store.read(run.runId)).definition;
}

/**
 * The figures from the index's kept tallies of the settled runs and the records of the others (null: no run of the
 * workflow, or of the version asked, is among them: the whole path names the ones there are).
 */
async function fromKept(
  kept: { kept: Record<string, KeptVersion>; others: RunRecord[] },
  store: EventStore,
  q: StatsQuery,
  definition: Definition | null | undefined,
): Promise<WorkflowStats | null> {
  // Each version's newest run, as the record set orders runs (start, then id): its definition is the one shown.
  const newest = new Map<number, { runId: string; startedAt: string; version: number }>();
  const consider = (version: number, r: { runId: string; startedAt: string }) => {
    const n = newest.get(version);
    if (!n || compareRuns(r, n) > 0) newest.set(version, { runId: r.runId, startedAt: r.startedAt, version });
  };
  for (const [v, k] of Object.entries(kept.kept)) consider(Number(v), k.newest);
  for (const r of kept.others) consider(r.version, r);
  let def = definition;
  if (def === undefined) {
    const chosen =
      q.version === undefined ? [...newest.values()].sort((a, b) => b.version - a.version)[0] : newest.get(q.version);
    if (!chosen) return null;
    def = await definitionOfRun(store, q.workflow, chosen);
  }
  const byVersion = new Map<number, RunTally>();
  const tallyOf = (v: number) => byVersion.get(v) ?? byVersion.set(v, emptyTally()).get(v)!;
  for (const [v, k] of Object.entries(kept.kept))
    if (q.version === undefined || Number(v) === q.version) mergeTally(tallyOf(Number(v)), k.tally);
  for (const r of kept.others) if (q.version === undefined || r.version === q.version) tallyRun(tallyOf(r.version), r);
  return workflowStatsOf(byVersion, {
    workflowId: q.workflow,
    version: q.version ?? null,
    since: null,
    listed: listedMetrics(def),
    taskOrder: def?.tasks.map((t) => t.id) ?? [],
  });
}
