/**
 * Run records: what one row of `list` and of the runs page shows, folded from the run's events. Pure: no clock, no I/O.
 * A record is a RunSummary plus how the run was triggered, who is involved, how long it took, a one-line result and
 * per-task counters; the workflow output and task statuses come from the run's own fold (the compiled statechart),
 * never from a second copy of its rules. `advance` continues a record with new events and gives exactly what folding
 * the whole log again gives (test/query/record.test.ts checks it over every golden history).
 */
import type { CompiledWorkflow, PersistedFold } from '../compiler/index.js';
import type { Definition, SearchType, SearchValue } from '../definition/index.js';
import { LedgerflowError } from '../errors/index.js';
import { SETTLED_STATUSES, type EventEnvelope } from '../events/index.js';
import {
  applyEvent,
  compiledForRun,
  workflowAfter,
  foldStartOf,
  runStatus,
  startFold,
  waitingFor,
  type RunSnapshot,
} from '../runtime/index.js';
// common.js, not the store's index: that loads the JetStream adapter (nats), which `run` on the embedded store never needs.
import { summarize } from '../store/common.js';
import type { RunSummary } from '../store/index.js';
import { REDACTED, SEALED_KEY, isSealedText } from '../encryption/index.js';
import { blindApply, blindStart } from './blind-fold.js';

/** How a run came to be. `id` of an event is its event id (null when the run did not record it). */
export type RunTrigger =
  | { kind: 'event'; type: string | null; id: string | null }
  | { kind: 'schedule'; slot: string; trigger: number }
  | ({ kind: 'parent' } & NonNullable<RunSummary['parent']>)
  | { kind: 'retry'; runId: string }
  | { kind: 'manual' };
export const TRIGGER_KINDS = ['event', 'schedule', 'parent', 'retry', 'manual'] as const;

/** A task as the metrics page aggregates it: retries = attempts − 1. `durationMs`: its last attempt's, once it ended. */
export interface TaskRecord {
  status: string;
  attempts: number;
  durationMs: number | null;
}

/** A HUMAN task waiting for a decision, and who may take it (empty: anyone). */
export interface WaitingTask {
  task: string;
  approvers: string[];
}

export interface RunRecord extends RunSummary {
  trigger: RunTrigger;
  /** Sorted distinct `assigned_to` of the run's tasks (its recorded definition), plus who decided its approvals. */
  agents: string[];
  /** completedAt − startedAt; null while the run is not settled. */
  durationMs: number | null;
  /** One line: COMPLETED the output's JSON (≤ 200 chars), FAILED/CANCELLED the error, WAITING who it waits for. */
  result: string;
  /** The output's JSON cut to OUTPUT_TEXT_LIMIT characters (what `outputContains` searches); null until COMPLETED. */
  outputText: string | null;
  tasks: Record<string, TaskRecord>;
  waiting: WaitingTask[];
  /** Search attributes (`search:`) as the run's fold has them now; absent when its workflow declares none. A time is an ISO text. */
  search?: Record<string, SearchValue>;
  /** The declared type of each search attribute (absent with `search`): what `--where` parses its value as. */
  searchTypes?: Record<string, SearchType>;
}

const RESULT_LIMIT = 200;
export const OUTPUT_TEXT_LIMIT = 4096;

/**
 * A record with what continuing it needs: the run's compiled machine and its fold after the record's last event. Only
 * in memory; `persistTracked` / `restoreTracked` give the JSON form an index keeps.
 */
export interface TrackedRun {
  record: RunRecord;
  compiled: CompiledWorkflow | null;
  /** Null for a settled run restored from its stored form: nothing changes its state any more, nothing is folded. */
  snapshot: RunSnapshot | null;
  /** The recorded state hash of the last event: an event of a type this module does not know is folded only when it changed it. */
  hash: string;
}

/** The JSON form of a TrackedRun: the record, the definition's hash and (while the run is not settled) its persisted fold. */
export interface StoredTracked {
  record: RunRecord;
  definitionHash: string;
  /** Null once the run settled: nothing changes its state any more, so nothing needs folding. */
  fold: PersistedFold | null;
  hash: string;
}

