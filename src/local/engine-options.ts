/**
 * What the in-process Engine is given (EngineOptions), and what each way of starting or driving a run takes: the start
 * (StartOptions), the drive (DriveOptions: handlers, how long to wait in-process, when to stop or drain), a retry
 * (RetryOptions). Types only, shared by the Engine's files; a start's and a retry's options and a loaded run are the
 * executor's (executor/start-options.ts), re-exported here.
 */
import type { EventStore, RunLease } from '../store/index.js';
import type { Clock } from '../executor/index.js';
import type { Handlers, RunView } from '../runtime/index.js';
import type { ChildExecutor, DriverHooks } from './driver-options.js';
import type { ChildResolver, EventEmitter } from './child-runs.js';

export interface EngineOptions extends DriverHooks {
  store: EventStore;
  clock?: Clock;
  /** Finds a SUB_WORKFLOW's or failure_workflow's definition (I/O: given by the edge). Without it, children are not found. */
  resolveChild?: ChildResolver;
  /** What an EMIT does on this store (I/O: given by the edge, e.g. `ledgerflow emit`'s admission and starts). */
  emitEvent?: EventEmitter;
  /** Performs child runs and EMITs itself instead (tests and path coverage script their outcomes); overrides resolveChild and emitEvent. */
  children?: ChildExecutor;
}

export interface DriveOptions extends DriverHooks {
  handlers: Handlers;
  /** The queues file agents serve (executor/agent-queues.ts), read once per drive: given, it is not read again. */
  agentQueues?: ReadonlySet<string>;
  /** This process's skills (`--skills`, docs/limits.md#skills): it runs attempts of tasks whose `requires:` they cover; others wait for a file agent that has them. */
  skills?: ReadonlySet<string>;
  /** Wait in-process for timers due within this many ms; return WAITING beyond it. Default 5 minutes. */
  maxTimerWaitMs?: number;
  /** Stops driving (e.g. on Ctrl-C): in-flight handlers are aborted, the log keeps what is needed to resume. */
  signal?: AbortSignal;
  /**
   * A stop by `signal` is a clean stop of this process (Ctrl-C, SIGTERM), not a crash: the attempts running here are
   * recorded as given back (task.released), so that the next drive restarts them without using up the restarts an
   * attempt that kills its process gets (runtime/restarts.ts). Without it, a stop writes nothing more, as a crash would.
   * Passed on to child runs.
   */
  releaseOnStop?: boolean;
  /** Watch the log for other writers' events (approvals, cancellations) while driving. Default true. */
  follow?: boolean;
  /** Gather the steps of in-process handlers into one commit for up to this many ms (see RunDriver). Default 0: each step is durable before its effects. */
  commitWindowMs?: number;
  /** How many parent runs the run driven has (child runs count it to catch a cycle); 0 for a top-level run. */
  depth?: number;
  /**
   * Drive until the run settles, however far its timers are and however long it waits for a person or a signal
   * (`ledgerflow serve`); maxTimerWaitMs is then ignored. Its child runs are driven the same way.
   */
  untilSettled?: boolean;
  /**
   * With untilSettled: return once the run waits on the outside world with nothing due within maxTimerWaitMs and
   * nothing running here (driver-options.ts), for the caller to park it (`serve`). Not passed on to child runs.
   */
  parkWhenIdle?: boolean;
  /**
   * The run's lease, taken by the caller (FileEventStore.leaseRun): driven under it and left held when the drive ends
   * (`serve` keeps a parked run's). Not passed on to child or admitted runs.
   */
  heldLease?: RunLease;
  /**
   * Graceful stop (`serve` on SIGTERM): once aborted, nothing new starts, the
   * attempts in flight finish and are recorded, and drive returns (the run
   * still active); `signal` then stops what has not finished. Passed on to child runs.
   */
  drain?: AbortSignal;
  /**
   * Awaited before the run's lease is released, once driving it has ended (the CLI: until the run's notification
   * deliveries have ended, so a `serve` on the store, which leaves a leased run to its driver, does not deliver them
   * again). Only where the store leases runs. Passed on to child runs.
   */
  beforeLeaseRelease?: (runId: string) => Promise<void>;
  /**
   * Told where each other run this drive took on ends: the queued runs the slots it freed admitted (`concurrency:`),
   * driven here next with the same options (`serve` says each one settled, as it says the run it drove). Not told of a
   * run another process or drive had taken first.
   */
  onAdmittedDriven?: (view: RunView) => void;
}

export type { StartOptions, RetryOptions, Loaded, LoadedRunLog } from '../executor/index.js';
