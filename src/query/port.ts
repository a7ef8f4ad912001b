/** The run index port: records of every run of a store, queried with a RunQuery. Never authoritative: the log is. */
import type { CorruptRun } from '../store/index.js';
import type { RunPage, RunQuery } from './query.js';
import type { RunRecord } from './record.js';

export type { RunPage } from './query.js';

export interface RunIndex {
  /** Newest first; `total` counts every matching run. Corrupt runs are told to `onCorrupt` (openRunIndex) at each query. */
  query(q: RunQuery): Promise<RunPage>;
  get(runId: string): Promise<RunRecord | null>;
  /** Calls `onChange` with each record that changed (a run started, moved on or settled) until closed. */
  subscribe(onChange: (r: RunRecord) => void): { close(): void };
  close(): Promise<void>;
}

export interface RunIndexOptions {
  /** Told about each run whose log cannot be read, at every query (the other runs are listed). */
  onCorrupt?: (run: CorruptRun) => void;
  /** How often a subscription looks again when nothing told it of a change (default 1000 ms). */
  pollMs?: number;
}
