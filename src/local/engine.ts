/**
 * The library API: start, resume, approve, reject, cancel, inspect and replay runs on any EventStore. The CLI is a thin
 * layer over this.
 *
 * This file is the Engine's public face and how it drives a run here (a lease, a RunDriver: drive-run.ts, the run's
 * child runs: engine-children.ts). The commits from outside a run's rounds — a start, a retry, a person's input, the
 * admissions they free — are the executor's (executor/run-commits.ts), written the same way on NATS.
 */
import type { Level } from '../authority/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import type { EventEnvelope } from '../events/index.js';
import type { CorruptRunHandler, EventStore, RunLease, RunSummary } from '../store/index.js';
import type { ProgressChannel } from '../progress/index.js';
import { storeProgress, sweptIfSettled } from './store-progress.js';
import {
  readAgentQueues,
  withChildrenShown,
  RunCommits,
  type CallerIdOptions,
  type Clock,
  type StartedUnderId,
} from '../executor/index.js';
import { readLimits } from '../limits/index.js';
import { RunDriver } from './driver.js';
import { driveToIdle, releaseAfter } from './drive-run.js';
import { childRunsFor, childRunsStartedIn, pendingFailureRunIn } from './engine-children.js';
import { replayAllRuns, replayChecked } from './engine-replay.js';
import type { ChildExecutor, DriverHooks } from './driver-options.js';
import {
  type RunSnapshot,
  type Handlers,
  assertHandlersFor,
  type ReplayReport,
  runView,
  type RunView,
} from '../runtime/index.js';
import type { ChildResolver, EventEmitter } from './child-runs.js';
import type {
  DriveOptions,
  EngineOptions,
  Loaded,
  LoadedRunLog,
  RetryOptions,
  StartOptions,
} from './engine-options.js';

export type { DriveOptions, EngineOptions, LoadedRunLog, RetryOptions, StartOptions } from './engine-options.js';
export type { CallerIdOptions } from '../executor/index.js';

/** What a start under a caller-chosen id returns: the run started, or (`existing: true`) the run that already had the id. */
export type StartedRun = StartedUnderId;

export class Engine {
  readonly store: EventStore;
  /** The time its drivers go by (`serve` wakes a parked run by it too). */
  readonly clock: Clock;
  private readonly hooks: DriverHooks;
  private readonly resolveChild: ChildResolver | undefined;
  private readonly emitEvent: EventEmitter | undefined;
  private readonly children: ChildExecutor | undefined;
  /**
   * The commits from outside a run's rounds (executor/run-commits.ts): starts, retries, a person's input (`signal`,
   * `pause`, `unpause`; `decide` and `cancel` here too), an agent's outcome (`recordOutcome`), the admissions they
   * free (`takeAdmitted`), a loaded run's status (`statusOf`).
   */
  readonly commits: RunCommits;
  /** Where the live progress of attempts run here goes, and readers on this store read it (docs/handlers.md#progress). */
  readonly progress: ProgressChannel | undefined;

  constructor(opts: EngineOptions) {
    const { store, clock, resolveChild, emitEvent, children, ...hooks } = opts;
    this.commits = new RunCommits({ store, ...(clock ? { clock } : {}) });
    this.store = store;
    this.clock = this.commits.clock;
    // A file store given as it is (the library's use): its attempts' progress goes under its folder, as the CLI's does.
    this.progress = hooks.progress ?? storeProgress(store);
    this.hooks = this.progress ? { ...hooks, progress: this.progress } : hooks;
    this.children = children;
    this.resolveChild = resolveChild;
    this.emitEvent = emitEvent;
  }

  /** Checks the input and records run.started; nothing runs yet. Returns the run id. */
  async start(
    def: Definition,
    rawInput: Record<string, unknown>,
    opts: StartOptions & { handlers?: Handlers } = {},
  ): Promise<string> {
    // Tasks on a queue file agents serve need no handler (executor/agent-queues.ts).
    return this.commits.start(
      def,
      rawInput,
      opts.handlers ? { ...opts, agentQueues: await readAgentQueues(this.store) } : opts,
    );
  }

  /**
   * `start` under a caller-chosen id (`opts.runId`, checked: 1-100 of A-Z a-z 0-9 _ -): a second start of the id
   * returns the run that has it (`existing: true`) instead of starting another, also when two starts race; `idReuse`
   * (or the workflow's `id_reuse:`) says when a settled run's id may start a new one (`<id>--2`, …).
   * docs/runs.md#caller-chosen-run-ids.
   */
  async startRun(
    def: Definition,
    rawInput: Record<string, unknown>,
    opts: StartOptions & CallerIdOptions & { handlers?: Handlers },
  ): Promise<StartedRun> {
    return this.commits.startRun(
      def,
      rawInput,
      opts.handlers ? { ...opts, agentQueues: await readAgentQueues(this.store) } : opts,
    );
  }

