/**
 * `ledgerflow engine`: a long-running process that shares the work of a
 * cluster. It takes runtime inputs, timer messages, approvals and trigger
 * events from shared durable consumers; for each, it loads the run (cache, or
 * replay of its subject), folds, appends with the expected last sequence and
 * only then publishes the effects (task attempts for workers, timer
 * messages) and acks. A conflict means another engine moved the run on:
 * reload and retry. An engine killed at any point leaves its unacked message
 * to another engine, which finds the log as it was and finishes the job;
 * effects carry message ids (runId/task/attempt, runId/timer) so publishing
 * them again within the dedup window writes nothing twice.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { headers as natsHeaders, type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import { childRunId, instanceFields, instanceKey, instanceToken, iso, MAX_CHILD_DEPTH, type CompiledWorkflow } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import { AppendConflictError, RunCannotStartError } from '../errors/index.js';
import { RunIdSchema, type EventEnvelope, type PendingEvent, type RunSource, type TaskError } from '../events/index.js';
import { applyEvent, foldOnto, reconcile, rejectionReason, reviewApproval, reviewSignal, runView, step, toTaskError, type Effect, type EmitEvent, type RunSnapshot, type StartChild } from '../runtime/index.js';
import { childOutcome, Engine, type ChildOutcome } from '../local/index.js';
import { loadRun, snapshotDue, snapshotOf } from '../executor/index.js';
import { JetStreamEventStore, JetStreamSnapshotStore, type JetStreamSnapshotOptions, type JetStreamStoreOptions } from '../store/index.js';
import { admitEvent, runIdForEvent, Scheduler, type EventTypeSpec, type FireReport, type ScheduledStart } from '../triggers/index.js';
import { AttemptTokens, tokenDigest } from './attempt-tokens.js';
import { AttemptLedger } from './attempts.js';
import { DefinitionRegistry } from './definitions.js';
import { deadLetterOf, publishDeadLetter, REDELIVERY_DEFAULTS, retryDelayMs, type DeadLetterDetails } from './dead-letters.js';
import { ApprovalMessage, ControlMessage, decodeOrUndefined, encode, InputMessage, SignalMessage, TimerMessage, type ApprovalVerdict, type ControlVerdict, type SignalVerdict, type TaskMessage, type TriggerVerdict } from './messages.js';
import { KvScheduleCursor } from './schedule-cursor.js';
import { startRunIndexProjection, type RunIndexProjection } from '../query/index.js';
import { hasUsers } from './sender.js';
import { Notifier, notificationBody, type DeliveryOutcome, type NotificationsConfig, type PendingDelivery } from '../notify/index.js';

/**
 * The notification deliveries a message's processing started: its ack waits
 * for them (see consume()), so an engine that dies before they are noted in
 * the run's history leaves the message to another engine, which delivers
 * what the history does not note.
 */
const deliveryScope = new AsyncLocalStorage<Promise<void>[]>();

import { ensureCluster, PULL_EXPIRES_MS, type ClusterSettings } from './setup.js';
import { InHand, STOP_GRACE_MS } from './in-hand.js';
import { ENGINE_CONSUMERS, ENGINE_SENDER, STREAMS, subjects } from './subjects.js';
import { takeInput, type InputHost } from './inputs.js';
import { TaskQueues } from './task-queues.js';
import { startLegacyTaskMover } from './legacy-tasks.js';

export { ENGINE_SENDER } from './subjects.js';

export interface ClusterEngineOptions {
  nats: string | JetStreamStoreOptions;
  settings?: ClusterSettings;
  /** Event type schemas for triggers (events/<type>.yaml). */
  eventTypes?: Map<string, EventTypeSpec>;
  /** Runs processed at once by this engine (different runs; one run is always processed by one step at a time here). */
  concurrency?: number;
  log?: (line: string) => void;
  now?: () => number;
  /**
   * Snapshots of long runs in a KV bucket: one is written each time a run's
   * log crosses a multiple of `every` events (default 1000; 0 turns them off),
   * and an engine that loads a run it has not cached starts from it. Short
   * runs never get one.
   */
  snapshots?: JetStreamSnapshotOptions & { every?: number };
  /**
   * Schedule triggers of the deployed definitions: every `tickMs` (default
   * 1000) the engine fires the slots due at `now()` (src/triggers/scheduler.ts),
   * claiming each in KV LF_SCHEDULES, so however many engines run a slot
   * starts one run. `graceMs`: how late a slot may be and still be on time
   * (older ones are missed and catch_up decides); `false`: this engine fires none.
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
}

export const DEFAULT_SNAPSHOT_EVERY = 1000;

/**
 * A run as this engine holds it. `parent`: the run that started it, as its run.started says (null: none),
 * when the load read run.started; undefined when not known (loaded from a snapshot): then it is read
 * when the run settles. Known, it spares every settling run a read of its first event.
 */
interface Loaded { compiled: CompiledWorkflow; snapshot: RunSnapshot; seq: number; parent?: RunSource['parent'] | null }

export class ClusterEngine {
  readonly store: JetStreamEventStore;
  readonly snapshots: JetStreamSnapshotStore | null;
  private readonly snapshotEvery: number;
  private nc!: NatsConnection;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  registry!: DefinitionRegistry;
  private tokens!: AttemptTokens;
  private ledger!: AttemptLedger;
  /** Creates each queue's stream and worker consumers as attempts are first handed out to them (workers may not), and publishes attempts there. */
  private taskQueues!: TaskQueues;
  private readonly cache = new Map<string, Loaded>();
  private readonly runLocks = new Map<string, Promise<unknown>>();
  private readonly loops: Promise<void>[] = [];
  private readonly stops: (() => void)[] = [];
  private stopped = false;
  private readonly inHand = new InHand();
  /** Whether the server proves who publishes (it has users): else the sender names it records are marked unauthenticated. */
  private sendersProven = false;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  /** Counters a test or an operator can read. */
  readonly stats = {
    inputs: 0, forged: 0, restarts: 0, commits: 0, conflicts: 0, stale: 0, dispatched: 0, timers: 0, approvals: 0, signals: 0, controls: 0, refused: 0, triggered: 0, deadLetters: 0,
    /** Deliveries whose processing failed and that were put back to be tried again (with a growing delay). */
    retries: 0,
    snapshotsWritten: 0, snapshotLoads: 0, snapshotsRefused: 0,
    /** Child runs started (SUB_WORKFLOW attempts, failure workflows). */
    childRuns: 0,
    /** Runs this engine started for schedule slots it claimed. */
    scheduled: 0,
    /** Schedule ticks done (each fires what is due at that moment). */
    scheduleTicks: 0,
  };
  /** Delivers the notifications of the commits this engine makes (src/notify). */
  notifier!: Notifier;
  /** Fires schedule slots (null: this engine fires none); `lastFire`: what its last tick did. */
  scheduler: Scheduler | null = null;
  lastFire: FireReport | null = null;

