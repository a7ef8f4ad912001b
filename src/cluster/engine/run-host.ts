/**
 * The runs an engine holds, and the one way it changes one: the cache of loaded runs (caught up with what other engines
 * appended, not replayed), the per-run lock that keeps one step of a run at a time in this engine, and the commit: step
 * the run, append with the expected last sequence, and only then hand the commit on (its effects published, its
 * notifications delivered, a settled child's parent told). Other engines are kept in line by the expected sequence: a
 * conflict folds the input again onto what the other engine appended (RunLog, the executors' one commit).
 */
import type { CompiledWorkflow } from '../../compiler/index.js';
import type { Definition, GlobalLimits } from '../../definition/index.js';
import { AppendConflictError, errorMessage } from '../../errors/index.js';
import type { EventEnvelope, PendingEvent, RunSource } from '../../events/index.js';
import { commitEffects, reconcile, type Effect, type RunSnapshot } from '../../runtime/index.js';
import { evaluateLoaded, RunCommits, usePayloads } from '../../executor/index.js';
import { catchUp, loadRun, RunLog, snapshotDue, snapshotOf, assertOwnStart } from '../../executor/index.js';
import { afterCommit } from '../../limits/index.js';
import type { AppendResult, BlobStore, EventStore, SnapshotStore } from '../../store/index.js';
import type { Custody } from '../transport/index.js';
import { trimOldest } from '../../bounded.js';
import type { FoldedAfter } from '../../query/index.js';
import { finalFailure, StalledAfterRecording } from './inbox.js';

/**
 * A run as this engine holds it. `parent`: the run that started it, as its run.started says (null: none),
 * when the load read run.started; undefined when not known (loaded from a snapshot): then it is read
 * when the run settles. Known, it spares every settling run a read of its first event. `source`: the run's
 * run.started source, where the load read it (not when it began from a snapshot, nor a cached run caught up).
 */
export interface Loaded {
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
  seq: number;
  parent?: RunSource['parent'] | null;
  source?: RunSource | null;
}

export interface ProcessOptions {
  /**
   * The durable message whose processing this commit is (custody.ts): its notification deliveries and the
   * attempts offered under it are held by it. Null: none (a schedule's tick), so none are offered or delivered.
   */
  custody: Custody | null;
  /**
   * Publish every outstanding effect, not only the new ones (after a
   * redelivery, the engine before may have died between append and publish).
   */
  reconcile?: boolean;
  /**
   * Read the run's log afresh before folding, not the cached state: a redelivered message (another engine
   * may have moved the run on, and offered attempts, since this one cached it; its reconcile must see them).
   */
  fresh?: boolean;
  /** Tells apart the commit's message id from other commits at the same sequence. */
  commitKey?: string;
  /**
   * The run's start was recorded just now (a start's kick): no snapshot of it can exist, so none is
   * looked for (a request less per run). Wrong, it costs only a read of the whole log.
   */
  justStarted?: boolean;
  /** Told the sequence of the commit's first event (what a verdict names as the event that recorded it). */
  firstSeq?: (seq: number) => void;
  /**
   * The run's read is its first commit as a start's kick carried it (store/jetstream/handed-commits.ts): the run only
   * if this commit's append at its position is written here. A duplicate (another engine's commit of the same kick,
   * written on the same state, the log since moved on) or no commit proves nothing: then the run is read and the step
   * done again on it.
   */
  handed?: boolean;
}

/** What happens after a commit, done by the engine's other parts (effects.ts, notifications.ts, children.ts). */
export interface AfterCommit {
  /** `fresh`: the commit's own effects, when `effects` are every outstanding effect of the run (a reconcile); else null. */
  publish(
    effects: Effect[],
    compiled: CompiledWorkflow,
    fresh: Effect[] | null,
    custody: Custody | null,
  ): Promise<void>;
  notify(
    runId: string,
    before: Loaded,
    events: EventEnvelope[],
    fromHistory: boolean,
    custody: Custody | null,
  ): Promise<void>;
  /** The run settled with this commit. */
  settled(runId: string, run: Loaded): Promise<void>;
}