  /**
   * Retry from failed: records the start of a new run of the definition and input the FAILED or CANCELLED run `runId`
   * recorded in its run.started (never the file on disk), with `source.retryOf` naming it and the outputs the new run
   * reuses (retry.ts); nothing runs yet (`runRetry` drives it). Returns the new run's id. Any other run is refused with
   * RetryRefusedError.
   */
  async retry(runId: string, opts: RetryOptions = {}): Promise<string> {
    const loaded = await this.commits.beginRetry(runId, opts, false);
    // Its reused completions are the run's first step, committed here: the hooks (metrics: a run started) see it, as in runRetry.
    if (loaded.startEvents.length > 0)
      this.hooks.onCommit?.(loaded.startEvents, loaded.before, loaded.snapshot, loaded.compiled.definition);
    return loaded.snapshot.context.runId;
  }

  /**
   * Fork: records the start of a new run whose history is run `runId`'s up to `fork.at`, with `fork.input` changed and
   * what had completed by then reused (runtime/fork.ts); any run, settled or not, is left untouched. As `retry`:
   * nothing runs yet (`runRetry` with the same options drives it). Returns the new run's id. `handlers` lacking a task
   * it will run: refused before anything is written, as `run` refuses (after, it would stay RUNNING, undriven).
   */
  async fork(runId: string, opts: RetryOptions & Required<Pick<RetryOptions, 'fork'>>): Promise<string> {
    // Tasks on a queue file agents serve need no handler here (executor/agent-queues.ts), as for `start`.
    return this.retry(runId, opts.handlers ? { ...opts, agentQueues: await readAgentQueues(this.store) } : opts);
  }

  /** `retry`, then drives the new run here as `run` does; `onStarted` is told its id once its start is durable. */
  async runRetry(
    runId: string,
    opts: DriveOptions & RetryOptions & { onStarted?: (runId: string) => void },
  ): Promise<RunView> {
    return this.driveBegun(await this.commits.beginRetry(runId, opts, true), opts);
  }

  /** A run whose start this engine committed (its lease held), driven: `onStarted` told its id, the hooks its start commit. */
  private driveBegun(
    loaded: Awaited<ReturnType<RunCommits['beginRetry']>>,
    opts: DriveOptions & { onStarted?: (runId: string) => void },
  ): Promise<RunView> {
    opts.onStarted?.(loaded.snapshot.context.runId);
    // The start commit, run.started included; its `before` is the state run.started made (there is none before it).
    ({ ...this.hooks, ...opts }).onCommit?.(
      loaded.startEvents,
      loaded.before,
      loaded.snapshot,
      loaded.compiled.definition,
    );
    return this.driveLoaded(loaded, opts, true, loaded.lease);
  }

  events(runId: string): Promise<EventEnvelope[]> {
    return this.commits.events(runId);
  }

  /** A run folded from its log once: drive it (`drive`) or show it without reading it again. */
  load(runId: string): Promise<LoadedRunLog> {
    return this.commits.load(runId);
  }

  status(runId: string): Promise<RunView> {
    return this.commits.status(runId);
  }

  /** Runs until the run settles or waits on the outside world; returns its state then. Give what `load` returned to not read the log again. */
  async drive(run: string | LoadedRunLog, opts: DriveOptions): Promise<RunView> {
    return this.driveLoaded(typeof run === 'string' ? await this.load(run) : run, opts);
  }

  /**
   * The failure workflow run (`<runId>-failure`) a run that settled FAILED should have started but has not: the process
   * that recorded the failure died before starting it. Null for any other run, and once that run exists.
   */
  async pendingFailureRun(loaded: {
    compiled: CompiledWorkflow;
    snapshot: RunSnapshot;
  }): Promise<{ runId: string; workflow: string } | null> {
    return pendingFailureRunIn(this.store, loaded);
  }

