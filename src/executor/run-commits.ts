/**
 * The commits a run gets from outside its own rounds, written the same way by both executors over a store and a clock:
 * its start (also under a caller's id: caller-start.ts), a retry's start (start-commit.ts), a person's input — an
 * approval, a signal, a pause, its end, a cancel (outside-inputs.ts) — and the admissions the slots these free let in
 * (commit-admissions.ts).
 *
 * The in-process Engine drives what these commits start; a NATS client or engine writes them here and kicks the engines
 * about the runs they started or admitted (takeAdmitted). Neither has a copy of its own.
 */
import { failureRunId } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import { RunNotFoundError } from '../errors/index.js';
import { SETTLED_STATUSES, type EventEnvelope, type WorkflowStatus } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import { foldEvents, gatesOf, runOrigin, runView, type Handlers, type RunView } from '../runtime/index.js';
import { systemClock, type Clock } from './clock.js';
import { useNativeDigest } from './native-digest.js';
import { evaluateLoaded, usePayloads } from './payloads.js';
import { OutsideInputs, type AgentOutcomeVerdict } from './outside-inputs.js';
import { shownChildRunId, withChildrenShown } from './child-owner.js';
import { beginRetry, beginRun, type Begun, type Starter } from './start-commit.js';
import { startUnderId, type CallerIdOptions, type CallerStart } from './caller-start.js';
import type { LoadedRunLog, RetryOptions, StartOptions } from './start-options.js';
import { keylessView } from './keyless-view.js';
import { breakersForView, limitsForView, CommitAdmissions } from '../limits/index.js';

/** How often wait() reads the run besides following it. */
const WAIT_RECHECK_MS = 3000;

/** What a start under a caller-chosen id returns: the run started, or (`existing: true`) the run that already had the id. */
export interface StartedUnderId {
  runId: string;
  workflowId: string;
  version: number;
  status: WorkflowStatus;
  existing: boolean;
}

interface RunCommitsOptions {
  store: EventStore;
  clock?: Clock;
}

export class RunCommits {
  readonly store: EventStore;
  readonly clock: Clock;
  /** The slots the commits here freed, and the runs they admitted (taken by whoever drives or kicks them). */
  readonly admissions: CommitAdmissions;
  private readonly starter: Starter;
  private readonly outside: OutsideInputs;

  constructor(o: RunCommitsOptions) {
    // Executors run on Node: the core hashes every event, so it gets the native sha256 (same digests).
    useNativeDigest();
    usePayloads(o.store.blobs?.());
    this.store = o.store;
    this.clock = o.clock ?? systemClock;
    this.starter = { store: this.store, clock: this.clock };
    this.admissions = new CommitAdmissions(this.store, this.clock);
    this.outside = new OutsideInputs({
      store: this.store,
      clock: this.clock,
      load: (runId) => this.load(runId),
      onAppended: (events, after, def) => this.admissions.noteCommit(events, after, def),
    });
  }

  /** Checks the input and records run.started; nothing runs yet. Returns the run id. */
  async start(
    def: Definition,
    rawInput: Record<string, unknown>,
    opts: StartOptions & { handlers?: Handlers; agentQueues?: ReadonlySet<string> } = {},
  ): Promise<string> {
    const begun = await this.begin(def, rawInput, opts, false);
    return begun.snapshot.context.runId;
  }

  /**
   * The start commit of a run; `withStarts`: with the starts of its first tasks in it, for a process about to drive the
   * run (which then holds its lease where the store has leases). The runs a start admitted are noted.
   */
  async begin(
    def: Definition,
    rawInput: Record<string, unknown>,
    opts: StartOptions & { handlers?: Handlers; exclusive?: boolean; agentQueues?: ReadonlySet<string> },
    withStarts: boolean,
  ): Promise<Begun> {
    const begun = await beginRun(this.starter, def, rawInput, opts, withStarts);
    if (begun.admitted) this.admissions.add(begun.admitted);
    return begun;
  }

  /** `start` under a caller-chosen id, as Engine.startRun (local/engine.ts) documents it. */
  async startRun(
    def: Definition,
    rawInput: Record<string, unknown>,
    opts: StartOptions & CallerIdOptions & { handlers?: Handlers; agentQueues?: ReadonlySet<string> },
  ): Promise<StartedUnderId> {
    const r = await this.beginUnderId(def, rawInput, opts, false);
    if ('existing' in r) return { ...r.existing, existing: true };
    const { begun } = r;
    return {
      runId: begun.snapshot.context.runId,
      workflowId: def.id,
      version: def.version,
      status: begun.startEvents.at(-1)!.state.status,
      existing: false,
    };
  }

  /** `begin` under a caller-chosen id: the run begun, or the run that already had the id. */
  async beginUnderId(
    def: Definition,
    rawInput: Record<string, unknown>,
    opts: StartOptions & CallerIdOptions & { handlers?: Handlers; agentQueues?: ReadonlySet<string> },
    withStarts: boolean,
  ): Promise<CallerStart<Begun>> {
    return startUnderId(this.store, def, opts, (runId) =>
      this.begin(def, rawInput, { ...opts, runId, exclusive: true }, withStarts),
    );
  }

  /** The start of a retry from failed, as Engine.retry (local/engine.ts) documents it; `withStarts` as in `begin`. */
  beginRetry(runId: string, opts: RetryOptions, withStarts: boolean): Promise<Begun> {
    return beginRetry(this.starter, (id) => this.load(id), runId, opts, withStarts);
  }

