/**
 * The EventStore port, shaped for JetStream: one ordered history per run,
 * appended with an expected last sequence (optimistic concurrency) and a dedup
 * id (a retried append is written once). Adapters: memory, file (the embedded
 * default) and, later, JetStream; one contract suite runs on all of them.
 */
import type { EventEnvelope, WorkflowStatus } from '../events/index.js';

export interface AppendRequest {
  runId: string;
  /** The run's last sequence the writer has seen; 0 for a new run. */
  expectedSeq: number;
  /** Identifies this append: retrying the same append with the same dedupId writes nothing twice. */
  dedupId: string;
  /** Consecutive events with seq expectedSeq+1, expectedSeq+2, ... Written all or none. */
  events: EventEnvelope[];
}

export interface AppendResult {
  firstSeq: number;
  lastSeq: number;
  /** True when this dedupId had already been appended: nothing new was written. */
  duplicate: boolean;
}

export interface RunSummary {
  runId: string;
  workflowId: string;
  version: number;
  status: WorkflowStatus;
  startedAt: string;
  /** Time of the event that settled the run, or null while it is not settled. */
  completedAt: string | null;
  lastSeq: number;
}

export interface ReadOptions {
  /** First sequence to return (default 1). */
  fromSeq?: number;
  /** Last sequence to return, inclusive (default: the end). */
  toSeq?: number;
}

export interface Subscription {
  close(): void;
}

export interface EventStore {
  /**
   * Appends atomically. Throws AppendConflictError when the run's last
   * sequence is not `expectedSeq` (unless `dedupId` was already appended, in
   * which case it returns the original result with duplicate: true). Resolves
   * only once the events are durable.
   */
  append(req: AppendRequest): Promise<AppendResult>;
  /** The run's events in order; [] when the run does not exist. */
  read(runId: string, opts?: ReadOptions): Promise<EventEnvelope[]>;
  /** The last sequence of the run, 0 when it does not exist. */
  lastSeq(runId: string): Promise<number>;
  listRuns(filter?: { workflowId?: string; status?: WorkflowStatus }): Promise<RunSummary[]>;
  /** Calls `onEvents` with each batch of events appended after `afterSeq`, by any writer. */
  follow(runId: string, afterSeq: number, onEvents: (events: EventEnvelope[]) => void): Subscription;
  close(): Promise<void>;
}
