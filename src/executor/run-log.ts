/**
 * The two things every executor does to a run's log besides loading it
 * (snapshots.ts): append a commit at the sequence it was decided on, and
 * catch up on what other writers appended since. One dedup id shape for every
 * commit, `<runId>/<first seq>/<key>`: a retry of the same commit (same key)
 * writes nothing twice, and two writers' commits at one sequence never merge.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';
import type { AppendResult, EventStore } from '../store/index.js';
import { foldOnto, type RunSnapshot } from '../runtime/index.js';

/**
 * Appends `events` as the commit that follows sequence `seq` (the store
 * refuses it with AppendConflictError when another writer got there first:
 * run it inside commitWithRetry). `key` tells this writer's commits apart
 * (a nonce, an input's message sequence, `start`).
 */
export function appendCommit(store: EventStore, runId: string, seq: number, key: string, events: EventEnvelope[]): Promise<AppendResult> {
  return store.append({ runId, expectedSeq: seq, dedupId: `${runId}/${seq + 1}/${key}`, events });
}

/** A run moved on by other writers' events: the events read and the state and sequence they lead to. */
export interface CaughtUp { events: EventEnvelope[]; snapshot: RunSnapshot; seq: number }

/**
 * Reads what was appended to run `runId` after `seq` and folds it onto
 * `snapshot` (the log, not memory, is the truth); null when nothing was.
 */
export async function catchUp(store: EventStore, compiled: CompiledWorkflow, runId: string, snapshot: RunSnapshot, seq: number): Promise<CaughtUp | null> {
  const events = await store.read(runId, { fromSeq: seq + 1 });
  if (events.length === 0) return null;
  return { events, snapshot: foldOnto(compiled, snapshot, events), seq: events.at(-1)!.seq };
}
