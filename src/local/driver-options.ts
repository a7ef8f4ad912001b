/**
 * What a RunDriver is given: the run (its compiled definition, state and sequence), the store and clock, the in-process
 * handlers, the hooks the edge listens on, and the executor of child runs and EMITs. Types only, so the driver's parts
 * (driver.ts, in-process-attempts.ts) and child-runs.ts read them without importing each other.
 */
import type { SecretsProvider } from '../secrets/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import type { EventEnvelope, PendingEvent } from '../events/index.js';
import type { ChildOutcome, ChildRef } from '../executor/index.js';
import type { EventStore } from '../store/index.js';
import type { ProgressChannel } from '../progress/index.js';
import type { Clock } from '../executor/index.js';
import type {
  RunSnapshot,
  EmitEvent,
  StartChild,
  Handlers,
  CommandRunner,
  HttpRunner,
  FailureStepRunner,
} from '../runtime/index.js';
import type { Definition } from '../definition/index.js';

/** What runs a TRANSFORM attempt: its jq program (or js script), its resolved input, and which attempt it is. */
export type TransformRunner = (
  program: string,
  input: Record<string, unknown>,
  ctx: { taskId: string; attempt: number; iteration?: number; item?: number; signal: AbortSignal },
) => Promise<unknown>;

export interface DriverHooks {
  /**
   * After each durable commit, with the state before and after it, and the run's definition (its notification rules, say).
   * A run's start commit (Engine.run, runRetry) comes with run.started first and, as `before`, the state run.started made.
   */
  onCommit?: (events: EventEnvelope[], before: RunSnapshot, after: RunSnapshot, definition: Definition) => void;
  /** An input that no longer applies (a late result after a timeout, a raced approval). */
  onStale?: (event: PendingEvent, reason: string) => void;
  onLog?: (taskId: string, message: string) => void;
  /** Where the live progress of attempts run here goes (docs/handlers.md#progress); without it only each outcome keeps its last value. */
  progress?: ProgressChannel;
  /** Writes a task's output where `output_to` says (an effect, so it lives at the edge). */
  writeOutput?: (path: string, output: unknown) => Promise<void>;
  /** Runs a COMMAND task's program (an effect at the edge: src/handlers/command.ts). Without it COMMAND attempts fail (LF_COMMAND_UNAVAILABLE). */
  runCommand?: CommandRunner;
  /** Sends an HTTP task's request (an effect at the edge: src/handlers/http.ts). Without it HTTP attempts fail (LF_HTTP_UNAVAILABLE). */
  runHttp?: HttpRunner;
  /** Runs a TRANSFORM task's jq or script over its input (default: jq or QuickJS itself, src/transform/); the coverage harness scripts its answers. */
  runTransform?: TransformRunner;
  /** Performs the built-in failure steps (log_to_incident, notify_commander, preserve_state: src/incidents). Without it their attempts fail. */
  failureSteps?: FailureStepRunner;
  /**
   * Where `${secrets.NAME}` values come from when an attempt starts (src/secrets). Default: the file
   * LEDGERFLOW_SECRETS_FILE names, if set, then LEDGERFLOW_SECRET_<NAME> of the environment.
   */
  secrets?: SecretsProvider;
}

/**
 * Performs what the executor does itself (the Engine gives one, with a definition resolver and an emitter from the
 * edge): start and drive a child run, emit an event. The signal fires when the attempt is no longer wanted;
 * `cancelled()` then says whether the child run should be cancelled too (the parent's attempt was aborted) or just left
 * (this process stops).
 */
/**
 * What a child's start is told of the attempt that asked for it: its abort signal, whether it was cancelled, and for a
 * child it does not wait for (`wait: false`), how to count the child's drive as the driver's side work.
 */
export interface ChildControl {
  signal: AbortSignal;
  cancelled: () => boolean;
  detached?: { began(): void; ended(): void };
}

export interface ChildExecutor {
  startChild(effect: StartChild, control: ChildControl): Promise<ChildOutcome>;
  emit(effect: EmitEvent, control: { signal: AbortSignal }): Promise<unknown>;
  /** Cancels the child run of a parent attempt no longer wanted, `why` (nothing when it never started or has settled). */
  cancel?(child: ChildRef, why: string): Promise<void>;
}

export interface DriverOptions extends DriverHooks {
  store: EventStore;
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
  seq: number;
  handlers: Handlers;
  clock: Clock;
  /** Watch the store for other writers (default true); without it, conflicts still catch up on append. */
  follow?: boolean;
  /**
   * 0 (default): every step is durable before its effects start (write-ahead).
   * > 0: steps gather in one commit for up to this many ms while in-process handlers keep finishing (see above).
   */
  commitWindowMs?: number;
  /**
   * The attempts the state has in flight were lost with the process that ran them (this is a resume): record their
   * restarts (task.restarted) and run them again, their timeouts counted from now. Without it (a run this process has
   * just started) they are this driver's to start.
   */
  restartInFlight?: boolean;
  /**
   * A stop by the caller is a clean one (Ctrl-C, SIGTERM, a `serve`'s grace run out), not a crash: the attempts running
   * here are recorded as given back (task.released) before the driver ends, and their restarts are not counted as
   * losses (runtime/restarts.ts). Without it a stop writes nothing more, as a crash would.
   */
  releaseOnStop?: boolean;
  /**
   * With restartInFlight: the attempts in flight (by instance key) whose child run exists. Re-attached to their
   * child however often they were lost, never failed with LF_ATTEMPT_LOST (runtime/restarts.ts, reattach).
   */
  childRunsStarted?: ReadonlySet<string>;
  /** Child runs and EMIT; without it, such attempts fail (LF_SUBWORKFLOW_NOT_FOUND, LF_EMIT_UNAVAILABLE). */
  children?: ChildExecutor;
  /**
   * Keep driving until the run settles (a long-running service): waitUntilIdle does not resolve while the run waits on
   * timers, approvals or signals, only once it settles, is drained (drain()) or stopped.
   */
  untilSettled?: boolean;
  /**
   * With untilSettled (`serve`): idle all the same once nothing runs or waits here and nothing is due within
   * maxTimerWaitMs: no attempt, child run or gate wait in flight, the run not QUEUED. The caller parks it (its lease
   * kept, its log followed, woken at its next timer) instead of holding a driver per waiting run.
   */
  parkWhenIdle?: boolean;
  /** The run's definition file (recorded in run.started), for COMMAND tasks' default working directory. */
  definitionFile?: string;
  /** Queues file agents serve (executor/agent-queues.ts): their tasks' attempts are held for an agent, not run here. */
  agentQueues?: ReadonlySet<string>;
  /** This process's skills: attempts of a task whose `requires:` they do not cover are not run here (docs/limits.md#skills). */
  skills?: ReadonlySet<string>;
}
