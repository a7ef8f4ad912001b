/** What a ClusterEngine is given (`ledgerflow engine`'s flags, or a program's options). */
import type { Level } from '../../authority/index.js';
import type { EventEnvelope } from '../../events/index.js';
import type { NotificationsConfig } from '../../notify/index.js';
import type { RunSnapshot } from '../../runtime/index.js';
import type { JetStreamSnapshotOptions, JetStreamStoreOptions } from '../../store/index.js';
import type { EventTypeSpec } from '../../triggers/index.js';
import type { ClusterSettings } from '../transport/index.js';
import type { LocalWorker } from './local-attempts.js';

export interface ClusterEngineOptions {
  /**
   * Who is who (docs/users.md): a sender's level for the approval and control rules. A NATS user the file does not
   * name, or any sender on a server without users (names unproven), is judged a Worker (L3).
   */
  users?: ReadonlyMap<string, { level: Level; domains?: readonly string[] }>;
  /** The folder whose .3ox/ the built-in failure steps write incidents/ and preserved/ into (default: the working folder). */
  projectDir?: string;
  nats: string | JetStreamStoreOptions;
  settings?: ClusterSettings;
  /** Event type schemas for triggers (events/<type>.yaml). */
  eventTypes?: Map<string, EventTypeSpec>;
  /** Runs processed at once by this engine (different runs; one run is always processed by one step at a time here). */
  concurrency?: number;
  log?: (line: string) => void;
  now?: () => number;
  /**
   * Snapshots of long runs in a KV bucket: one is written each time a run's log crosses a multiple of `every` events
   * (default 1000; 0 turns them off), and an engine that loads a run it has not cached starts from it.
   */
  snapshots?: JetStreamSnapshotOptions & { every?: number };
  /**
   * Schedule triggers of the deployed definitions: every `tickMs` (default 1000) the engine fires the slots due at
   * `now()` (src/triggers/scheduler.ts), claiming each in KV LF_SCHEDULES, so however many engines run a slot starts
   * one run. `graceMs`: how late a slot may be and still be on time (older ones are missed and catch_up decides);
   * `false`: this engine fires none.
   */
  schedules?: false | { tickMs?: number; graceMs?: number; claimTimeoutMs?: number };
  /**
   * After each commit this engine appended, with the run's state before and after it (the
   * embedded driver's DriverHooks.onCommit): metrics (src/metrics) count each commit once
   * across engines this way. Called synchronously; it must not throw.
   */
  onCommit?: (events: EventEnvelope[], before: RunSnapshot, after: RunSnapshot) => void;
  /** Told each notification note this engine appends (metrics: `LedgerflowMetrics.hooks.onNoted`). */
  onNoted?: (events: EventEnvelope[]) => void;
  /** The run index projection (KV LF_RUNS_INDEX, src/query): every engine runs it unless `false`. */
  runIndex?: false;
  /** Global notification rules and delivery settings (`--notifications`); each definition's own rules apply anyway. */
  notifications?: Pick<NotificationsConfig, 'rules' | 'delivery'>;
  /** How long stop() lets the messages in hand finish before handing them back (default 10 s). */
  stopGraceMs?: number;
  /** How often this engine looks for queued runs a lost engine left without admission (admissions.ts; default 30 s, and once at start). */
  admissionSweepMs?: number;
  /**
   * Offer each attempt straight to an idle worker before queueing it (direct-dispatch.ts). On by default; `false` puts
   * every attempt on its queue's stream (docs/architecture-notes.md#the-cluster-path-engine-to-worker-to-engine).
   */
  directDispatch?: boolean;
  /**
   * The process's own worker (`engine --handlers`): attempts of its handlers this engine starts are run here and their
   * outcomes committed directly, with no offer or report over NATS (local-attempts.ts). Needs directDispatch (its custody).
   */
  local?: LocalWorker;
}

export const DEFAULT_SNAPSHOT_EVERY = 1000;
