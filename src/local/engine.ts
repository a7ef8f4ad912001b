/**
 * The library API: start, resume, approve, reject, cancel, inspect and replay
 * runs on any EventStore. The CLI is a thin layer over this.
 */
import { failureRunId, type CompiledWorkflow } from '../compiler/index.js';
import { definitionHash, RUNNABLE_TASK_TYPES, type Definition } from '../definition/index.js';
import { ApprovalRefusedError, HandlerError, PauseRefusedError, RunCannotStartError, RunNotFoundError, SignalRefusedError, UnsupportedTaskTypeError } from '../errors/index.js';
import { SETTLED_STATUSES, markBuiltByFold, type EventEnvelope, type PendingEvent, type RunSource } from '../events/index.js';
import type { CorruptRunHandler, EventStore, RunLease, RunSummary } from '../store/index.js';
import { systemClock, type Clock, newRunId, randomHex, commitWithRetry } from '../executor/index.js';
import { RunDriver, type ChildExecutor, type DriverHooks } from './driver.js';
import { applyEvent, recordedState, rejectionReason, startFold, type RunSnapshot, missingHandlers, type Handlers, assertHandlersFor, prepareInput, compiledFor, foldEvents, replayRun, type ReplayReport, prepareCommit, reviewApproval, reviewSignal, runView, type RunView, failureChild, assertRetryable, retryPlan } from '../runtime/index.js';
import { ChildRuns, type ChildEngine, type ChildResolver, type EventEmitter } from './child-runs.js';

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

export interface StartOptions {
  /** Inputs given as strings (CLI flags) are converted to their declared types. */
  inputFromStrings?: boolean;
  /** Recorded in run.started so `resume` finds the definition's handler module again. */
  source?: RunSource;
  runId?: string;
}

export interface DriveOptions extends DriverHooks {
  handlers: Handlers;
  /** Wait in-process for timers due within this many ms; return WAITING beyond it. Default 5 minutes. */
  maxTimerWaitMs?: number;
  /** Stops driving (e.g. on Ctrl-C): in-flight handlers are aborted, the log keeps what is needed to resume. */
  signal?: AbortSignal;
  /** Watch the log for other writers' events (approvals, cancellations) while driving. Default true. */
  follow?: boolean;
  /** Gather the steps of in-process handlers into one commit for up to this many ms (see RunDriver). Default 0: each step is durable before its effects. */
  commitWindowMs?: number;
  /** How many parent runs the run driven has (child runs count it to catch a cycle); 0 for a top-level run. */
  depth?: number;
  /**
   * Drive until the run settles, however far its timers are and however long
   * it waits for a person or a signal (`ledgerflow serve`); maxTimerWaitMs is
   * then ignored. Its child runs are driven the same way.
   */
  untilSettled?: boolean;
  /**
   * Graceful stop (`serve` on SIGTERM): once aborted, nothing new starts, the
   * attempts in flight finish and are recorded, and drive returns (the run
   * still active); `signal` then stops what has not finished. Passed on to child runs.
   */
  drain?: AbortSignal;
  /**
   * Awaited before the run's lease is released, once driving it has ended
   * (the CLI: until the run's notification deliveries have ended, so a
   * `serve` on the store, which leaves a leased run to its driver, does not
   * deliver them again). Only where the store leases runs. Passed on to child runs.
   */
  beforeLeaseRelease?: (runId: string) => Promise<void>;
}

export interface RetryOptions {
  /** The new run's id (default: a new one). */
  runId?: string;
}

/** A run as the engine drives it: its compiled definition and the state after its last durable event. */
interface Loaded { compiled: CompiledWorkflow; snapshot: RunSnapshot; seq: number; source?: RunSource }
/** A run loaded from its log: its events too. */
export interface LoadedRunLog extends Loaded { events: EventEnvelope[] }