  constructor(private readonly opts: ClusterEngineOptions) {
    this.store = new JetStreamEventStore(typeof opts.nats === 'string' ? { servers: opts.nats } : opts.nats);
    this.snapshotEvery = opts.snapshots?.every ?? DEFAULT_SNAPSHOT_EVERY;
    this.snapshots = this.snapshotEvery > 0 ? new JetStreamSnapshotStore(() => this.store.connection(), opts.snapshots) : null;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  async start(): Promise<void> {
    this.nc = await this.store.connection();
    this.js = this.nc.jetstream();
    this.jsm = await this.nc.jetstreamManager();
    await ensureCluster(this.jsm, this.opts.settings);
    this.tokens = await AttemptTokens.open(this.js, this.opts.settings);
    this.ledger = await AttemptLedger.open(this.nc);
    this.notifier = new Notifier({
      store: this.store, now: this.now, log: (line) => this.log(`notify: ${line}`),
      ...(this.opts.notifications ? { config: this.opts.notifications } : {}),
      ...(this.opts.onNoted ? { onNoted: this.opts.onNoted } : {}),
      nats: { connection: this.nc, headers: natsHeaders, deadLetter: (d, outcome) => this.deadLetterNotification(d, outcome) },
    });
    const url = typeof this.opts.nats === 'string' ? this.opts.nats : [this.opts.nats.servers].flat().join(',');
    this.sendersProven = await hasUsers(url);
    this.registry = new DefinitionRegistry(this.js, {
      ...(this.opts.settings?.replicas ? { replicas: this.opts.settings.replicas } : {}),
      ...(this.opts.settings?.storage ? { storage: this.opts.settings.storage } : {}),
    });
    this.taskQueues = new TaskQueues(this.jsm, this.js, this.opts.settings);
    startLegacyTaskMover({ jsm: this.jsm, queues: this.taskQueues, log: this.log }, this.stops, this.loops);
    const inputs: InputHost = {
      tokens: this.tokens, stats: this.stats, sendersProven: () => this.sendersProven, now: this.now, log: this.log,
      withRun: (runId, fn) => this.withRun(runId, fn), load: (runId, fresh) => this.load(runId, fresh),
      process: (runId, events, o) => this.process(runId, events, o), deadLetter: (kind, reason, m, details) => this.deadLetter(kind, reason, m, details),
      // Longer than an engine holds an input: the outcome it waits for may be with an engine that died.
      finishedRecheckMs: (this.opts.settings?.engineAckWaitMs ?? 10_000) + 2000,
    };
    this.consume(STREAMS.inputs.name, ENGINE_CONSUMERS.inputs, 'inputs', (m) => takeInput(inputs, m));
    // A timer checks its delivery bound itself, once due: the puts-back of a timer not due yet are deliveries too.
    this.consume(STREAMS.timers.name, ENGINE_CONSUMERS.timers, 'timers', (m) => this.onTimer(m), { boundFirst: false });
    this.consume(STREAMS.approvals.name, ENGINE_CONSUMERS.approvals, 'approvals', (m) => this.onApproval(m));
    this.consume(STREAMS.triggers.name, ENGINE_CONSUMERS.triggers, 'triggers', (m) => this.onTrigger(m));
    this.consume(STREAMS.signals.name, ENGINE_CONSUMERS.signals, 'signals', (m) => this.onSignal(m));
    this.consume(STREAMS.control.name, ENGINE_CONSUMERS.control, 'control', (m) => this.onControl(m));
    if (this.opts.schedules !== false) this.fireSchedules(this.opts.schedules ?? {});
    if (this.opts.runIndex !== false) {
      this.runIndex = await startRunIndexProjection({
        store: this.store, log: this.log,
        ...(this.opts.settings?.replicas ? { replicas: this.opts.settings.replicas } : {}),
        ...(this.opts.settings?.storage ? { storage: this.opts.settings.storage } : {}),
      });
    }
  }

  /** The run index projection this engine runs (null with `runIndex: false`, or before start). */
  runIndex: RunIndexProjection | null = null;

  /** The schedule loop: every tick, the slots due now of every deployed schedule (once per slot across engines: the KV claim). */
  private fireSchedules(o: { tickMs?: number; graceMs?: number; claimTimeoutMs?: number }): void {
    const cursor = new KvScheduleCursor(this.js, {
      ...(this.opts.settings?.replicas ? { replicas: this.opts.settings.replicas } : {}),
      ...(this.opts.settings?.storage ? { storage: this.opts.settings.storage } : {}),
    });
    const scheduler = new Scheduler({
      cursor, definitions: () => this.scheduledDefinitions(), start: (s) => this.startScheduled(s), name: `engine ${process.pid}`, log: this.log,
      ...(o.graceMs !== undefined ? { graceMs: o.graceMs } : {}), ...(o.claimTimeoutMs !== undefined ? { claimTimeoutMs: o.claimTimeoutMs } : {}),
    });
    this.scheduler = scheduler;
    const tickMs = o.tickMs ?? 1000;
    let wake: (() => void) | undefined;
    this.stops.push(() => wake?.());
    this.loops.push((async () => {
      while (!this.stopped) {
        try {
          this.lastFire = await scheduler.fireDue(this.now());
          this.stats.scheduleTicks++;
        } catch (err) {
          if (!this.stopped) this.log(`schedules: ${(err as Error).message}; trying again next tick`);
        }
        if (this.stopped) break;
        await new Promise<void>((r) => { wake = r; setTimeout(r, tickMs); });
      }
    })());
  }

  /**
   * The deployed definitions the schedules come from, read again every 5 s
   * (wall time): a cache of its own, so that the trigger path's (read on
   * demand) is not warmed early by this loop and never misses a definition
   * deployed just before an event.
   */
  private async scheduledDefinitions(): Promise<Definition[]> {
    if (Date.now() - this.scheduledAt > 5000) {
      this.scheduleDefs = await this.registry.latestAll();
      this.scheduledAt = Date.now();
    }
    return this.scheduleDefs;
  }
  private scheduleDefs: Definition[] = [];
  private scheduledAt = 0;

  /** A claimed slot's run: started once (its run id), and its first effects published, as a trigger event's run is. */
  private startScheduled(s: ScheduledStart): Promise<{ duplicate: boolean }> {
    const starter = new Engine({ store: this.store, clock: { now: this.now, setTimer: () => 0, clearTimer: () => {} } });
    return this.withRun(s.runId, async () => {
      let duplicate = true;
      if ((await this.store.lastSeq(s.runId)) === 0) {
        try {
          await starter.start(s.definition, s.input, { runId: s.runId, source: { schedule: s.schedule } });
          duplicate = false;
          this.stats.scheduled++;
        } catch (err) {
          if (!(err instanceof AppendConflictError)) throw err;
        }
      }
      await this.process(s.runId, [], { commitKey: 'trigger', reconcile: true });
      return { duplicate };
    });
  }

  /**
   * Stops in order: no message is taken any more, the ones in hand finish
   * (their appends, effects and the deliveries their acks wait for) within
   * the grace, what did not is handed back, and only then is the store closed.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.inHand.stopTaking();
    for (const s of this.stops) s();
    if (!(await this.inHand.settle(this.opts.stopGraceMs ?? STOP_GRACE_MS))) {
      this.log(`stopping: ${this.inHand.handBackRest()} message(s) not finished within the grace handed back to the other engines`);
    }
    // Deliveries still under way are cut off, unnoted; their messages were handed back, so the next engine delivers them.
    this.notifier?.stop();
    await Promise.allSettled([...this.loops, this.runIndex?.stop()]);
    await this.store.close();
  }

  /**
   * A pull loop on a shared durable consumer, handling messages concurrently
   * up to the engine's limit. A message is never tried forever (issue 10): a
   * failure puts it back with a delay that doubles (retryDelayMs), and the
   * delivery at the bound (`maxDeliver`) that fails too is dead-lettered with
   * the error and terminated; a delivery past the bound (the ones before never
   * finished: an engine died or hung on it) is dead-lettered unprocessed. The
   * engine counts deliveries itself (m.info.deliveryCount) rather than waiting
   * for the server's max-deliveries advisory: the advisory is core NATS, lost
   * when no engine listens at that moment, and once the server gives up the
   * message stays in its work-queue stream where no consumer can take it.
   * The server's own bound is a few deliveries higher (setup.ts), a last resort.
   */
  private consume(stream: string, durable: string, kind: string, handle: (m: JsMsg) => Promise<void>, opts: { boundFirst?: boolean } = {}): void {
    const limit = this.opts.concurrency ?? 64;
    let active = 0;
    const waiters: (() => void)[] = [];
    const loop = (async () => {
      while (!this.stopped) {
        try {
          const consumer = await this.js.consumers.get(stream, durable);
          const messages = await consumer.consume({ max_messages: limit, expires: PULL_EXPIRES_MS });
          this.stops.push(() => messages.stop());
          for await (const m of messages) {
            if (active >= limit) await new Promise<void>((r) => waiters.push(r));
            if (!this.inHand.accept(m)) continue;
            active++;
            const held = holdAck(m, () => this.inHand.handedBack);
            // Kept ours (working()) while it is processed slowly, e.g. appends waiting out a server restart.
            void this.inHand.track([m], (async () => {
              if (opts.boundFirst === false || !(await this.spent(m, kind))) await deliveryScope.run(held.deliveries, () => handle(held.msg));
              await held.acked();
            })(), Math.max(1000, (this.opts.settings?.engineAckWaitMs ?? 10_000) / 3))
              .catch((err: unknown) => this.failed(m, kind, durable, err))
              .finally(() => { active--; waiters.shift()?.(); });
          }
        } catch (err) {
          if (this.stopped) break;
          this.log(`${durable} consumer: ${(err as Error).message}; reconnecting`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
    this.loops.push(loop);
  }

  /** One step at a time per run in this engine; other engines are kept in line by the expected sequence. */
  private withRun<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.runLocks.get(runId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.runLocks.set(runId, settled);
    void settled.then(() => { if (this.runLocks.get(runId) === settled) this.runLocks.delete(runId); });
    return next;
  }

  private async load(runId: string, fresh = false): Promise<Loaded | null> {
    const cached = this.cache.get(runId);
    if (cached && !fresh) return cached;
    if (cached) {
      // Catch up with what other engines appended, instead of replaying the whole run.
      const delta = await this.store.read(runId, { fromSeq: cached.seq + 1 });
      if (delta.length === 0) return cached;
      const loaded = { ...cached, snapshot: foldOnto(cached.compiled, cached.snapshot, delta), seq: delta.at(-1)!.seq };
      this.remember(runId, loaded);
      return loaded;
    }
    const read = await loadRun(this.store, runId, this.snapshots);
    if (!read) return null;
    const loaded: Loaded & typeof read = read.source === undefined ? read : { ...read, parent: read.source?.parent ?? null };
    if (loaded.fromSnapshot !== null) this.stats.snapshotLoads++;
    if (loaded.snapshotRefused) {
      this.stats.snapshotsRefused++;
      this.log(loaded.snapshotRefused);
    }
    this.remember(runId, loaded);
    return loaded;
  }

  private remember(runId: string, loaded: Loaded): void {
    this.cache.delete(runId);
    if (loaded.snapshot.status !== 'active') return; // settled runs take no more inputs worth caching
    this.cache.set(runId, loaded);
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
  }

  /**
   * Folds inputs into a run and appends the commit, then publishes its effects.
   * `reconcile`: publish every outstanding effect, not only the new ones (after
   * a redelivery, the engine before us may have died between append and publish).
   */
  async process(runId: string, inputs: PendingEvent[], opts: { reconcile?: boolean; commitKey?: string; firstSeq?: (seq: number) => void } = {}): Promise<Loaded | null> {
    let refreshed = false;
    // Not cached here (another engine had it, or this one restarted): its history may owe notifications.
    const fromLog = !this.cache.has(runId);
    for (let attempt = 0; attempt < 50; attempt++) {
      const st = await this.load(runId, refreshed);
      if (!st) return null;
      const prepared = step(st.compiled, st.snapshot, st.seq, inputs, this.now());
      // An input the cached state refuses may fit the run as it is now: look once more before dropping it.
      if (prepared.stale.length > 0 && !refreshed) { refreshed = true; attempt--; continue; }
      let next = st;
      if (prepared.events.length > 0) {
        try {
          const r = await this.store.append({ runId, expectedSeq: st.seq, dedupId: `${runId}/${st.seq + 1}/${opts.commitKey ?? 'step'}`, events: prepared.events });
          if (this.snapshots && snapshotDue(st.seq, prepared.seq, this.snapshotEvery)) this.snapshot(st.compiled, prepared.snapshot, prepared.seq, r.position ?? null);
        } catch (err) {
          if (!(err instanceof AppendConflictError)) throw err;
          this.stats.conflicts++;
          refreshed = true;
          continue;
        }
        this.stats.commits++;
        // The commit's first event is the first input's (what a verdict names as the event that recorded it).
        opts.firstSeq?.(st.seq + 1);
        this.opts.onCommit?.(prepared.events, st.snapshot, prepared.snapshot);
        next = { ...st, snapshot: prepared.snapshot, seq: prepared.seq };
        this.remember(runId, next);
      }
      this.stats.stale += prepared.stale.length;
      for (const s of prepared.stale) this.log(`run ${runId}: ${s.event.type} no longer applies (${s.reason})`);
      // After a redelivery the engine before us may have died between append and publish, and a stale
      // input may mean another engine moved the run on: then publish everything outstanding (message ids dedup).
      const everything = opts.reconcile === true || prepared.stale.length > 0;
      await this.publish(everything ? reconcile(next.compiled, next.snapshot) : prepared.events.length > 0 ? prepared.effects : [], next.compiled);
      await this.notify(runId, st, prepared.events, everything || fromLog);
      // The engine that wrote a child run's last commit tells its parent (a redelivery tells it again: the message id dedups).
      if (st.snapshot.status === 'active' && next.snapshot.status !== 'active') await this.reportToParent(runId, next);
      return next;
    }
    throw new Error(`run ${runId}: gave up after 50 conflicting appends`);
  }

  /**
   * Delivers what a commit made due, in the background (the message's ack
   * waits for it, not the run). `fromHistory`: the engine before may have
   * died between a commit and its deliveries, so the run's whole history is
   * read for what it owes (only for a run with notification rules).
   */
  private async notify(runId: string, st: Loaded, events: EventEnvelope[], fromHistory: boolean): Promise<void> {
    const definition = st.compiled.definition;
    if (!this.notifier.hasRules(definition)) return;
    const held = deliveryScope.getStore();
    if (fromHistory) {
      held?.push(this.notifier.catchUp(await this.store.read(runId)).done);
      return;
    }
    if (events.length > 0) held?.push(this.notifier.committed(events, st.snapshot, definition));
  }

  /** A notification given up on: a dead letter on lf.dlq.notifications, the body kept (it is not replayed: ledgerflow itself delivers again what a history does not note). */
  private async deadLetterNotification(d: PendingDelivery, outcome: Extract<DeliveryOutcome, { delivered: false }>): Promise<void> {
    const raw = JSON.stringify(notificationBody(d.notification));
    this.stats.deadLetters++;
    await this.js.publish(subjects.dlq('notifications'), new TextEncoder().encode(JSON.stringify({
      reason: `notification ${d.notification.id} (${d.notification.on}) to ${d.target.key}: given up after ${outcome.attempts} tr${outcome.attempts === 1 ? 'y' : 'ies'}; the last failed with: ${outcome.error.slice(0, 1500)}`,
      at: iso(this.now()), stage: 'notification', runId: d.notification.runId, ...(d.notification.task !== undefined ? { taskId: d.notification.task } : {}),
      size: Buffer.byteLength(raw), sha256: createHash('sha256').update(raw).digest('hex'), raw,
    })), { msgID: `dlq/notification/${d.notification.id}/${d.target.key}` });
  }

  /**
   * Writes the run's snapshot in the background: the step does not wait for
   * it. A failed write is logged and changes nothing (the next one, or the
   * log, serves). Writes of one run go out in commit order on one connection.
   */
  private snapshot(compiled: CompiledWorkflow, snapshot: RunSnapshot, seq: number, position: number | null): void {
    const stored = snapshotOf(compiled, snapshot, seq, position, this.now());
    this.snapshots!.put(stored).then(
      () => { this.stats.snapshotsWritten++; },
      (err: unknown) => this.log(`run ${stored.runId}: snapshot at event ${seq} not written: ${(err as Error).message}`),
    );
  }

  /**
   * Interprets a step's effects on NATS: an attempt is published to its
   * handler's work queue, a timer to the timer stream, each with a message id
   * that makes publishing it again harmless. An abort settles the attempt in
   * the attempt ledger when no worker has claimed it yet, so the worker it is
   * delivered to drops it unrun (a queued attempt of a cancelled run, or a
   * restarted one whose lost run reported after all); one a worker runs
   * stops at its deadline, and its outcome is dropped as stale. Timer cancels
   * have nothing to publish: a timer the run no longer wants is stale when it
   * comes back.
   */
  private async publish(effects: Effect[], compiled?: CompiledWorkflow): Promise<void> {
    const publishes: Promise<unknown>[] = [];
    for (const effect of effects) {
      if (effect.type === 'child.start') { publishes.push(this.startChild(effect)); continue; }
      if (effect.type === 'event.emit') { publishes.push(this.emitEvent(effect)); continue; }
      // A SUB_WORKFLOW attempt (or a MAP item run as a workflow) no longer wanted (parent cancelled, timed out, settled): its child run is cancelled too.
      const aborted = effect.type === 'attempt.abort' ? compiled?.definition.tasks.find((t) => t.id === effect.taskId) : undefined;
      if (effect.type === 'attempt.abort' && (aborted?.type === 'SUB_WORKFLOW' || (aborted?.type === 'MAP' && aborted.workflow))) {
        publishes.push(this.cancelChild(childRunId(effect.runId, { task: effect.taskId, ...instanceFields(effect) }, effect.attempt), effect.runId, effect.reason));
      }
      if (effect.type === 'attempt.start') {
        const { type: _t, queue, idempotencyKey, instance: _key, task: { id: _id, ...task }, ...fields } = effect;
        const { restart, ...rest } = fields;
        const msg: TaskMessage = { ...rest, ...(restart > 0 ? { restart } : {}), task, token: this.tokens.tokenFor(effect.runId, instanceToken({ task: effect.taskId, ...instanceFields(effect) }), effect.attempt) };
        this.stats.dispatched++;
        // A restarted attempt is a new message (its own id), carrying the same attempt number and idempotency key.
        publishes.push(this.taskQueues.dispatch(queue, effect.handler, encode(msg), restart > 0 ? `${idempotencyKey}/r${restart}` : idempotencyKey));
      } else if (effect.type === 'attempt.abort') {
        // Best effort: if it fails, the attempt merely runs and its outcome is stale.
        const instance = instanceToken({ task: effect.taskId, ...instanceFields(effect) });
        publishes.push(this.ledger.abort(AttemptLedger.key(effect.runId, instance, effect.attempt, effect.restart, this.tokens.tokenFor(effect.runId, instance, effect.attempt)))
          .catch((err: unknown) => this.log(`run ${effect.runId}: could not settle ${effect.instance} attempt ${effect.attempt} in the attempt ledger: ${(err as Error).message}`)));
      } else if (effect.type === 'timer.arm') {
        const { timer } = effect;
        this.stats.timers++;
        const msg: TimerMessage = { runId: effect.runId, task: timer.task, kind: timer.kind, attempt: timer.attempt, dueAt: timer.dueAt, ...instanceFields(timer) };
        publishes.push(this.js.publish(subjects.timer(effect.runId), encode(msg), { msgID: `${effect.runId}/${timer.id}` }));
      }
    }
    await Promise.all(publishes);
  }

  /**
   * Starts a child run (a SUB_WORKFLOW attempt's, or a failed run's failure
   * workflow) like a trigger start, among the deployed definitions; once
   * only (its run id is fixed). A child that exists is not started again: if
   * it has settled, its outcome is published to the parent again. What keeps
   * it from starting (not deployed, bad input, too deep) fails the attempt.
   */
  private async startChild(effect: StartChild): Promise<void> {
    const id = effect.childRunId;
    const fail = (error: TaskError) => this.reportOutcome(effect.parent, id, { kind: 'failed', error });
    if ((await this.store.lastSeq(id)) === 0) {
      const depth = await this.depthOf(effect.parent.runId) + 1;
      if (depth > MAX_CHILD_DEPTH) {
        return fail({ code: 'LF_SUBWORKFLOW_CYCLE', retryable: false, message: `workflow ${effect.workflow} would run ${depth} levels below its top-level run (the bound is ${MAX_CHILD_DEPTH}): the sub-workflows call each other in a cycle` });
      }
      let def: Definition;
      try {
        def = await this.registry.resolve(`${effect.workflow}@${effect.version ?? 1}`).catch(() => this.registry.resolve(effect.workflow));
      } catch (err) {
        return fail({ code: 'LF_SUBWORKFLOW_NOT_FOUND', retryable: false, message: `workflow ${effect.workflow} is not deployed (${(err as Error).message})` });
      }
      const starter = new Engine({ store: this.store, clock: { now: this.now, setTimer: () => 0, clearTimer: () => {} } });
      try {
        await starter.start(def, effect.input, { runId: id, source: { parent: { ...effect.parent, depth } } });
        this.stats.childRuns++;
      } catch (err) {
        if (!(err instanceof AppendConflictError)) return fail({ ...toTaskError(err), retryable: false });
      }
    }
    const after = await this.withRun(id, () => this.process(id, [], { commitKey: 'child', reconcile: true }));
    if (after && after.snapshot.status !== 'active') await this.reportToParent(id, after);
  }

  /** How many runs are above this one, from its run.started (0 for a top-level run). */
  private async depthOf(runId: string): Promise<number> {
    const first = (await this.store.read(runId, { fromSeq: 1, toSeq: 1 }))[0];
    const parent = first?.type === 'run.started' ? first.data.source?.parent : undefined;
    return parent ? parent.depth ?? 1 : 0;
  }

  /** A settled child's outcome, published to its parent as the SUB_WORKFLOW attempt's (nothing for a failure workflow or a top-level run). */
  private async reportToParent(runId: string, run: Loaded): Promise<void> {
    if (run.parent === null) return;
    const first = run.parent === undefined ? (await this.store.read(runId, { fromSeq: 1, toSeq: 1 }))[0] : undefined;
    const parent = run.parent ?? (first?.type === 'run.started' ? first.data.source?.parent : undefined);
    if (!parent?.task) return;
    const outcome = childOutcome(runView(run.snapshot, run.seq), run.compiled.definition.id);
    if (outcome) await this.reportOutcome(parent, runId, outcome);
  }

  /** The attempt's outcome as an input from `engine`, with the attempt's token, once per child (message id). */
  private async reportOutcome(parent: StartChild['parent'], childId: string, outcome: ChildOutcome): Promise<void> {
    if (!parent.task || !parent.attempt || outcome.kind === 'waiting') return;
    const { runId, task, attempt } = parent;
    const instance = instanceFields(parent);
    const token = this.tokens.tokenFor(runId, instanceToken({ task, ...instance }), attempt);
    const time = iso(this.now());
    const msg: InputMessage = outcome.kind === 'completed'
      ? { type: 'task.completed', runId, time, token, data: { task, attempt, ...instance, output: outcome.output ?? null } }
      : { type: 'task.failed', runId, time, token, data: { task, attempt, ...instance, error: outcome.error } };
    // The token's digest in the id: a worker could write `<childId>/outcome` ahead of a predictable child (attempt-tokens.ts).
    await this.js.publish(subjects.input(ENGINE_SENDER, runId), encode(msg), { msgID: `${childId}/${tokenDigest(token)}/outcome` });
  }

  /** Cancels a child run whose parent attempt is no longer wanted (nothing when it never started or has settled). */
  private async cancelChild(childId: string, parentRunId: string, reason: string): Promise<void> {
    const time = iso(this.now());
    await this.withRun(childId, () => this.process(childId, [{ type: 'run.cancelled', time, data: { by: `run ${parentRunId}`, reason: `its parent's attempt ended: ${reason}` } }], { commitKey: 'cancel' }))
      .catch((err: unknown) => this.log(`run ${parentRunId}: could not cancel child run ${childId}: ${(err as Error).message}`));
  }

  /**
   * An EMIT attempt: the event goes on lf.triggers.<event> with the attempt's
   * event id as its message id (a re-run publishes it once), and the attempt
   * completes with the runs the deployed triggers start for it. An event no
   * workflow triggers on is not published (it would be dead-lettered): the
   * attempt completes with `runs: []` and a note.
   */
  private async emitEvent(effect: EmitEvent): Promise<void> {
    const definitions = await this.latestDefinitions();
    const event = { id: effect.eventId, type: effect.event, time: iso(this.now()), source: `ledgerflow:${effect.runId}`, data: effect.data };
    const admission = admitEvent(event, { definitions, eventTypes: this.opts.eventTypes ?? new Map() });
    const parent = { runId: effect.runId, workflowId: '', task: effect.taskId, ...instanceFields(effect), attempt: effect.attempt };
    const base = { event: effect.event, eventId: effect.eventId };
    if (!admission.accepted && admission.stage === 'unknown_type') {
      return this.reportOutcome(parent, effect.eventId, { kind: 'completed', output: { ...base, runs: [], note: `no workflow triggers on ${effect.event}: no run started` } });
    }
    if (!admission.accepted) {
      return this.reportOutcome(parent, effect.eventId, { kind: 'failed', error: { code: 'LF_EVENT_REJECTED', retryable: false, message: `event ${effect.eventId} (${effect.event}) was rejected: ${admission.reason}` } });
    }
    let subject: string;
    try {
      subject = subjects.trigger(effect.event);
    } catch (err) {
      return this.reportOutcome(parent, effect.eventId, { kind: 'failed', error: { code: 'LF_EVENT_REJECTED', retryable: false, message: `cannot emit ${effect.event} on NATS: ${(err as Error).message}` } });
    }
    await this.js.publish(subject, encode(event), { msgID: effect.eventId });
    const runs = admission.matches.map((m) => ({ runId: runIdForEvent(effect.eventId, m.definition.id), workflowId: m.definition.id, version: m.definition.version }));
    await this.reportOutcome(parent, effect.eventId, { kind: 'completed', output: { ...base, runs, ...(runs.length === 0 ? { note: `no trigger of ${effect.event} matched the event's data: no run started` } : {}) } });
  }

  private async latestDefinitions(): Promise<Definition[]> {
    if (this.now() - this.definitionsAt > 2000) {
      this.definitions = await this.registry.latestAll();
      this.definitionsAt = this.now();
    }
    return this.definitions;
  }

  /** Tells whoever waits on a verdict subject what became of their message (core NATS: nobody listening is fine). */
  private tell(subject: string | null, verdict: ApprovalVerdict | TriggerVerdict | SignalVerdict | ControlVerdict): void {
    if (subject) this.nc.publish(subject, encode(verdict));
  }

  private get maxDeliver(): number {
    return this.opts.settings?.maxDeliver ?? REDELIVERY_DEFAULTS.maxDeliver;
  }

  /** A delivery past the bound: the ones before never finished, so this one is dead-lettered, not processed. True when it was. */
  private async spent(m: JsMsg, kind: string): Promise<boolean> {
    const n = m.info.deliveryCount;
    if (n <= this.maxDeliver) return false;
    await this.deadLetter(kind, `delivered ${n} times (the bound is ${this.maxDeliver}) and never processed to the end: an engine died or hung on it each time`, m);
    m.term();
    return true;
  }

  /** Processing failed: dead-letter at the bound, else put it back with a growing delay. */
  private async failed(m: JsMsg, kind: string, durable: string, err: unknown): Promise<void> {
    // Handed back when the stop's grace ran out: it failed for the store closing under it, and is another engine's now.
    if (this.inHand.handedBack) return;
    const n = m.info.deliveryCount;
    const message = err instanceof Error ? err.message : String(err);
    if (n >= this.maxDeliver) {
      try {
        await this.deadLetter(kind, `gave up after ${n} deliveries (the bound is ${this.maxDeliver}); the last failed with: ${message}`, m);
        m.term();
        return;
      } catch (dlqErr) {
        this.log(`${durable}: could not dead-letter message ${m.seq} (${(dlqErr as Error).message}); it comes back`);
      }
    }
    const delay = retryDelayMs(n, this.opts.settings);
    this.stats.retries++;
    this.log(`${durable}: ${message}; delivery ${n} of ${this.maxDeliver}, trying again in ${delay} ms`);
    m.nak(delay);
  }

  /**
   * Writes a reference to the message and a bounded part of it to lf.dlq.<kind>
   * (dead-letters.ts), never a copy larger than a fixed bound. `discriminator`
   * tells apart several dead letters of one message (a trigger event whose
   * runs fail to start); without it, dead-lettering a message again (after a
   * crash before its ack) writes nothing new.
   */
  private async deadLetter(kind: string, reason: string, m: JsMsg, details: DeadLetterDetails = {}, discriminator?: string): Promise<void> {
    this.stats.deadLetters++;
    this.log(`dead letter (${kind}): ${reason.length > 300 ? `${reason.slice(0, 300)}…` : reason}`);
    await publishDeadLetter(this.js, subjects.dlq(kind), deadLetterOf(m, reason, iso(this.now()), details), discriminator, (id) => this.tokens.engineMessageId(id));
  }

  private async onTimer(m: JsMsg): Promise<void> {
    const parsed = TimerMessage.safeParse(decodeOrUndefined(m.data));
    if (!parsed.success) {
      await this.deadLetter('timers', `invalid timer message: ${parsed.error.message}`, m);
      m.ack();
      return;
    }
    const t = parsed.data;
    const wait = Date.parse(t.dueAt) - this.now();
    if (wait > 0) { m.nak(wait); return; } // not due: come back with the remaining delay
    if (await this.spent(m, 'timers')) return;
    // The run's own record of the timer decides when it is due, not the message: a timer never fires early.
    const early = await this.withRun(t.runId, async () => {
      const run = await this.load(t.runId);
      if (!run) return null;
      const recorded = run.snapshot.context.timers[`${instanceKey(t)}/${t.kind}/${t.attempt}`];
      const remaining = recorded ? Date.parse(recorded.dueAt) - this.now() : 0;
      if (remaining > 0) return remaining;
      const fired: PendingEvent = { type: 'timer.fired', time: iso(this.now()), data: { task: t.task, timer: t.kind, attempt: t.attempt, ...instanceFields(t) } };
      await this.process(t.runId, [fired], { commitKey: `timer-${instanceToken(t)}-${t.kind}-${t.attempt}` });
      return 0;
    });
    // A timer of a run this log does not hold would otherwise vanish without a trace.
    if (early === null) await this.deadLetter('timers', `timer ${t.task}/${t.kind}/${t.attempt} of run ${t.runId}, which does not exist`, m, { runId: t.runId, taskId: t.task });
    else if (early > 0) { m.nak(early); return; }
    m.ack();
  }

  private async onApproval(m: JsMsg): Promise<void> {
    const [, , runId, taskId, user] = m.subject.split('.');
    const body = ApprovalMessage.safeParse(decodeOrUndefined(m.data));
    // The run id comes from the subject: one no run can have (é, 200 characters) is refused here, not retried against the store forever.
    const badRun = runId !== undefined && !RunIdSchema.safeParse(runId).success;
    if (!runId || !taskId || !user || badRun || !body.success) {
      const why = badRun ? `: "${runId.slice(0, 140)}" is not a run id (1-128 characters among A-Z a-z 0-9 _ -)` : body.success ? '' : `: ${body.error.issues.map((i) => i.message).join('; ')}`;
      await this.deadLetter('approvals', `malformed approval on ${m.subject.slice(0, 300)}${why}`, m);
      m.ack();
      return;
    }
    const { decision, comment } = body.data;
    await this.withRun(runId, async () => {
      const st = await this.load(runId, true);
      const verdict = safeSubject(() => subjects.approvalVerdict(runId, taskId, user));
      if (!st) {
        const reason = `approval of ${taskId} by ${user} for run ${runId}, which does not exist`;
        await this.deadLetter('approvals', reason, m, { runId, taskId, by: user });
        this.stats.refused++;
        this.tell(verdict, { decision, accepted: false, reason } satisfies ApprovalVerdict);
        return;
      }
      const review = reviewApproval(st.compiled, st.snapshot, { taskId, decision, by: user, time: iso(this.now()), ...(comment !== undefined ? { comment } : {}) });
      if (review.accepted) this.stats.approvals++;
      else {
        this.stats.refused++;
        this.log(`run ${runId}: refused ${decision} of ${taskId} by ${user}: ${review.reason}`);
      }
      if (!review.accepted && review.event === null) {
        // It names no HUMAN task of the run: nothing for its history; kept as a dead letter with the reason.
        await this.deadLetter('approvals', `${decision} of ${taskId} by ${user} for run ${runId}: ${review.reason}`, m, { runId, taskId, by: user });
        this.tell(verdict, { decision, accepted: false, reason: review.reason } satisfies ApprovalVerdict);
        return;
      }
      let seq: number | undefined;
      await this.process(runId, [review.event!], { commitKey: `ap${m.seq}`, firstSeq: (s) => { seq = s; } });
      this.tell(verdict, { decision, accepted: review.accepted, ...(review.accepted ? {} : { reason: review.reason, ...(review.notApprover ? { notApprover: true as const } : {}) }), ...(seq !== undefined ? { seq } : {}) } satisfies ApprovalVerdict);
    });
    m.ack();
  }

  /**
   * A signal on lf.signals.<sender>.<runId>: recorded (by = the sender) when a
   * WAIT of the run takes it (reviewSignal), else refused with the reason and
   * not recorded. Malformed ones and ones for runs that do not exist are
   * dead-lettered, as approvals are.
   */
  private async onSignal(m: JsMsg): Promise<void> {
    const [, , sender, runId] = m.subject.split('.');
    const body = SignalMessage.safeParse(decodeOrUndefined(m.data));
    const badRun = runId !== undefined && !RunIdSchema.safeParse(runId).success;
    if (!runId || !sender || badRun || !body.success) {
      const why = badRun ? `: "${runId.slice(0, 140)}" is not a run id (1-128 characters among A-Z a-z 0-9 _ -)` : body.success ? '' : `: ${body.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ')}`;
      await this.deadLetter('signals', `malformed signal on ${m.subject.slice(0, 300)}${why}`, m);
      m.ack();
      return;
    }
    const { name, data } = body.data;
    await this.withRun(runId, async () => {
      const st = await this.load(runId, true);
      const verdict = safeSubject(() => subjects.signalVerdict(sender, runId));
      if (!st) {
        const reason = `signal "${name}" from ${sender} for run ${runId}, which does not exist`;
        await this.deadLetter('signals', reason, m, { runId, by: sender });
        this.stats.refused++;
        this.tell(verdict, { name, accepted: false, reason } satisfies SignalVerdict);
        return;
      }
      const review = reviewSignal(st.compiled, st.snapshot, {
        name, time: iso(this.now()), by: sender, ...(data !== undefined ? { data } : {}), ...(this.sendersProven ? {} : { unauthenticated: true }),
      });
      if (!review.accepted) {
        this.stats.refused++;
        this.log(`run ${runId}: refused signal "${name}" from ${sender}: ${review.reason}`);
        this.tell(verdict, { name, accepted: false, reason: review.reason } satisfies SignalVerdict);
        return;
      }
      this.stats.signals++;
      let seq: number | undefined;
      await this.process(runId, [review.event], { commitKey: `sg${m.seq}`, firstSeq: (s) => { seq = s; } });
      this.tell(verdict, { name, accepted: true, ...(seq !== undefined ? { seq } : {}) } satisfies SignalVerdict);
    });
    m.ack();
  }

  /**
   * A pause, resume or cancel on lf.control.<sender>.<runId>: recorded
   * (run.paused / run.resumed / run.cancelled, by = the sender) through
   * process() when the run takes it, so its effects go out as any step's (a
   * cancel aborts the run's attempts and cancels the child runs of its
   * SUB_WORKFLOW and MAP-workflow attempts); else refused with the reason
   * (settled, already paused, not paused) and not recorded. Either way the
   * sender hears the verdict. Malformed ones and ones for runs that do not
   * exist are dead-lettered, as signals are.
   */
  private async onControl(m: JsMsg): Promise<void> {
    const [, , sender, runId, ...rest] = m.subject.split('.');
    const body = ControlMessage.safeParse(decodeOrUndefined(m.data));
    const badRun = runId !== undefined && !RunIdSchema.safeParse(runId).success;
    if (!runId || !sender || rest.length > 0 || badRun || !body.success) {
      const why = badRun ? `: "${runId.slice(0, 140)}" is not a run id (1-128 characters among A-Z a-z 0-9 _ -)`
        : !body.success ? `: ${body.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ')}`
          : ': run control is published on lf.control.<sender>.<runId>';
      await this.deadLetter('control', `malformed run control on ${m.subject.slice(0, 300)}${why}`, m);
      m.ack();
      return;
    }
    const { action, reason } = body.data;
    await this.withRun(runId, async () => {
      const st = await this.load(runId, true);
      const verdict = safeSubject(() => subjects.controlVerdict(sender, runId));
      if (!st) {
        const why = `${action} from ${sender} for run ${runId}, which does not exist`;
        await this.deadLetter('control', why, m, { runId, by: sender });
        this.stats.refused++;
        this.tell(verdict, { action, accepted: false, reason: why } satisfies ControlVerdict);
        return;
      }
      const by = { by: sender, ...(this.sendersProven ? {} : { unauthenticated: true as const }) };
      const time = iso(this.now());
      const withReason = { ...by, ...(reason !== undefined ? { reason } : {}) };
      const ev: PendingEvent = action === 'pause' ? { type: 'run.paused', time, data: withReason }
        : action === 'cancel' ? { type: 'run.cancelled', time, data: withReason }
          : { type: 'run.resumed', time, data: by };
      // Judged on the run as it is now (read fresh above); a refusal records nothing.
      if (!applyEvent(st.compiled, st.snapshot, ev).accepted) {
        const why = rejectionReason(st.snapshot, ev);
        this.stats.refused++;
        this.log(`run ${runId}: refused ${action} from ${sender}: ${why}`);
        this.tell(verdict, { action, accepted: false, reason: why, status: runView(st.snapshot, st.seq).status } satisfies ControlVerdict);
        return;
      }
      this.stats.controls++;
      let seq: number | undefined;
      const after = await this.process(runId, [ev], { commitKey: `ct${m.seq}`, firstSeq: (s) => { seq = s; } });
      const status = after ? runView(after.snapshot, after.seq).status : undefined;
      // Another engine may have settled the run between the check and the commit (an outcome it folded): then process() found the cancel stale and recorded nothing.
      if (action === 'cancel' && status !== undefined && status !== 'CANCELLED') {
        this.tell(verdict, { action, accepted: false, reason: `the run is already ${status}`, status } satisfies ControlVerdict);
        return;
      }
      this.tell(verdict, { action, accepted: true, ...(after ? { status: status! } : {}), ...(seq !== undefined ? { seq } : {}) } satisfies ControlVerdict);
    });
    m.ack();
  }

  private definitionsAt = 0;
  private definitions: Definition[] = [];

  private async onTrigger(m: JsMsg): Promise<void> {
    await this.latestDefinitions();
    const body = decodeOrUndefined(m.data);
    const admission = admitEvent(body, { definitions: this.definitions, eventTypes: this.opts.eventTypes ?? new Map() });
    const raw = body as { id?: unknown } | undefined;
    const verdict = typeof raw?.id === 'string' ? safeSubject(() => subjects.triggerVerdict(raw.id as string)) : null;
    if (!admission.accepted) {
      await this.deadLetter('triggers', admission.reason, m, { stage: admission.stage, problems: admission.problems });
      this.tell(verdict, { accepted: false, reason: admission.reason, stage: admission.stage, runs: [] } satisfies TriggerVerdict);
      m.ack();
      return;
    }
    const runs: TriggerVerdict['runs'] = [];
    const starter = new Engine({ store: this.store, clock: { now: this.now, setTimer: () => 0, clearTimer: () => {} } });
    for (const match of admission.matches) {
      const runId = runIdForEvent(admission.event.id, match.definition.id);
      await this.withRun(runId, async () => {
        // The run id comes from the event id: a second delivery finds the run and starts nothing.
        if ((await this.store.lastSeq(runId)) === 0) {
          try {
            await starter.start(match.definition, match.input, { runId, source: { event: admission.event.id } });
            this.stats.triggered++;
            runs.push({ runId, workflowId: match.definition.id, started: true });
          } catch (err) {
            // A run that cannot start will not start on another delivery either: dead-letter it, don't retry forever.
            if (err instanceof RunCannotStartError) {
              await this.deadLetter('triggers', err.message, m, { stage: 'start', runId }, runId);
              runs.push({ runId, workflowId: match.definition.id, started: false, reason: err.message });
              return;
            }
            if (!(err instanceof AppendConflictError)) throw err;
            runs.push({ runId, workflowId: match.definition.id, started: false, reason: 'already started by this event' });
          }
        } else {
          runs.push({ runId, workflowId: match.definition.id, started: false, reason: 'already started by this event' });
        }
        // Whoever wrote the start commit, its effects (first attempts, an approval deadline) are published here.
        await this.process(runId, [], { commitKey: 'trigger', reconcile: true });
      });
    }
    this.tell(verdict, { accepted: true, runs } satisfies TriggerVerdict);
    m.ack();
  }
}

/** A subject from ids that may not fit in one (then there is no verdict to send: null). */
function safeSubject(make: () => string): string | null {
  try { return make(); } catch { return null; }
}

/**
 * The message as a handler sees it, with its ack held until the notification
 * deliveries its processing started have ended (delivered or given up on,
 * and noted): an engine that dies before leaves it unacked for another.
 * Everything else (nak, term, working) goes to the message as it is.
 */
function holdAck(m: JsMsg, handedBack: () => boolean): { msg: JsMsg; deliveries: Promise<void>[]; acked: () => Promise<void> } {
  const deliveries: Promise<void>[] = [];
  let acked: Promise<void> = Promise.resolve();
  const msg = new Proxy(m, {
    get(target, prop) {
      if (prop === 'ack') {
        return () => {
          if (deliveries.length === 0) target.ack();
          // Deliveries cut off by a stop were not noted: the message was handed back, so that the next engine delivers them.
          else acked = Promise.allSettled(deliveries).then(() => { if (!handedBack()) target.ack(); });
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { msg, deliveries, acked: () => acked };
}
