/**
 * What a start and a retry take (StartOptions, RetryOptions), and a run as an executor holds it (Loaded: its compiled
 * definition and state; LoadedRunLog: with its events). Types only, shared by both executors.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import type { EventEnvelope, RunSource } from '../events/index.js';
import type { Handlers, RunSnapshot } from '../runtime/index.js';

export interface StartOptions {
  /** Inputs given as strings (CLI flags) are converted to their declared types. */
  inputFromStrings?: boolean;
  /** Recorded in run.started so `resume` finds the definition's handler module again. */
  source?: RunSource;
  /**
   * `start`: exactly this id, started once (the ids the engine derives: a child's, a trigger's); a
   * start of an id that has a run writes nothing more. `run` and `startRun`: a caller-chosen id
   * (caller-start.ts), whose second start returns the run that has it.
   */
  runId?: string;
  /** Overrides the workflow's `priority:` (0..99, checked: checkPriority) for this start's place in the concurrency queue. */
  priority?: number;
}

export interface RetryOptions {
  /** The new run's id (default: a new one). */
  runId?: string;
  /** Who asked for it, when not the process recording it (run.started's source.by: a person's retry over NATS). */
  by?: string;
  /** A fork instead of a retry: from any run, at a point, with inputs changed (runtime/fork.ts). */
  fork?: ForkOptions;
  /**
   * The handlers the caller will drive the new run with: one lacking a handler for a task it will run (not reused) is
   * refused before anything is written (LF_HANDLER_NOT_FOUND). Absent: not checked (a serve or the engines drive it).
   */
  handlers?: Handlers;
  /** The queues file agents serve (executor/agent-queues.ts): their tasks need no handler here. */
  agentQueues?: ReadonlySet<string>;
}

/** A fork of a run (docs/runs.md#forking-a-run): where it branches off, and what it changes. */
export interface ForkOptions {
  /** A task id (just before it first started) or an event's sequence number (after it). */
  at: string;
  /** Inputs changed; the others are the original's. */
  input?: Record<string, unknown>;
  /** The changed inputs are given as text (CLI flags), converted to the declared types. */
  inputFromStrings?: boolean;
  /** Another definition to go on under (default: the one the original run recorded), and where it came from. */
  definition?: Definition;
  source?: { file?: string; handlers?: string };
  /** Who forked it (run.forked's `by`): the name given or proven; `by` of RetryOptions only where it was proven. */
  by?: string;
}

/** A run as the engine drives it: its compiled definition and the state after its last durable event. */
export interface Loaded {
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
  seq: number;
  source?: RunSource;
  /** A run just started here: `compiled` bound to the stored limits its start read (its drive reads them no second time). */
  limited?: CompiledWorkflow;
}
/** A run loaded from its log: its events too. */
export interface LoadedRunLog extends Loaded {
  events: EventEnvelope[];
}