export class Engine {
  readonly store: EventStore;
  private readonly clock: Clock;
  private readonly hooks: DriverHooks;
  private readonly resolveChild: ChildResolver | undefined;
  private readonly emitEvent: EventEmitter | undefined;
  private readonly children: ChildExecutor | undefined;

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    const { store: _s, clock: _c, resolveChild, emitEvent, children, ...hooks } = opts;
    this.hooks = hooks;
    this.children = children;
    this.resolveChild = resolveChild;
    this.emitEvent = emitEvent;
  }

  /** Checks the input and records run.started; nothing runs yet. Returns the run id. */
  async start(def: Definition, rawInput: Record<string, unknown>, opts: StartOptions & { handlers?: Handlers } = {}): Promise<string> {
    return (await this.begin(def, rawInput, opts, false)).snapshot.context.runId;
  }

  /**
   * Checks the input and records run.started, with the starts of the first
   * tasks in the same commit when this process is about to run them. Returns
   * the state it recorded, so driving it needs no read-back.
   */
  private async begin(def: Definition, rawInput: Record<string, unknown>, opts: StartOptions & { handlers?: Handlers }, withStarts: boolean): Promise<Loaded & { before: RunSnapshot; startEvents: EventEnvelope[]; lease?: RunLease }> {
    // startEvents: the whole start commit, run.started first (a run that waits or settles at its start is told to onCommit too).
    const unsupported = def.tasks.find((t) => !RUNNABLE_TASK_TYPES.includes(t.type));
    if (unsupported) throw new UnsupportedTaskTypeError(unsupported.id, unsupported.type);
    const input = prepareInput(def, rawInput, { fromStrings: opts.inputFromStrings ?? false });
    if (opts.handlers) {
      const missing = missingHandlers(def.tasks, opts.handlers);
      if (missing.length > 0) {
        throw new HandlerError('LF_HANDLER_NOT_FOUND',
          `no handler for ${missing.map((m) => `task ${m.task} (named "${m.handler}")`).join(', ')}; export ${missing.length > 1 ? 'them' : 'it'} from the handler module (the \`handlers\` option, or the definition's \`handlers:\`)`,
          { missing: missing.map((m) => m.handler) });
      }
    }
    const runId = opts.runId ?? newRunId(this.clock.now());
    const hash = definitionHash(def);
    const compiled = compiledFor(def, hash);
    const time = new Date(this.clock.now()).toISOString();
    const retryOf = opts.source?.retryOf;
    const snapshot = startFold(compiled, { runId, time, input, ...(retryOf ? { retryOf } : {}) });
    // The fold threw while entering the first states (XState's 'error' status): refuse, before anything is written.
    if (snapshot.status === 'error') {
      throw new RunCannotStartError(def.id, snapshot.error instanceof Error ? snapshot.error.message : String(snapshot.error), { cause: snapshot.error });
    }
    const started: EventEnvelope = {
      runId, workflowId: def.id, version: def.version, seq: 1, time, state: recordedState(snapshot), type: 'run.started',
      data: { definition: def as unknown as Record<string, unknown>, definitionHash: hash, input, ...(opts.source ? { source: opts.source } : {}) },
    };
    // A run id we generated gets a unique dedup id, so even an id collision can never merge two runs
    // (the second start fails on the expected sequence); a given id (e.g. derived from a trigger
    // event) keeps a fixed one, so starting it again is an idempotent retry.
    const dedupId = opts.runId ? `${runId}/1/start` : `${runId}/1/start-${randomHex(6)}`;
    // A retry's reused tasks that are ready at once complete in the start commit, driven here or not:
    // they need no executor, and a HUMAN or WAIT among them would otherwise wait for a step that may never come.
    const reuses = retryOf !== undefined && Object.keys(retryOf.outputs ?? {}).length > 0;
    const first = withStarts || reuses
      ? prepareCommit(compiled, snapshot, 1, [], this.clock.now(), { startScheduled: withStarts })
      : { events: [], snapshot, seq: 1 };
    // A run this process is about to drive is leased before it exists: a `serve` scanning the store
    // meanwhile finds it driven, instead of taking it between its start and this process's lease.
    const lease = withStarts ? await this.store.leaseRun?.(runId) : undefined;
    const startEvents = markBuiltByFold([started, ...first.events]);
    try {
      await this.store.append({ runId, expectedSeq: 0, dedupId, events: startEvents });
    } catch (err) {
      await lease?.release();
      throw err;
    }
    return { compiled, snapshot: first.snapshot, seq: first.seq, before: snapshot, startEvents, ...(opts.source ? { source: opts.source } : {}), ...(lease ? { lease } : {}) };
  }

  /**
   * Retry from failed: records the start of a new run of the definition and
   * input the FAILED or CANCELLED run `runId` recorded in its run.started
   * (never the file on disk), with `source.retryOf` naming it and the outputs
   * the new run reuses (retry.ts); nothing runs yet (`runRetry` drives it).
   * Returns the new run's id. Any other run is refused with RetryRefusedError.
   */
  async retry(runId: string, opts: RetryOptions = {}): Promise<string> {
    const loaded = await this.beginRetry(runId, opts, false);
    // Its reused completions are the run's first step, committed here: the hooks (metrics: a run started) see it, as in runRetry.
    if (loaded.startEvents.length > 0) this.hooks.onCommit?.(loaded.startEvents, loaded.before, loaded.snapshot, loaded.compiled.definition);
    return loaded.snapshot.context.runId;
  }

  /** `retry`, then drives the new run here as `run` does; `onStarted` is told its id once its start is durable. */
  async runRetry(runId: string, opts: DriveOptions & RetryOptions & { onStarted?: (runId: string) => void }): Promise<RunView> {
    const loaded = await this.beginRetry(runId, opts, true);
    opts.onStarted?.(loaded.snapshot.context.runId);
    const hooks = { ...this.hooks, ...opts };
    // The start commit, run.started included; its `before` is the state run.started made (there is none before it).
    hooks.onCommit?.(loaded.startEvents, loaded.before, loaded.snapshot, loaded.compiled.definition);
    return this.driveLoaded(loaded, opts, true, loaded.lease);
  }

  private async beginRetry(runId: string, opts: RetryOptions & { handlers?: Handlers }, withStarts: boolean) {
    const old = await this.load(runId);
    assertRetryable(runId, old.snapshot);
    const first = old.events[0]!;
    if (first.type !== 'run.started') throw new Error(`run ${runId} does not begin with run.started`);
    // Where the old run's definition and handlers came from (resume finds them again); no parent, event or schedule: a person started this one.
    const { file, handlers } = old.source ?? {};
    const source: RunSource = { ...(file ? { file } : {}), ...(handlers ? { handlers } : {}), retryOf: { runId, outputs: retryPlan(old.compiled, old.snapshot) } };
    return this.begin(old.compiled.definition, first.data.input, {
      source, ...(opts.runId ? { runId: opts.runId } : {}), ...(opts.handlers ? { handlers: opts.handlers } : {}),
    }, withStarts);
  }

  async events(runId: string): Promise<EventEnvelope[]> {
    const events = await this.store.read(runId);
    if (events.length === 0) throw new RunNotFoundError(runId);
    return events;
  }

  /** A run folded from its log once: drive it (`drive`) or show it without reading it again. */
  async load(runId: string): Promise<LoadedRunLog> {
    const events = await this.events(runId);
    const first = events[0]!;
    const source = first.type === 'run.started' ? first.data.source : undefined;
    return { ...foldEvents(events), events, ...(source ? { source } : {}) };
  }

  async status(runId: string): Promise<RunView> {
    const { compiled, snapshot, seq, source } = await this.load(runId);
    const view = runView(snapshot, seq, compiled.definition);
    const failure = snapshot.context.error && snapshot.status !== 'active' && (await this.store.lastSeq(failureRunId(runId))) > 0 ? failureRunId(runId) : undefined;
    return {
      ...view, ...(source?.parent ? { parent: source.parent } : {}), ...(source?.schedule ? { schedule: source.schedule } : {}),
      ...(source?.retryOf ? { retryOf: { runId: source.retryOf.runId, reused: Object.keys(source.retryOf.outputs ?? {}) } } : {}), ...(failure ? { failureRun: failure } : {}),
    };
  }

  /** Runs until the run settles or waits on the outside world; returns its state then. Give what `load` returned to not read the log again. */
  async drive(run: string | LoadedRunLog, opts: DriveOptions): Promise<RunView> {
    return this.driveLoaded(typeof run === 'string' ? await this.load(run) : run, opts);
  }

  /**
   * The failure workflow run (`<runId>-failure`) a run that settled FAILED
   * should have started but has not: the process that recorded the failure
   * died before starting it. Null for any other run, and once that run exists.
   */
  async pendingFailureRun(loaded: { compiled: CompiledWorkflow; snapshot: RunSnapshot }): Promise<{ runId: string; workflow: string } | null> {
    const failure = failureChild(loaded.compiled, loaded.snapshot);
    if (!failure || (await this.store.lastSeq(failure.childRunId)) > 0) return null;
    return { runId: failure.childRunId, workflow: failure.workflow };
  }

  /** Drives a run as its only driver where the store can see to that (leaseRun: the file store). */
  private async driveLoaded(loaded: Loaded, opts: DriveOptions, justStarted = false, held?: RunLease): Promise<RunView> {
    // A settled run is driven again only to start a failure workflow it has not started (the driver's
    // reconcile of a FAILED state asks for it, once by its run id); otherwise there is nothing to do.
    const runId = loaded.snapshot.context.runId;
    if (loaded.snapshot.status !== 'active' && !(await this.pendingFailureRun(loaded))) {
      await releaseAfter(held, opts, runId);
      return runView(loaded.snapshot, loaded.seq, loaded.compiled.definition);
    }
    const lease = held ?? await this.store.leaseRun?.(runId); // throws RunBusyError while another process drives it
    try {
      // A driver that held the run until now may have moved it on since it was loaded: drive it as it is now.
      // (A run this engine has just started has had no other driver: nothing to read back then.)
      const current = lease && !justStarted && (await this.store.lastSeq(runId)) !== loaded.seq ? { ...await this.load(runId), ...(loaded.source ? { source: loaded.source } : {}) } : loaded;
      // A run started elsewhere may need handlers this process lacks: refused before anything is written (a run started here was checked then).
      if (!justStarted && !this.children) assertHandlersFor(current.compiled, current.snapshot, opts.handlers);
      // Attempts in flight in a run loaded from its log were lost with the process that ran them: they run again.
      return await this.driveLeased(current, { ...opts, restartInFlight: !justStarted });
    } finally {
      await releaseAfter(lease, opts, runId);
    }
  }

  private async driveLeased({ compiled, snapshot, seq, source }: Loaded, opts: DriveOptions & { restartInFlight: boolean }): Promise<RunView> {
    if (snapshot.status !== 'active' && !(await this.pendingFailureRun({ compiled, snapshot }))) return runView(snapshot, seq, compiled.definition);
    const children = this.children ?? this.childRuns(opts, source);
    const driver = new RunDriver({ ...this.hooks, ...opts, store: this.store, compiled, snapshot, seq, clock: this.clock, children, ...(source?.file ? { definitionFile: source.file } : {}) });
    const stop = () => driver.stop();
    const drain = () => driver.drain();
    opts.signal?.addEventListener('abort', stop);
    opts.drain?.addEventListener('abort', drain);
    driver.start();
    if (opts.drain?.aborted) driver.drain();
    try {
      const final = await driver.waitUntilIdle(opts.maxTimerWaitMs ?? 5 * 60_000);
      return runView(final, driver.lastSeq, compiled.definition);
    } finally {
      opts.signal?.removeEventListener('abort', stop);
      opts.drain?.removeEventListener('abort', drain);
      driver.stop();
    }
  }

  /** The executor of a driven run's child runs and EMITs: on this store, with the run's handlers, children looked for beside its file. */
  private childRuns(opts: DriveOptions, source: RunSource | undefined): ChildRuns {
    const engine: ChildEngine = {
      start: (def, input, o) => this.start(def, input, o),
      drive: (runId, o) => this.drive(runId, {
        ...o, ...(opts.commitWindowMs !== undefined ? { commitWindowMs: opts.commitWindowMs } : {}), ...(opts.follow !== undefined ? { follow: opts.follow } : {}),
        ...(opts.untilSettled ? { untilSettled: true } : {}), ...(opts.drain ? { drain: opts.drain } : {}),
        ...(opts.beforeLeaseRelease ? { beforeLeaseRelease: opts.beforeLeaseRelease } : {}),
      }),
      cancel: (runId, o) => this.cancel(runId, o),
      status: (runId) => this.status(runId),
      runExists: async (runId) => (await this.store.lastSeq(runId)) > 0,
    };
    return new ChildRuns({
      // A child resumed on its own still counts the runs above it (recorded in its run.started).
      engine, handlers: opts.handlers, depth: opts.depth ?? source?.parent?.depth ?? (source?.parent ? 1 : 0),
      ...(this.resolveChild ? { resolveChild: this.resolveChild } : {}), ...(this.emitEvent ? { emitEvent: this.emitEvent } : {}),
      ...(source?.file ? { parentFile: source.file } : {}), ...(opts.maxTimerWaitMs !== undefined ? { maxTimerWaitMs: opts.maxTimerWaitMs } : {}),
    });
  }

  /**
   * Starts a run and drives it here: the first tasks' starts go into the start
   * commit, and nothing is read back. `onStarted` is told the run id once
   * run.started is durable, before anything runs (the CLI prints it then).
   */
  async run(def: Definition, input: Record<string, unknown>, opts: DriveOptions & StartOptions & { onStarted?: (runId: string) => void }): Promise<RunView> {
    const loaded = await this.begin(def, input, opts, true);
    opts.onStarted?.(loaded.snapshot.context.runId);
    const hooks = { ...this.hooks, ...opts };
    // The start commit, run.started included; its `before` is the state run.started made (there is none before it).
    hooks.onCommit?.(loaded.startEvents, loaded.before, loaded.snapshot, loaded.compiled.definition);
    return this.driveLoaded(loaded, opts, true, loaded.lease);
  }

  /**
   * Appends one outside event (approval, cancellation) if the run accepts it,
   * retrying on a concurrent append. Returns null when the run does not accept it, with the reason.
   */
  private async record(runId: string, make: (snap: RunSnapshot, compiled: CompiledWorkflow) => PendingEvent | null): Promise<{ view: RunView; refused: string | null }> {
    return commitWithRetry(runId, async () => {
      const { compiled, snapshot, seq } = await this.load(runId);
      const ev = make(snapshot, compiled);
      // Refused before anything is written (make said why).
      if (ev === null) return { view: runView(snapshot, seq), refused: 'refused' };
      const r = applyEvent(compiled, snapshot, ev);
      if (!r.accepted) return { view: runView(snapshot, seq, compiled.definition), refused: rejectionReason(snapshot, ev) };
      const ctx = r.snapshot.context;
      // Not marked as built by the fold: its fields come from a library caller (who, why), so the store parses it.
      const env = { ...ev, runId, workflowId: ctx.workflowId, version: ctx.version, seq: seq + 1, state: recordedState(r.snapshot) } as EventEnvelope;
      await this.store.append({ runId, expectedSeq: seq, dedupId: `${runId}/${seq + 1}/${randomHex(6)}`, events: [env] });
      return { view: runView(r.snapshot, seq + 1, compiled.definition), refused: null };
    });
  }

  /**
   * Records an approval or rejection of a HUMAN task; a running engine or a
   * later resume acts on it. A decision the rule refuses (reviewApproval) is
   * recorded as `approval.refused` for the audit trail, as engines on NATS do,
   * and then thrown as an ApprovalRefusedError.
   */
  async decide(runId: string, taskId: string, decision: 'approved' | 'rejected', by: string, comment?: string, opts: { unauthenticated?: boolean } = {}): Promise<RunView> {
    const time = new Date(this.clock.now()).toISOString();
    let refused: string | null = null;
    let notApprover = false;
    let kept = true;
    const { view } = await this.record(runId, (snap, compiled) => {
      const review = reviewApproval(compiled, snap, { taskId, decision, by, time, ...(comment !== undefined ? { comment } : {}), ...(opts.unauthenticated ? { unauthenticated: true } : {}) });
      refused = review.accepted ? null : review.reason;
      notApprover = !review.accepted && review.notApprover === true;
      // A decision naming no HUMAN task of the run (a typo) has no place in its audit trail: refused, nothing written.
      kept = review.event !== null;
      return review.event;
    });
    if (refused !== null) {
      throw new ApprovalRefusedError(`cannot record ${decision === 'approved' ? 'approval' : 'rejection'} of ${taskId}: ${refused}${kept ? " (the refusal is kept in the run's history)" : '; nothing was recorded'}`, { runId, taskId, by, ...(notApprover ? { notApprover: true } : {}) });
    }
    return view;
  }

  /**
   * Records a signal for the run's WAITs on `name` (reviewSignal); a running
   * engine or a later resume acts on it. A signal no WAIT would take is
   * refused with the reason (SignalRefusedError) and nothing is recorded.
   */
  async signal(runId: string, name: string, opts: { data?: unknown; by?: string; unauthenticated?: boolean } = {}): Promise<RunView> {
    const time = new Date(this.clock.now()).toISOString();
    const req = { name, time, ...(opts.data !== undefined ? { data: opts.data } : {}), ...(opts.by !== undefined ? { by: opts.by } : {}), ...(opts.unauthenticated ? { unauthenticated: true } : {}) };
    const refuse = (why: string) => new SignalRefusedError(`cannot signal "${name}" to run ${runId}: ${why}; nothing was recorded`, { runId, name });
    return commitWithRetry(runId, async () => {
      let loaded: LoadedRunLog;
      try {
        loaded = await this.load(runId);
      } catch (err) {
        if (err instanceof RunNotFoundError) throw refuse(err.message);
        throw err;
      }
      const { compiled, snapshot, seq } = loaded;
      const review = reviewSignal(compiled, snapshot, req);
      if (!review.accepted) throw refuse(review.reason);
      const ctx = review.snapshot.context;
      // Not marked as built by the fold: its data comes from outside, so the store parses it.
      const env = { ...review.event, runId, workflowId: ctx.workflowId, version: ctx.version, seq: seq + 1, state: recordedState(review.snapshot) } as EventEnvelope;
      await this.store.append({ runId, expectedSeq: seq, dedupId: `${runId}/${seq + 1}/${randomHex(6)}`, events: [env] });
      return runView(review.snapshot, seq + 1, compiled.definition);
    });
  }

  /** Cancels a run that has not settled. `changed` is false (and nothing is written) when it already had. */
  async cancel(runId: string, opts: { by?: string; reason?: string; unauthenticated?: true } = {}): Promise<{ changed: boolean; view: RunView }> {
    const time = new Date(this.clock.now()).toISOString();
    const { view, refused } = await this.record(runId, () => ({ type: 'run.cancelled', time, data: { ...opts } }));
    return { changed: refused === null, view };
  }

  /**
   * Pauses a run (run.paused): no new attempt starts until it is resumed;
   * running ones finish and are recorded. A settled or already paused run is
   * refused with PauseRefusedError, and nothing is recorded.
   */
  async pause(runId: string, opts: { by?: string; reason?: string; unauthenticated?: true } = {}): Promise<RunView> {
    const time = new Date(this.clock.now()).toISOString();
    const data = { ...(opts.by ? { by: opts.by } : {}), ...(opts.reason !== undefined ? { reason: opts.reason } : {}), ...(opts.unauthenticated ? { unauthenticated: true as const } : {}) };
    const { view, refused } = await this.record(runId, () => ({ type: 'run.paused', time, data }));
    if (refused !== null) throw new PauseRefusedError(`cannot pause run ${runId}: ${refused}; nothing was recorded`, { runId, status: view.status });
    return view;
  }

  /**
   * Un-pauses a paused run (run.resumed): the next commit starts every task
   * scheduled meanwhile. `changed` is false (nothing written) when the run
   * was not paused.
   */
  async unpause(runId: string, opts: { by?: string; unauthenticated?: true } = {}): Promise<{ changed: boolean; view: RunView }> {
    const time = new Date(this.clock.now()).toISOString();
    const { view, refused } = await this.record(runId, () => ({ type: 'run.resumed', time, data: { ...(opts.by ? { by: opts.by } : {}), ...(opts.unauthenticated ? { unauthenticated: true as const } : {}) } }));
    return { changed: refused === null, view };
  }

  async replay(runId: string, opts: { to?: number; candidate?: Definition } = {}): Promise<ReplayReport> {
    return this.withTorn(replayRun(await this.events(runId), opts));
  }

  /** Adds to a report the torn lines the store once cut from the run's log, if it keeps such things. */
  private async withTorn(report: ReplayReport): Promise<ReplayReport> {
    const torn = await this.store.tornTail?.(report.runId);
    return torn ? { ...report, torn } : report;
  }

  /**
   * Replays every recorded run (of `workflowId` only, with that filter), one
   * report per run, in the store's order; with a candidate definition, each
   * report also says whether it could take over that run. The store reads
   * its log in one pass where it can (JetStream), so this scales with the
   * log, not with a request per run. With `onCorrupt`, a run whose log cannot
   * be read is reported there and the others replayed.
   */
  async *replayAll(opts: { workflowId?: string; candidate?: Definition } & CorruptRunHandler = {}): AsyncIterable<ReplayReport> {
    const filter = { ...(opts.workflowId !== undefined ? { workflowId: opts.workflowId } : {}), ...(opts.onCorrupt ? { onCorrupt: opts.onCorrupt } : {}) };
    for await (const { events } of this.store.readAll(filter)) {
      yield await this.withTorn(replayRun(events, opts.candidate ? { candidate: opts.candidate } : {}));
    }
  }

  /** With `onCorrupt`, a run whose log cannot be read is reported there and the others listed; without it, it throws. */
  async list(filter: { workflowId?: string; status?: RunSummary['status'] } & CorruptRunHandler = {}): Promise<RunSummary[]> {
    return this.store.listRuns(filter);
  }
}

/** Releases a run's lease once the driver's `beforeLeaseRelease` has resolved (released however that ends). */
async function releaseAfter(lease: RunLease | undefined, opts: DriveOptions, runId: string): Promise<void> {
  if (!lease) return;
  try {
    await opts.beforeLeaseRelease?.(runId);
  } finally {
    await lease.release();
  }
}