  /**
   * The runs the commits here admitted to a concurrency slot (`concurrency:`) and nobody has taken, once the admissions
   * under way are decided; taken (the list empties). NATS kicks the engines about them after a start, decide, signal or
   * cancel.
   */
  async takeAdmitted(): Promise<string[]> {
    await this.admissions.flush();
    return this.admissions.take();
  }

  async events(runId: string): Promise<EventEnvelope[]> {
    const events = await this.store.read(runId);
    if (events.length === 0) throw new RunNotFoundError(runId);
    return events;
  }

  /** A run folded from its log once. */
  async load(runId: string): Promise<LoadedRunLog> {
    const events = await this.events(runId);
    const first = events[0]!;
    const source = first.type === 'run.started' ? first.data.source : undefined;
    // A large payload the fold reads (a DECISION on an output kept apart) is loaded first when the store reads none synchronously.
    const folded = await evaluateLoaded(this.store.blobs?.(), () => foldEvents(events));
    return { ...folded, events, ...(source ? { source } : {}) };
  }

  async status(runId: string): Promise<RunView> {
    return this.statusOf(await this.load(runId));
  }

  /**
   * Resolves when the run settles (COMPLETED, FAILED, CANCELLED) — or, with `orWaiting`, also when it waits for a
   * person or is paused — or with its state at the timeout; RunNotFoundError for no such run. One wait on either store:
   * it follows the log, and reads the run now and then besides (a NATS follower can go quiet for a while when a node of
   * a cluster is lost, and a wait should not hang on it until its timeout).
   */
  async wait(runId: string, opts: { timeoutMs?: number; orWaiting?: boolean } = {}): Promise<RunView> {
    const timeoutMs = opts.timeoutMs ?? Number.POSITIVE_INFINITY;
    // PAUSED is no end either, but nothing moves until someone resumes it: as much a person's turn as WAITING.
    const stops = (status: RunView['status']) =>
      SETTLED_STATUSES.includes(status) || (opts.orWaiting === true && (status === 'WAITING' || status === 'PAUSED'));
    const first = await this.status(runId);
    if (stops(first.status)) return first;
    return new Promise((resolve, reject) => {
      let done = false;
      const end = () => {
        done = true;
        sub.close();
        clearTimeout(timer);
        clearInterval(recheck);
      };
      const finish = (v: RunView) => {
        if (!done) {
          end();
          resolve(v);
        }
      };
      const fail = (err: unknown) => {
        if (!done) {
          end();
          reject(err);
        }
      };
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => void this.status(runId).then(finish, fail), timeoutMs)
        : undefined;
      const check = () =>
        void this.status(runId).then((v) => {
          if (stops(v.status)) finish(v);
        }, fail);
      const sub = this.store.follow(runId, first.seq, (events) => {
        const last = events.at(-1);
        if (last && stops(last.state.status)) check();
      });
      const recheck = setInterval(check, WAIT_RECHECK_MS);
    });
  }

  /** status() of a run `load` read already (its definition is `loaded.compiled.definition`). */
  async statusOf(loaded: LoadedRunLog): Promise<RunView> {
    const { compiled, snapshot, seq, events } = loaded;
    const runId = snapshot.context.runId;
    // With the limits file's limits: a task waiting for its queue's or handler's limit says so.
    const active = snapshot.status === 'active';
    const limits = active ? await limitsForView(this.store) : undefined;
    // With its breakers' states: a task held by an open one says so; a closed one is no reason to wait.
    const open = active
      ? await breakersForView(this.store, gatesOf(compiled.definition, limits), this.clock.now())
      : undefined;
    // A child under its spare id (a run that is not it took its derived id: child-owner.ts) is shown there.
    // Read without the data key, a run whose course turned on sealed values shows what its records say (keyless-view.ts).
    const folded = keylessView(this.store, events, snapshot, runView(snapshot, seq, compiled.definition, limits, open));
    const view = await withChildrenShown(this.store, runId, folded);
    const failureId =
      snapshot.context.error && snapshot.status !== 'active'
        ? await shownChildRunId(this.store, failureRunId(runId), runId)
        : undefined;
    const failure = failureId !== undefined && (await this.store.lastSeq(failureId)) > 0 ? failureId : undefined;
    return { ...view, ...runOrigin(events), ...(failure ? { failureRun: failure } : {}) };
  }

  /**
   * Records a person's input (OutsideInputs.input: refusals throw); whoever drives the run acts on it. A decision,
   * signal or cancel that settled the run freed its concurrency slot: the queued runs it let in are admitted before this returns.
   */
  input(...args: Parameters<OutsideInputs['input']>): Promise<{ changed: boolean; view: RunView }> {
    return this.admitting(this.outside.input(...args));
  }

  /** Records the outcome of an attempt an agent outside the engines ran, fenced by its token (OutsideInputs.recordOutcome). */
  recordOutcome(...args: Parameters<OutsideInputs['recordOutcome']>): Promise<AgentOutcomeVerdict> {
    return this.admitting(this.outside.recordOutcome(...args));
  }

  /** An outside commit that settled the run freed its slot: the queued runs it let in are admitted once it is done. */
  private async admitting<T>(commit: Promise<T>): Promise<T> {
    try {
      return await commit;
    } finally {
      await this.admissions.flush();
    }
  }
}