/** The events given do not continue the record: a gap, a repeat, or another run's. Rebuild the record from the run's log. */
export class RecordGapError extends LedgerflowError {
  constructor(runId: string, lastSeq: number, got: number) {
    super(
      'LF_RECORD_GAP',
      `run ${runId}: its record ends at event ${lastSeq}, the next event given is ${got}; rebuild the record from the run's log`,
      { runId, lastSeq, got },
    );
  }
}

/** Event types the fold takes (approval.refused is an audit record that changes nothing). */
const FOLDED: ReadonlySet<string> = new Set([
  'task.started',
  'task.completed',
  'task.failed',
  'timer.fired',
  'approval.recorded',
  'run.cancelled',
  'run.failed',
  'task.restarted',
  'task.released',
  'signal.received',
  'run.paused',
  'run.resumed',
  'run.migrated',
]);

/** A run's record from its whole log (events from seq 1). */
export function recordOf(events: readonly EventEnvelope[]): RunRecord {
  return track(events).record;
}

/**
 * The run's fold after the last of the events given, as the process that recorded them folded it (an
 * engine's run host): taken as it is instead of folding the events again. The compiled workflow it was
 * folded on may be bound to limits (the same machine and hash).
 */
export interface FoldedAfter {
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
}

/** A run's record and its fold, from its whole log (events from seq 1); `after`: see FoldedAfter. */
export function track(
  events: readonly EventEnvelope[],
  after?: FoldedAfter,
  opts: { blind?: boolean } = {},
): TrackedRun {
  const [first, ...rest] = events;
  if (!first || first.type !== 'run.started' || first.seq !== 1) {
    throw new RecordGapError(first?.runId ?? '?', 0, first?.seq ?? 0);
  }
  // The start's definition names the record's trigger, agents and search types (a migration later changes none of them).
  const compiled = compiledForRun(first);
  // With the fold after the last event given, the start's own fold is not made: advance takes the one given.
  // Without the data key (`blind`): the cases of its DECISIONs found by the hashes the log recorded (blind-fold.ts).
  const snapshot = after
    ? after.snapshot
    : opts.blind
      ? blindStart(compiled, first)
      : startFold(compiled, foldStartOf(first));
  // The header, parent and schedule as the stores summarise a run of this one event.
  const summary = summarize(first, first);
  const record: RunRecord = {
    ...summary,
    trigger: triggerOf(first, summary, compiled.definition),
    agents: assignees(compiled.definition),
    durationMs: null,
    result: '',
    outputText: null,
    tasks: {},
    waiting: [],
  };
  const declared = compiled.definition.search;
  if (declared) record.searchTypes = Object.fromEntries(Object.entries(declared).map(([k, d]) => [k, d.type]));
  // Resolved by the start's fold (a run whose log is run.started alone has them too).
  if (snapshot.context.search !== undefined) record.search = snapshot.context.search;
  // A run whose log is its start alone (one that settles in its first commit: SET tasks, a TERMINATE) has no later
  // event for advance to derive from: its duration, tasks and result are the start's fold's.
  if (rest.length === 0) Object.assign(record, derived(compiled.definition, snapshot, record));
  return advance({ record, compiled, snapshot, hash: first.state.hash }, rest, after, opts);
}

/**
 * Continues a record with the events that follow it (seq lastSeq+1, ...). The same result as `track` over the whole
 * log. Throws RecordGapError when they do not follow it. `after`: the fold after the last of them (FoldedAfter), taken
 * instead of folding them here; a record with no fold kept (a settled run restored) folds nothing either way.
 */