  /** Drives a run as its only driver where the store can see to that (leaseRun: the file store). */
  private async driveLoaded(
    loaded: Loaded & { admitted?: string[] },
    opts: DriveOptions,
    justStarted = false,
    held?: RunLease,
  ): Promise<RunView> {
    // A settled run is driven again only to start a failure workflow it has not started (the driver's
    // reconcile of a FAILED state asks for it, once by its run id); otherwise there is nothing to do.
    const runId = loaded.snapshot.context.runId;
    if (loaded.admitted) this.commits.admissions.add(loaded.admitted);
    // A QUEUED run: admitted first when a slot is free (then driven as it stands after run.admitted).
    if (
      !justStarted &&
      (await this.commits.admissions.beforeDrive(
        loaded.compiled.definition,
        runView(loaded.snapshot, loaded.seq).status,
        loaded.snapshot.context.input,
      ))
    ) {
      loaded = { ...(await this.load(runId)), ...(loaded.source ? { source: loaded.source } : {}) };
    }
    try {
      // A child under its spare id (a run not its own took its derived id: executor/child-owner.ts) is shown there.
      return await withChildrenShown(this.store, runId, await this.driveOwn(loaded, opts, justStarted, held));
    } finally {
      // The runs this drive's commits admitted are driven here next, with the same handlers.
      await this.commits.admissions.drain(async (id) => {
        // Driven until they settle, under leases of their own: parking is the caller's, for the run it asked for.
        const { heldLease: _own, parkWhenIdle: _park, ...theirs } = opts;
        const view = await this.drive(id, { ...theirs, onStarted: undefined } as DriveOptions);
        opts.onAdmittedDriven?.(view);
      });
    }
  }

  private async driveOwn(
    loaded: Loaded & { admitted?: string[] },
    opts: DriveOptions,
    justStarted: boolean,
    held?: RunLease,
  ): Promise<RunView> {
    const runId = loaded.snapshot.context.runId;
    if (loaded.snapshot.status !== 'active' && !(await this.pendingFailureRun(loaded))) {
      await releaseAfter(held, opts, runId);
      return runView(loaded.snapshot, loaded.seq, loaded.compiled.definition);
    }
    // The caller's lease (heldLease) stays the caller's to release.
    const kept = held === undefined ? opts.heldLease : undefined;
    const lease = held ?? kept ?? (await this.store.leaseRun?.(runId)); // throws RunBusyError while another process drives it
    try {
      // A driver that held the run until now may have moved it on since it was loaded: drive it as it is now.
      // (A run this engine has just started has had no other driver: nothing to read back then.)
      const current =
        lease && !justStarted && (await this.store.lastSeq(runId)) !== loaded.seq
          ? { ...(await this.load(runId)), ...(loaded.source ? { source: loaded.source } : {}) }
          : loaded;
      // The queues file agents serve as declared now: their attempts wait for an agent (local/in-process-attempts.ts), the driver's too.
      // A run started elsewhere may need handlers this process lacks: refused before anything is written (a run started here was checked then).
      const agentQueues = opts.agentQueues ?? (await readAgentQueues(this.store));
      if (!justStarted && !this.children)
        assertHandlersFor(current.compiled, current.snapshot, opts.handlers, undefined, agentQueues);
      // Attempts in flight in a run loaded from its log were lost with the process that ran them: they run again.
      return await this.driveLeased(current, { ...opts, restartInFlight: !justStarted, agentQueues });
    } finally {
      if (!kept) await releaseAfter(lease, opts, runId);
    }
  }

  private async driveLeased(
    { compiled: own, snapshot, seq, source, limited }: Loaded,
    opts: DriveOptions & { restartInFlight: boolean },
  ): Promise<RunView> {
    if (snapshot.status !== 'active' && !(await this.pendingFailureRun({ compiled: own, snapshot })))
      return runView(snapshot, seq, own.definition);
    // The limits file's limits as stored now (limits/global-limits.ts): which of its tasks' attempts wait for a queue's or a handler's gate
    // (a run started here a moment ago: as its start read them).
    const compiled = limited ?? own.bound(await readLimits(this.store));
    const children = this.children ?? childRunsFor(this, this.resolveChild, this.emitEvent, opts, source);
    // Every commit the driver makes or sees is told to the admissions too: a settle frees a concurrency slot.
    const userOnCommit = opts.onCommit ?? this.hooks.onCommit;
    const onCommit: NonNullable<DriverHooks['onCommit']> = (events, before, after, def) => {
      userOnCommit?.(events, before, after, def);
      this.commits.admissions.noteCommit(events, after, def);
    };
    const childRunsStarted = opts.restartInFlight ? await childRunsStartedIn(this.store, snapshot) : undefined;
    const driver = new RunDriver({
      ...this.hooks,
      ...opts,
      onCommit,
      store: this.store,
      compiled,
      snapshot,
      seq,
      clock: this.clock,
      children,
      ...(source?.file ? { definitionFile: source.file } : {}),
      ...(childRunsStarted ? { childRunsStarted } : {}),
    });
    return driveToIdle(driver, opts).then((view) => sweptIfSettled(this.progress, view));
  }

