/**
 * Loading a run through a snapshot, and taking one. A snapshot is a cache of the fold (the log is the truth,
 * docs/architecture-notes.md): the loader restores it, reads the log from the event it covers, checks that event's
 * recorded state against the restored state, and folds the rest. A snapshot that is missing, malformed, of another
 * definition, or does not match the log is not used: the run is folded from its first event, and the reason is returned
 * for the caller to report. So deleting every snapshot changes no result.
 */
import type { CompiledWorkflow, PersistedFold } from '../compiler/index.js';
import { definitionHash } from '../definition/index.js';
import { definitionRecord, recordedDefinitionOf, type RunSource } from '../events/index.js';
import type { EventStore, SnapshotStore, StoredSnapshot } from '../store/index.js';
import { foldOntoRun, recordedState, type RunSnapshot, workflowOf, foldEvents } from '../runtime/index.js';
import { errorMessage } from '../errors/index.js';

export interface LoadedRun {
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
  /** The run's last sequence. */
  seq: number;
  /** The sequence of the snapshot the load started from, or null when it folded the whole log. */
  fromSnapshot: number | null;
  /** Events read from the log. */
  eventsRead: number;
  /** Why a stored snapshot was not used (null when there was none, or it was used). */
  snapshotRefused: string | null;
  /** Where the run came from (its run.started's source), when the load read run.started (not from a snapshot). */
  source?: RunSource | null;
}

/** The run folded to its last event, through its snapshot when a good one exists; null when the run does not exist. */
export async function loadRun(
  store: EventStore,
  runId: string,
  snapshots?: SnapshotStore | null,
): Promise<LoadedRun | null> {
  let refused: string | null = null;
  if (snapshots) {
    let stored: StoredSnapshot | null = null;
    try {
      stored = await snapshots.get(runId);
    } catch (err) {
      // Unreadable or malformed: report it, load from the log.
      refused = errorMessage(err);
    }
    if (stored) {
      const r = await foldFromSnapshot(store, runId, stored);
      if (typeof r !== 'string') return r;
      refused = `snapshot of run ${runId} at event ${stored.seq} not used: ${r}`;
    }
  }
  const events = await store.read(runId);
  if (events.length === 0) return null;
  const first = events[0]!;
  return {
    ...foldEvents(events),
    fromSnapshot: null,
    eventsRead: events.length,
    snapshotRefused: refused,
    source: first.type === 'run.started' ? (first.data.source ?? null) : null,
  };
}

/** The loaded run, or why the snapshot cannot be used. */
async function foldFromSnapshot(store: EventStore, runId: string, s: StoredSnapshot): Promise<LoadedRun | string> {
  const def = recordedDefinitionOf(s);
  let compiled: CompiledWorkflow;
  let restored: RunSnapshot;
  try {
    if (definitionHash(def) !== s.definitionHash) return 'its definition does not have its definition hash';
    compiled = workflowOf(def, s.definitionHash);
    restored = compiled.interpreter.restore(s.fold as unknown as PersistedFold);
  } catch (err) {
    return errorMessage(err);
  }
  if (restored.context.runId !== runId) return `it holds the state of run ${String(restored.context.runId)}`;
  const events = await store.read(runId, {
    fromSeq: s.seq,
    ...(s.position !== null ? { fromPosition: s.position } : {}),
  });
  const at = events[0];
  if (!at || at.seq !== s.seq) return `the log has no event ${s.seq}`;
  if (at.workflowId !== def.id || at.version !== def.version)
    return `event ${s.seq} is of ${at.workflowId} v${at.version}, the snapshot of ${def.id} v${def.version}`;
  const computed = recordedState(restored);
  if (computed.hash !== at.state.hash || computed.status !== at.state.status) {
    return `event ${s.seq} recorded state ${at.state.status} ${at.state.hash.slice(0, 12)}, the snapshot is ${computed.status} ${computed.hash.slice(0, 12)}`;
  }
  const rest = events.slice(1);
  return {
    ...foldOntoRun(compiled, restored, rest),
    seq: rest.at(-1)?.seq ?? s.seq,
    fromSnapshot: s.seq,
    eventsRead: events.length,
    snapshotRefused: null,
  };
}

/** The snapshot of a run's state after event `seq`; `position`: the append position of the commit holding it. */
export function snapshotOf(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  seq: number,
  position: number | null,
  nowMs: number,
): StoredSnapshot {
  const fold = compiled.interpreter.persist(snapshot);
  return {
    runId: snapshot.context.runId,
    seq,
    position,
    definitionHash: compiled.hash,
    definition: definitionRecord(compiled.definition),
    fold: fold as unknown as StoredSnapshot['fold'],
    takenAt: new Date(nowMs).toISOString(),
  };
}

/** Whether a commit that took a run from `fromSeq` to `toSeq` crossed a multiple of `every` (0: never). */
export function snapshotDue(fromSeq: number, toSeq: number, every: number): boolean {
  return every > 0 && Math.floor(toSeq / every) > Math.floor(fromSeq / every);
}