export function advance(
  tracked: TrackedRun,
  events: readonly EventEnvelope[],
  after?: FoldedAfter,
  opts: { blind?: boolean } = {},
): TrackedRun {
  if (events.length === 0) return tracked;
  let { snapshot, hash, compiled } = tracked;
  const folding = after === undefined;
  const record: RunRecord = { ...tracked.record };
  let agents: Set<string> | null = null;
  for (const e of events) {
    if (e.runId !== record.runId || e.seq !== record.lastSeq + 1)
      throw new RecordGapError(record.runId, record.lastSeq, e.seq);
    // Known types are folded; a type this module does not know is folded only if its recorded state differs
    // (notification.* and other records that keep the state change nothing, not even completedAt).
    if (
      folding &&
      snapshot &&
      compiled &&
      (FOLDED.has(e.type) || (e.type !== 'approval.refused' && e.state.hash !== hash))
    )
      snapshot = opts.blind ? blindApply(compiled, snapshot, e) : applyEvent(compiled, snapshot, e).snapshot;
    // Migrated (docs/runs.md#migrating-in-flight-runs): the run goes on under the new version.
    if (e.type === 'run.migrated' && compiled) {
      if (folding) compiled = workflowAfter(compiled, e);
      record.version = e.version;
    }
    if (e.type === 'approval.recorded') (agents ??= new Set(record.agents)).add(e.data.by);
    // Whoever reported an attempt's outcome (a worker's NATS user, a file agent) took part too (the agents view, `list --agent`).
    else if (
      (e.type === 'task.completed' || e.type === 'task.failed') &&
      e.data.by !== undefined &&
      !(agents ? agents.has(e.data.by) : record.agents.includes(e.data.by))
    )
      (agents ??= new Set(record.agents)).add(e.data.by);
    record.lastSeq = e.seq;
    record.status = e.state.status;
    // The settling event's time: later events (notifications) never move it.
    if (record.completedAt === null && SETTLED_STATUSES.includes(e.state.status)) record.completedAt = e.time;
    hash = e.state.hash;
  }
  if (agents) record.agents = [...agents].sort();
  if (after && snapshot && compiled) ({ snapshot, compiled } = after);
  // A settled run's derived fields are final (its fold takes nothing more); only seq and agents move.
  if (snapshot && compiled) Object.assign(record, derived(compiled.definition, snapshot, record));
  return { record, compiled, snapshot, hash };
}

/** The JSON form of a tracked run (what the JetStream index keeps per run). */
export function persistTracked(t: TrackedRun, definitionHash: string): StoredTracked {
  const fold =
    t.snapshot && t.compiled && t.snapshot.status !== 'done' ? t.compiled.interpreter.persist(t.snapshot) : null;
  return { record: t.record, definitionHash, fold, hash: t.hash };
}

/** Whether a stored run can be continued: settled (nothing to fold), or with its fold kept. */
export function canContinue(s: StoredTracked): boolean {
  return s.fold !== null || SETTLED_STATUSES.includes(s.record.status);
}

/**
 * A tracked run from its JSON form; `compiled` is needed only when it is not settled. Null when it cannot be continued
 * (not settled and no fold kept: rebuild it from the log).
 */
export function restoreTracked(s: StoredTracked, compiled: CompiledWorkflow | null): TrackedRun | null {
  if (!s.fold)
    return SETTLED_STATUSES.includes(s.record.status)
      ? { record: s.record, compiled: null, snapshot: null, hash: s.hash }
      : null;
  if (!compiled) return null;
  return { record: s.record, compiled, snapshot: compiled.interpreter.restore(s.fold), hash: s.hash };
}

/** What follows from the fold: task counters, who is waited for, result and output text, duration. */
function derived(
  def: Definition,
  snapshot: RunSnapshot,
  record: RunRecord,
): Pick<RunRecord, 'tasks' | 'waiting' | 'result' | 'outputText' | 'durationMs' | 'search'> {
  const ctx = snapshot.context;
  const tasks: Record<string, TaskRecord> = {};
  for (const [id, t] of Object.entries(ctx.tasks)) {
    tasks[id] = {
      status: t.status,
      attempts: t.attempts,
      durationMs: t.startedAt && t.completedAt ? Date.parse(t.completedAt) - Date.parse(t.startedAt) : null,
    };
  }
  const waiting: WaitingTask[] = [];
  const signals: { task: string; signal?: string }[] = [];
  for (const w of waitingFor(def, snapshot)) {
    if (w.approvers) waiting.push({ task: w.task, approvers: w.approvers });
    else signals.push({ task: w.task, ...(w.signal !== undefined ? { signal: w.signal } : {}) });
  }
  const status = snapshot.status === 'done' ? runStatus(snapshot) : record.status;
  // The index folds what is stored: an output sealed at rest (src/encryption) shows as `[encrypted]`, never its ciphertext.
  const outputJson = status === 'COMPLETED' ? redactSealed(JSON.stringify(ctx.output ?? null)) : null;
  const errorText = isSealedText(ctx.error?.message) ? REDACTED : ctx.error?.message;
  return {
    tasks,
    waiting,
    ...(ctx.search !== undefined ? { search: ctx.search } : {}),
    outputText: outputJson === null ? null : outputJson.slice(0, OUTPUT_TEXT_LIMIT),
    result: oneLine(resultText(record.status, outputJson, errorText, waiting, signals, tasks)),
    durationMs: record.completedAt === null ? null : Date.parse(record.completedAt) - Date.parse(record.startedAt),
  };
}

