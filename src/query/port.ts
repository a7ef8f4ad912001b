/** The run index port: records of every run of a store, queried with a RunQuery. Never authoritative: the log is. */
import type { EventEnvelope } from '../events/index.js';
import type { CorruptRun, EventStore } from '../store/index.js';
import type { KeptVersion } from './cache-figures.js';
import type { RunPage } from './paging.js';
import type { RunQuery } from './query.js';
import type { RunRecord } from './record.js';
import type { VersionSeen } from './record-set.js';

export type { RunPage } from './paging.js';
export type { VersionSeen } from './record-set.js';

export interface RunIndex {
  /** Newest first; `total` counts every matching run. Corrupt runs are told to `onCorrupt` (openRunIndex) at each query. */
  query(q: RunQuery): Promise<RunPage>;
  /** One run's record, folded from its log (always current). */
  get(runId: string): Promise<RunRecord | null>;
  /** One run's record as get() gives it, kept up to date from the events followed since (a run page's stream). */
  followRecord(runId: string): RecordFollower;
  /** The runs started from `runId`: its sub-workflow children and failure workflow (parent) and its retries (retry), oldest first. */
  children(runId: string): Promise<RunRecord[]>;
  /** Every (workflow, version) recorded in the store's runs, with the newest run of each (its run.started holds the definition). */
  versions(): Promise<VersionSeen[]>;
  /** Calls `onChange` with each record that changed (a run started, moved on or settled) until closed. */
  subscribe(onChange: (r: RunRecord) => void): { close(): void };
  /**
   * A workflow's settled runs already tallied per version, and the records of its other runs, when the index keeps them
   * (the file store's cache: cache-figures.ts); null or absent: `stats` queries the records.
   */
  keptFigures?(workflowId: string): Promise<{ kept: Record<string, KeptVersion>; others: RunRecord[] } | null>;
  close(): Promise<void>;
}

/** One run's record, followed: `next` with the events that arrived (as the store's follow gives them) returns it now. */
export interface RecordFollower {
  next(events: readonly EventEnvelope[]): Promise<RunRecord | null>;
}

/** A run's log shorter than the index once recorded it (damage.ts finds it; the port's onDamaged tells it). */
export interface DamagedLog {
  runId: string;
  /** The last event the index recorded of the run, and the status it led to. */
  recordedSeq: number;
  recordedStatus: string;
  /** The last event the log holds now. */
  foundSeq: number;
  /** The index that recorded it, and the run's log file. */
  index: string;
  file: string;
}

export interface RunIndexOptions {
  /** Told about each run whose log cannot be read, at every query (the other runs are listed). */
  onCorrupt?: (run: CorruptRun) => void;
  /** Told about each run whose log is shorter than the index once recorded it (damage.ts), at every query; it is listed as its log has it. */
  onDamaged?: (run: DamagedLog) => void;
  /**
   * A long-lived reader (the dashboard): the records are kept in memory and followed (file store: `runs/` watched,
   * JetStream: a watch on the KV bucket), and a query answers from memory without looking at the store. A subscription
   * follows the same way. Default false: each query looks.
   */
  live?: boolean;
  /** How often a follower looks again for changes it was not told about (default 1000 ms). */
  pollMs?: number;
  /** File store: how often a follower stats every run file, for changes the watch and the cheap look missed (default 300 000 ms). */
  sweepMs?: number;
  /**
   * File store: told once when the index's cache (`<store>/index/runs.jsonl`) cannot be read or written (a disk full, a
   * read-only directory); queries answer from the run files all the same. Default: process.emitWarning.
   */
  onWarning?: (message: string) => void;
  /**
   * File store: told as a query starts to read many run logs at once (1,000 or more: the first read of a store, its
   * cache removed, or thousands of runs written by another process since), `read` 0, then about once a second how
   * many of how many are read. Told nothing when the cache is current. `ledgerflow list`, `stats` and the bulk verbs
   * say it on stderr.
   */
  onProgress?: (read: number, of: number) => void;
  /**
   * The store as this process reads it (encryption at rest's decorator over the one indexed): its key, if it holds
   * one, opens the events the index folds, and seals what the index keeps of a value (record-values.ts).
   */
  keysFrom?: EventStore;
  /**
   * JetStream: a folder of this reader's (the CLI's cache folder) where the start order of the runs is kept, so a first
   * page with no filter (`ledgerflow list`) reads what the bucket changed since instead of every record
   * (jetstream-kept-order.ts). Default none: every query reads every record.
   */
  pageCacheDir?: string;
}