export interface RunHostOptions {
  /** The engine's JetStream stores (any store serves: test/cluster/run-host.test.ts). */
  store: EventStore;
  snapshots: SnapshotStore | null;
  snapshotEvery: number;
  stats: {
    commits: number;
    conflicts: number;
    stale: number;
    snapshotsWritten: number;
    snapshotLoads: number;
    snapshotsRefused: number;
  };
  now: () => number;
  log: (line: string) => void;
  onCommit?: (events: EventEnvelope[], before: RunSnapshot, after: RunSnapshot) => void;
  after: AfterCommit;
  /** The events of a commit this host wrote, as stored at `position` (the runs index takes them without parsing its copy). */
  stored?: (runId: string, events: EventEnvelope[], position: number, after: FoldedAfter) => void;
  /** The limits file's limits as this engine last read them (executor LimitsWatch): which attempts wait for a queue's or handler's gate. */
  limits?: () => GlobalLimits | undefined;
}

type Commit = { events: EventEnvelope[]; before: RunSnapshot; after: RunSnapshot; written: AppendResult };

/** Runs this engine keeps loaded at most (the oldest loaded is forgotten first). */
const CACHED_RUNS = 10_000;

export class RunHost {
  private readonly cache = new Map<string, Loaded>();
  private readonly runLocks = new Map<string, Promise<unknown>>();

  /** Where large payloads are (the store's blobs): read when a template walks into one this engine has not loaded. */
  readonly blobs: BlobStore | undefined;

  constructor(private readonly o: RunHostOptions) {
    this.blobs = o.store.blobs?.();
    usePayloads(this.blobs);
  }

  /** One step at a time per run in this engine; other engines are kept in line by the expected sequence. */
  withRun<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.runLocks.get(runId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.runLocks.set(runId, settled);
    void settled.then(() => {
      if (this.runLocks.get(runId) === settled) this.runLocks.delete(runId);
    });
    return next;
  }

  /**
   * The run as cached, or (`fresh`, or not cached) as its log is now; null when it does not exist. Its
   * compiled workflow is bound to the limits file's limits as this engine last read them (CompiledWorkflow.bound).
   */
  async load(runId: string, fresh = false, justStarted = false): Promise<Loaded | null> {
    const loaded = await this.loadOwn(runId, fresh, justStarted);
    if (!loaded || !this.o.limits) return loaded;
    const compiled = loaded.compiled.bound(this.o.limits());
    return compiled === loaded.compiled ? loaded : { ...loaded, compiled };
  }

  private async loadOwn(runId: string, fresh: boolean, justStarted: boolean): Promise<Loaded | null> {
    const cached = this.cache.get(runId);
    if (cached && !fresh) return cached;
    if (cached) {
      // Catch up with what other engines appended, instead of replaying the whole run.
      const theirs = await evaluateLoaded(
        this.blobs,
        () => catchUp(this.o.store, cached.compiled, runId, cached.snapshot, cached.seq),
        `a template of run ${runId}`,
      );
      if (!theirs) return cached;
      const loaded = { ...cached, compiled: theirs.compiled, snapshot: theirs.snapshot, seq: theirs.seq };
      this.remember(runId, loaded);
      return loaded;
    }
    const read = await evaluateLoaded(
      this.blobs,
      () => loadRun(this.o.store, runId, justStarted ? null : this.o.snapshots),
      `a template of run ${runId}`,
    );
    if (!read) return null;
    const loaded: Loaded & typeof read =
      read.source === undefined ? read : { ...read, parent: read.source?.parent ?? null };
    if (loaded.fromSnapshot !== null) this.o.stats.snapshotLoads++;
    if (loaded.snapshotRefused) {
      this.o.stats.snapshotsRefused++;
      this.o.log(loaded.snapshotRefused);
    }
    this.remember(runId, loaded);
    return loaded;
  }