/** JSON holding a sealed value: `"[encrypted]"` instead (the index caches hold no ciphertext to show). */
const redactSealed = (json: string): string => (json.includes(`"${SEALED_KEY}"`) ? JSON.stringify(REDACTED) : json);

function resultText(
  status: RunRecord['status'],
  outputJson: string | null,
  error: string | undefined,
  waiting: WaitingTask[],
  signals: { task: string; signal?: string }[],
  tasks: Record<string, TaskRecord>,
): string {
  switch (status) {
    case 'COMPLETED':
      return outputJson ?? 'null';
    case 'FAILED':
      return error ?? 'failed';
    case 'CANCELLED':
      return error ?? 'cancelled';
    case 'PAUSED':
      return 'paused';
    case 'QUEUED':
      return 'queued for a concurrency slot';
    case 'WAITING':
      return (
        [
          ...waiting.map(
            (w) => `${w.task} waits for approval${w.approvers.length > 0 ? ` by ${w.approvers.join(' or ')}` : ''}`,
          ),
          ...signals.map((s) => `${s.task} waits for ${s.signal === undefined ? 'a signal' : `signal ${s.signal}`}`),
        ].join('; ') || 'waiting'
      );
    default: {
      const active = Object.entries(tasks)
        .filter(([, t]) => t.status === 'IN_PROGRESS' || t.status === 'SCHEDULED' || t.status === 'RETRYING')
        .map(([id]) => id);
      return active.length > 0 ? `running ${active.join(', ')}` : 'running';
    }
  }
}

/** At most RESULT_LIMIT characters on one line. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > RESULT_LIMIT ? `${flat.slice(0, RESULT_LIMIT - 1)}…` : flat;
}

function assignees(def: Definition): string[] {
  return [
    ...new Set(def.tasks.map((t) => t.assignedTo).filter((a): a is string => typeof a === 'string' && a !== '')),
  ].sort();
}

/** Runs a trigger event started locally (`ledgerflow emit`) have ids `ev-<20 hex>` (triggers runIdForEvent) and, before source.event was recorded there, nothing else. */
const EVENT_RUN_ID = /^ev-[0-9a-f]{20}$/;

function triggerOf(
  first: Extract<EventEnvelope, { type: 'run.started' }>,
  summary: RunSummary,
  def: Definition,
): RunTrigger {
  const s = first.data.source;
  // A retry's link (source.retryOf) is read loosely: older schemas strip it, newer ones keep it.
  const retryOf = (s as { retryOf?: { runId?: unknown } } | undefined)?.retryOf;
  if (retryOf && typeof retryOf.runId === 'string') return { kind: 'retry', runId: retryOf.runId };
  if (summary.parent) return { kind: 'parent', ...summary.parent };
  if (s?.schedule) return { kind: 'schedule', slot: s.schedule.slot, trigger: s.schedule.trigger };
  if (s?.event !== undefined || EVENT_RUN_ID.test(first.runId)) {
    // The event's type is not recorded; the definition tells it when it has one event trigger type.
    const types = [...new Set((def.triggers ?? []).flatMap((t) => (t.kind === 'event' ? [t.event] : [])))];
    return { kind: 'event', type: types.length === 1 ? types[0]! : null, id: s?.event ?? null };
  }
  return { kind: 'manual' };
}