  /**
   * Starts a run and drives it here: the first tasks' starts go into the start commit, and nothing is read back.
   * `onStarted` is told the run id once run.started is durable, before anything runs (the CLI prints it then).
   */
  async run(
    def: Definition,
    input: Record<string, unknown>,
    runOpts: DriveOptions & StartOptions & Partial<CallerIdOptions> & { onStarted?: (runId: string) => void },
  ): Promise<RunView & { existing?: true }> {
    // Tasks on a queue file agents serve need no handler here: an agent runs them (executor/agent-queues.ts).
    const opts = { ...runOpts, agentQueues: await readAgentQueues(this.store) };
    let loaded;
    if (opts.runId === undefined) loaded = await this.commits.begin(def, input, opts, true);
    else {
      // A caller-chosen id: a run that has it already is returned as it stands (not driven: `resume` or a serve does that).
      const r = await this.commits.beginUnderId(def, input, { ...opts, runId: opts.runId }, true);
      if ('existing' in r) return { ...(await this.status(r.existing.runId)), existing: true };
      loaded = r.begun;
    }
    return this.driveBegun(loaded, opts);
  }

  /** A person's input, judged and recorded as every path records one (RunCommits.input: refusals throw); a running engine or a later resume acts on it. */
  input(...args: Parameters<RunCommits['input']>): ReturnType<RunCommits['input']> {
    return this.commits.input(...args).then(async (r) => ({ ...r, view: await sweptIfSettled(this.progress, r.view) }));
  }

  /** Records an approval or rejection of a HUMAN task (input); one the rule refuses is thrown as an ApprovalRefusedError, kept as `approval.refused` where the rule keeps it. */
  decide(
    runId: string,
    taskId: string,
    decision: 'approved' | 'rejected',
    by: string,
    comment?: string,
    opts: { unauthenticated?: boolean; level?: Level } = {},
  ): Promise<RunView> {
    return this.input(
      runId,
      { kind: 'approval', taskId, decision, ...(comment !== undefined ? { comment } : {}) },
      { by, ...opts },
    ).then((r) => r.view);
  }

  /** Records a signal for the run's WAITs on `name` (input); one no WAIT would take is refused (SignalRefusedError), nothing recorded. */
  signal(
    runId: string,
    name: string,
    opts: { data?: unknown; by?: string; unauthenticated?: boolean; level?: Level } = {},
  ): Promise<RunView> {
    const { data, ...who } = opts;
    return this.input(runId, { kind: 'signal', name, ...(data !== undefined ? { data } : {}) }, who).then(
      (r) => r.view,
    );
  }

  /** Cancels a run that has not settled. `changed` is false (and nothing is written) when it already had. */
  cancel(
    runId: string,
    opts: { by?: string; reason?: string; unauthenticated?: true } = {},
  ): Promise<{ changed: boolean; view: RunView }> {
    const { reason, ...who } = opts;
    return this.input(runId, { kind: 'control', action: 'cancel', ...(reason !== undefined ? { reason } : {}) }, who);
  }

  /** Pauses a run (run.paused, input): no new attempt starts until it is resumed; a settled or paused run is refused (PauseRefusedError). */
  pause(runId: string, opts: { by?: string; reason?: string; unauthenticated?: true } = {}): Promise<RunView> {
    const { reason, ...who } = opts;
    return this.input(
      runId,
      { kind: 'control', action: 'pause', ...(reason !== undefined ? { reason } : {}) },
      who,
    ).then((r) => r.view);
  }

  /** Un-pauses a paused run (run.resumed, input): the next commit starts what was scheduled meanwhile; `changed` false when it was not paused. */
  unpause(
    runId: string,
    opts: { by?: string; unauthenticated?: true } = {},
  ): Promise<{ changed: boolean; view: RunView }> {
    return this.input(runId, { kind: 'control', action: 'resume' }, opts);
  }

  async replay(runId: string, opts: { to?: number; candidate?: Definition } = {}): Promise<ReplayReport> {
    return replayChecked(this.store, await this.events(runId), opts);
  }

  /**
   * Replays every recorded run (of `workflowId` only, with that filter), one report per run, in the store's order; with
   * a candidate definition, each report also says whether it could take over that run. The store reads its log in one
   * pass where it can (JetStream), so this scales with the log, not with a request per run. With `onCorrupt`, a run
   * whose log cannot be read is reported there and the others replayed.
   */
  async *replayAll(
    opts: { workflowId?: string; candidate?: Definition } & CorruptRunHandler = {},
  ): AsyncIterable<ReplayReport> {
    yield* replayAllRuns(this.store, opts);
  }

  /** With `onCorrupt`, a run whose log cannot be read is reported there and the others listed; without it, it throws. */
  async list(
    filter: { workflowId?: string; status?: RunSummary['status'] } & CorruptRunHandler = {},
  ): Promise<RunSummary[]> {
    return this.store.listRuns(filter);
  }
}