  private remember(runId: string, loaded: Loaded): void {
    this.cache.delete(runId);
    if (loaded.snapshot.status !== 'active') return; // settled runs take no more inputs worth caching
    this.cache.set(runId, loaded);
    trimOldest(this.cache, CACHED_RUNS);
  }

  /**
   * Folds inputs into a run and appends the commit, then hands it on: its effects published, its notifications
   * delivered, a settled child's parent told. Null when the run does not exist. The commit is the executors' one
   * (RunLog): a lost race catches up with the other engine's events and folds the inputs again onto them.
   */
  async process(runId: string, inputs: PendingEvent[], opts: ProcessOptions): Promise<Loaded | null> {
    // Not cached here (another engine had it, or this one restarted): its history may owe notifications.
    const fromLog = !this.cache.has(runId);
    const loaded = await this.load(runId, opts.fresh === true, opts.justStarted === true);
    if (!loaded) return null;
    let commit: Commit | null = null;
    const stale: { event: PendingEvent; reason: string }[] = [];
    const log = new RunLog({
      store: this.o.store,
      compiled: loaded.compiled,
      snapshot: loaded.snapshot,
      seq: loaded.seq,
      now: this.o.now,
      onStale: (event, reason) => stale.push({ event, reason }),
      onConflict: () => {
        this.o.stats.conflicts++;
      },
      onCommit: (events, before, after, written) => {
        if (written) commit = { events, before, after, written };
      },
    });
    const given = inputs.map((event) => ({ event, derived: false }));
    // An input the cached state refuses may fit the run as it is now: look once more before dropping it.
    // A payload a template reads that this engine has not loaded (a worker's large output): loaded, then folded again.
    const where = `a template of run ${runId}`;
    if ((await evaluateLoaded(this.blobs, () => log.fold(given), where)) > 0) {
      stale.length = 0;
      log.discard();
      await evaluateLoaded(this.blobs, () => log.catchUp(), where);
      await evaluateLoaded(this.blobs, () => log.fold(given), where);
    }
    await log.flush(opts.commitKey ?? 'step');
    const written = (commit as Commit | null)?.written;
    if (opts.handed === true && (!written || written.duplicate))
      return this.process(runId, inputs, { ...opts, handed: false, fresh: true, justStarted: false });
    // A run.migrated caught up with hands the run to the new version's workflow (bound to the limits as load() binds).
    const compiled =
      log.compiled === loaded.compiled
        ? loaded.compiled
        : this.o.limits
          ? log.compiled.bound(this.o.limits())
          : log.compiled;
    const next: Loaded = { ...loaded, compiled, snapshot: log.snapshot, seq: log.seq };
    if (next.seq !== loaded.seq) this.remember(runId, next);
    // The state the commit was made on (after any catch-up), or the run as it is when nothing was committed.
    const done = commit as Commit | null;
    const st: Loaded = done ? { ...loaded, snapshot: done.before, seq: next.seq - done.events.length } : next;
    const events = done?.events ?? [];
    // What a written commit owes is paid before its effects are worked out, which may stall the run (below).
    if (done) {
      // The commit's first event is the first input's (what a verdict names as the event that recorded it), told before
      // its effects are worked out: a failure there (a template reading a payload changed in the store) comes after the
      // input was recorded, and the sender must not be told that nothing was.
      opts.firstSeq?.(st.seq + 1);
      this.o.stats.commits++;
      if (this.o.snapshots && snapshotDue(st.seq, next.seq, this.o.snapshotEvery))
        this.snapshot(next.compiled, next.snapshot, next.seq, done.written.position ?? null);
      this.o.onCommit?.(events, st.snapshot, next.snapshot);
      // Written by this call (not a duplicate of an earlier write, whose events may differ in their times).
      if (!done.written.duplicate && typeof done.written.position === 'number')
        this.o.stored?.(runId, events, done.written.position, { compiled: next.compiled, snapshot: done.after });
      // Freed slots and counted breaker outcomes (limits/after-commit.ts), before the commit is handed on.
      await afterCommit(this.o.store, next.compiled, st.snapshot, next.snapshot, events, this.o.now, (_, line) =>
        this.o.log(`run ${runId}: ${line}`),
      ).done;
    }
    // What follows a commit written (or found written) here that no retry mends by itself (a template reading a payload
    // changed in the store) stalls the run, the commit standing: thrown as StalledAfterRecording, which the inbox retries
    // with its growing delay instead of giving up at once, so that a delivery after the fix carries the run on.
    const following = <T>(work: Promise<T>): Promise<T> =>
      done
        ? work.catch((err: unknown) => {
            const final = finalFailure(err);
            throw final ? new StalledAfterRecording(final) : err;
          })
        : work;
    const effects = done
      ? await following(
          evaluateLoaded(this.blobs, () => commitEffects(next.compiled, done.before, done.events, done.after), where),
        )
      : [];
    this.o.stats.stale += stale.length;
    for (const s of stale) this.o.log(`run ${runId}: ${s.event.type} no longer applies (${s.reason})`);
    // After a redelivery the engine before us may have died between append and publish, and a stale
    // input may mean another engine moved the run on: then publish everything outstanding (message ids dedup).
    const everything = opts.reconcile === true || stale.length > 0;
    await this.o.after.publish(
      everything
        ? await following(evaluateLoaded(this.blobs, () => reconcile(next.compiled, next.snapshot), where))
        : effects,
      next.compiled,
      everything ? effects : null,
      opts.custody,
    );
    await this.o.after.notify(runId, st, events, everything || fromLog, opts.custody);
    // The engine that wrote a child run's last commit tells its parent (a redelivery tells it again: the message id dedups).
    if (st.snapshot.status === 'active' && next.snapshot.status !== 'active') await this.o.after.settled(runId, next);
    return next;
  }

  /**
   * Starts run `runId` of `definition` unless its log has events already (a redelivery, or another engine started it),
   * and publishes its first effects whoever wrote its start (under `custody`, the message it is started for; null: a
   * loop's tick, its attempts go to the queues): true when this call started it. What keeps it from starting
   * (RunCannotStartError) is thrown.
   */
  startOnce(
    runId: string,
    definition: Definition,
    input: Record<string, unknown>,
    source: RunSource,
    custody: Custody | null,
  ): Promise<boolean> {
    return this.withRun(runId, async () => {
      let started = false;
      if ((await this.o.store.lastSeq(runId)) === 0) {
        try {
          await this.starter().start(definition, input, { runId, source });
          started = true;
        } catch (err) {
          if (!(err instanceof AppendConflictError)) throw err; // else started by another engine in between
        }
      }
      // A run there that this starter did not start (its workflow and source) is RunIdTakenError: never adopted.
      if (!started) await assertOwnStart(this.o.store, runId, definition.id, source);
      await this.process(runId, [], { commitKey: 'trigger', reconcile: true, custody });
      return started;
    });
  }

  /** Writes a run's first commit (run.started) on this store, as every executor does; the effects are this engine's to publish (process with reconcile). */
  starter(): RunCommits {
    return new RunCommits({ store: this.o.store, clock: { now: this.o.now, setTimer: () => 0, clearTimer: () => {} } });
  }

  /**
   * Writes the run's snapshot in the background: the step does not wait for it. A failed write is logged and changes
   * nothing (the next one, or the log, serves). Writes of one run go out in commit order on one connection.
   */
  private snapshot(compiled: CompiledWorkflow, snapshot: RunSnapshot, seq: number, position: number | null): void {
    const stored = snapshotOf(compiled, snapshot, seq, position, this.o.now());
    this.o.snapshots!.put(stored).then(
      () => {
        this.o.stats.snapshotsWritten++;
      },
      (err: unknown) => this.o.log(`run ${stored.runId}: snapshot at event ${seq} not written: ${errorMessage(err)}`),
    );
  }
}
