/**
 * `ledgerflow engine`: a long-running process that shares the work of a
 * cluster. It takes runtime inputs, timer messages, approvals and trigger
 * events from shared durable consumers; for each, it loads the run (cache, or
 * replay of its subject), folds, appends with the expected last sequence and
 * only then publishes the effects (task attempts for workers, timer
 * messages) and acks. A conflict means another engine moved the run on:
 * reload and retry (commitWithRetry, the executors' one commit loop). An engine killed at any point leaves its unacked message
 * to another engine, which finds the log as it was and finishes the job;
 * effects carry message ids (runId/task/attempt, runId/timer) so publishing
 * them again within the dedup window writes nothing twice.
 *
 * This file is the engine's start-up and stop, and its public face; each
 * part is a file of its own, wired here: run-host.ts (the runs held and the
 * one commit), inbox.ts (consumers, delivery bounds, dead letters, verdicts),
 * parse.ts (what every message says), routes.ts and inputs.ts (what each
 * message does), effects.ts, children.ts, trigger-events.ts,
 * notifications.ts and schedule-loop.ts.
 */
import type { Actor, Level } from '../../authority/index.js';
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { EventEnvelope } from '../../events/index.js';
import type { RunSnapshot, WaitAttempt } from '../../runtime/index.js';
import type { Notifier, NotificationsConfig } from '../../notify/index.js';
import { startRunIndexProjection, type RunIndexProjection } from '../../query/index.js';
import {
  JetStreamEventStore,
  JetStreamSnapshotStore,
  type JetStreamSnapshotOptions,
  type JetStreamStoreOptions,
  jetstream,
  jetstreamManager,
} from '../../store/index.js';
import type { EventTypeSpec, Scheduler } from '../../triggers/index.js';
import { admitAfterSettle, startAdmissionSweep } from './admissions.js';
import {
  AttemptTokens,
  AttemptLedger,
  BatchSigner,
  DefinitionRegistry,
  InHand,
  STOP_GRACE_MS,
  hasUsers,
  DEFAULT_TASK_ACK_WAIT_MS,
  ensureCluster,
  ENGINE_CONSUMERS,
  STREAMS,
  TaskQueues,
  PresenceRegistry,
  UnservedLog,
  publishAttemptKey,
  type ClusterSettings,
  type Custody,
} from '../transport/index.js';
import { engineFailureSteps } from './failure-steps.js';
import { engineTransforms } from './transforms.js';
import { ChildRuns } from './children.js';
import { serveDirectReports } from './direct-reports.js';
import { DirectDispatch } from './direct-dispatch.js';
import { randomHex, useNativeDigest, type ChildRef } from '../../executor/index.js';
import { LimitsWatch } from '../../limits/index.js';
import { publishEffects } from './effects.js';
import { publishWait, skilledBy, takeGateWait } from './gate-waits.js';
import { Inbox, type Lifecycle } from './inbox.js';
import { takeInput, type InputHost } from './inputs.js';
import { startLegacyTaskMover } from './legacy-tasks.js';
import { engineNotifier, notifyCommit } from './notifications.js';
import { Routes } from './routes.js';
import { Requests } from './requests.js';
import { LetterRate } from './letter-rate.js';
import { RunHost } from './run-host.js';
import { startScheduleLoop } from './schedule-loop.js';
import { TriggerEvents } from './trigger-events.js';
import { KvGateStore, StreamGateLog } from './trigger-gates.js';

/** Dead letters of one sender's refused reports a minute: an honest worker has none; a forger's flood must not push out the engines' letters. */
const REFUSED_REPORT_LETTERS_PER_MINUTE = 20;

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
  /** How often this engine looks for queued runs a lost engine left without admission (admissions.ts; default 30 s, and once at start). */
  admissionSweepMs?: number;
  /**
   * Offer each attempt straight to an idle worker before queueing it (direct-dispatch.ts). On by default; `false` puts
   * every attempt on its queue's stream (docs/architecture-notes.md#the-cluster-path-engine-to-worker-to-engine).
   */
  directDispatch?: boolean;
}

export const DEFAULT_SNAPSHOT_EVERY = 1000;

export class ClusterEngine {
  readonly store: JetStreamEventStore;
  readonly snapshots: JetStreamSnapshotStore | null;
  private readonly snapshotEvery: number;
  registry!: DefinitionRegistry;
  private direct: DirectDispatch | null = null;
  private limits: LimitsWatch | null = null;
  /** The name workers report offered attempts to (lf.reports.<sender>.<queue>.<runId>.<name>); made at start(). */
  reportName = '';
  private closeOwnReports: () => void = () => {};
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
    inputs: 0,
    forged: 0,
    /** Outcomes workers handed straight to this engine (lf.reports) that it recorded: not taken from LF_INPUTS. */
    directReports: 0,
    /** Attempts offered straight to workers; taken by one (or maybe: no answer); queued later because their worker went quiet. */
    offered: 0,
    handedOver: 0,
    carried: 0,
    requeued: 0,
    restarts: 0,
    commits: 0,
    conflicts: 0,
    stale: 0,
    dispatched: 0,
    timers: 0,
    approvals: 0,
    signals: 0,
    controls: 0,
    starts: 0,
    deploys: 0,
    limits: 0,
    refused: 0,
    triggered: 0,
    deadLetters: 0,
    /** Deliveries whose processing failed and that were put back to be tried again (with a growing delay). */
    retries: 0,
    /** Refusals past their sender's dead-letter rate (letter-rate.ts): refused and acked, no letter kept; reports, and decisions naming no HUMAN task. */
    unletteredReports: 0,
    unletteredDecisions: 0,
    snapshotsWritten: 0,
    snapshotLoads: 0,
    snapshotsRefused: 0,
    /** Child runs started (SUB_WORKFLOW attempts, failure workflows). */
    childRuns: 0,
    /** Runs this engine started for schedule slots it claimed. */
    scheduled: 0,
    /** Schedule ticks done (each fires what is due at that moment). */
    scheduleTicks: 0,
  };
  /** Delivers the notifications of the commits this engine makes (src/notify). */
  notifier!: Notifier;
  /** Fires schedule slots (null: this engine fires none). */
  scheduler: Scheduler | null = null;
  /** The run index projection this engine runs (null with `runIndex: false`, or before start). */
  runIndex: RunIndexProjection | null = null;

  constructor(private readonly opts: ClusterEngineOptions) {
    useNativeDigest();
    this.store = new JetStreamEventStore(typeof opts.nats === 'string' ? { servers: opts.nats } : opts.nats);
    this.snapshotEvery = opts.snapshots?.every ?? DEFAULT_SNAPSHOT_EVERY;
    this.snapshots =
      this.snapshotEvery > 0 ? new JetStreamSnapshotStore(() => this.store.connection(), opts.snapshots) : null;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  /**
   * Connects, makes sure the streams and buckets exist, wires the parts (each
   * its own file: the run host, the inbox and its routes, effects, child runs,
   * trigger events, notifications, schedules) and starts taking messages.
   */
  async start(): Promise<void> {
    const { opts, stats, now, log, store } = this;
    const settings = opts.settings;
    const nc: NatsConnection = await store.connection();
    const js: JetStreamClient = jetstream(nc);
    const jsm: JetStreamManager = await jetstreamManager(nc);
    await ensureCluster(jsm, { ...settings, ...(nc.info?.max_payload ? { maxPayload: nc.info.max_payload } : {}) });
    const tokens = await AttemptTokens.open(js, settings);
    const ledger = await AttemptLedger.open(nc);
    this.notifier = engineNotifier({
      store,
      nc,
      js,
      stats,
      now,
      log,
      ...(opts.notifications ? { notifications: opts.notifications } : {}),
      ...(opts.onNoted ? { onNoted: opts.onNoted } : {}),
    });
    const url = typeof opts.nats === 'string' ? opts.nats : [opts.nats.servers].flat().join(',');
    this.sendersProven = await hasUsers(url);
    const stored = {
      ...(settings?.replicas ? { replicas: settings.replicas } : {}),
      ...(settings?.storage ? { storage: settings.storage } : {}),
    };
    const registry = (this.registry = new DefinitionRegistry(js, stored));
    // Who serves which handler, as workers announce it: said in the log when nobody does, and to whoever asks (presence.ts).
    // With a users file, each worker heard is said with its NATS user's level (the agents view).
    const presence = new PresenceRegistry(
      nc,
      Date.now,
      opts.users ? (user) => (this.sendersProven ? (opts.users!.get(user)?.level ?? 'L3') : undefined) : undefined,
    );
    presence.start();
    this.stops.push(() => presence.stop());
    const unserved = new UnservedLog(presence, log);
    // Attempts that require skills start once a worker with them all is heard (skill routing, gate-waits.ts).
    const skilled = skilledBy(presence, log);
    // Every attempt handed out is signed; workers run none that is not (attempt-keys.ts), and read the key from LF_KEYS.
    await publishAttemptKey(js, tokens, settings);
    const sign = (data: Uint8Array) => tokens.sign(data);
    const offerSigner = new BatchSigner(sign);
    const taskQueues = new TaskQueues(
      jsm,
      js,
      settings,
      (subject) => nc.publish(subject),
      (queue, handler) => unserved.handedOut(queue, handler),
      sign,
    );
    // Attempts offered straight to idle workers, the queue when none takes one (direct-dispatch.ts).
    const engineName = (this.reportName = `e${randomHex(6)}`);
    const direct = (this.direct =
      opts.directDispatch === false
        ? null
        : new DirectDispatch({
            nc,
            engine: engineName,
            leaseMs: settings?.taskAckWaitMs ?? DEFAULT_TASK_ACK_WAIT_MS,
            stats,
            open: () => this.inHand.open,
            log,
            now,
            // Offers are signed a batch per turn of the event loop (attempt-batch.ts); queued attempts alone, as workers before batches read them.
            custodyCheckMs: () => inbox.heartbeatMs,
            sign: (data) => offerSigner.sign(data),
          }));
    const life: Lifecycle = { stopped: () => this.stopped, stops: this.stops, loops: this.loops };
    startLegacyTaskMover({ jsm, queues: taskQueues, log }, life);
    const inbox = new Inbox({
      nc,
      js,
      tokens,
      inHand: this.inHand,
      life,
      stats,
      now,
      log,
      ...(settings ? { settings } : {}),
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    });
    if (direct) {
      direct.start();
      // A connection dropped or moved to another node may have let the held messages' ack waits run out.
      void (async () => {
        for await (const s of nc.status())
          if (s.type === 'disconnect' || s.type === 'reconnect') direct.custodyLapsed(`NATS connection: ${s.type}`);
      })().catch(() => undefined);
    }

    // The run host hands each commit on to the parts made after it (called only once messages flow).
    const notifier = this.notifier;
    // The limits file's limits (`ledgerflow limits set`), read before any message is taken and every 2 s after.
    const limits = (this.limits = new LimitsWatch(store, log));
    await limits.start();
    const host = new RunHost({
      limits: () => limits.current(),
      store,
      snapshots: this.snapshots,
      snapshotEvery: this.snapshotEvery,
      stats,
      now,
      log,
      ...(opts.onCommit ? { onCommit: opts.onCommit } : {}),
      stored: (runId, events, position, after) => this.runIndex?.stored(runId, events, position, after),
      after: {
        publish: (effects, compiled, fresh, custody) =>
          publishEffects(effectsOptions, custody, effects, compiled, fresh),
        notify: (runId, before, events, fromHistory, custody) =>
          notifyCommit(notifier, store, runId, before, events, fromHistory, custody),
        settled: async (runId, run) => {
          await children.reportToParent(runId, run);
          // Its concurrency slot frees: the queued runs it lets in are admitted and kicked (admissions.ts).
          await admitAfterSettle({ store, js, now, log }, runId, run);
        },
      },
    });
    const children = new ChildRuns({ store, js, host, registry, tokens, stats, now, log });
    const gateSettings = {
      ...(settings?.replicas ? { replicas: settings.replicas } : {}),
      ...(settings?.storage ? { storage: settings.storage } : {}),
    };
    const gates = { store: new KvGateStore(js, gateSettings), log: new StreamGateLog(js, jsm, gateSettings) };
    const triggers = new TriggerEvents({
      js,
      host,
      inbox,
      children,
      registry,
      eventTypes: opts.eventTypes ?? new Map(),
      stats,
      now,
      gates,
      log,
    });
    const effectsOptions = {
      js,
      tokens,
      ledger,
      taskQueues,
      stats,
      log,
      direct,
      startChild: (e: Parameters<ChildRuns['start']>[0], custody: Custody | null) => children.start(e, custody),
      cancelChild: (child: ChildRef, reason: string, custody: Custody | null) =>
        children.cancel(child, reason, custody),
      emitEvent: (e: Parameters<TriggerEvents['emit']>[0]) => triggers.emit(e),
      waitAttempt: (e: WaitAttempt) => publishWait(js, e).then(() => undefined),
      failureStep: engineFailureSteps({
        nc,
        js,
        store,
        notifier,
        children,
        projectDir: opts.projectDir ?? process.cwd(),
        log,
      }),
      transform: engineTransforms({ children, now, log }),
    };
    const users = opts.users;
    const levelOf = users
      ? (user: string): Level => (this.sendersProven ? (users.get(user)?.level ?? 'L3') : 'L3')
      : undefined;
    const routes = new Routes({
      host,
      inbox,
      stats,
      sendersProven: () => this.sendersProven,
      now,
      log,
      history: (runId) => store.read(runId),
      ...(levelOf ? { levelOf } : {}),
      started: async (runId) => {
        const [first] = await store.read(runId, { toSeq: 1 });
        return first?.type === 'run.started' ? first.data.source : undefined;
      },
    });
    // A worker's refused reports (forged, of another queue's attempt, malformed) cost a few dead letters a minute, not one each.
    const reportLetters = new LetterRate({
      perMinute: REFUSED_REPORT_LETTERS_PER_MINUTE,
      what: 'refused reports',
      now,
      log,
    });
    const inputs: InputHost = {
      tokens,
      stats,
      sendersProven: () => this.sendersProven,
      now,
      log,
      letterAllowed: (sender) => reportLetters.allow(sender),
      withRun: (runId, fn) => host.withRun(runId, fn),
      load: (runId, fresh) => host.load(runId, fresh),
      process: (runId, events, o) => host.process(runId, events, o),
      deadLetter: (kind, reason, m, details) => inbox.deadLetter(kind, reason, m, details),
      dropMalformed: (kind, m, malformed) => inbox.dropMalformed(kind, m, malformed),
      // Longer than an engine holds an input: the outcome it waits for may be with an engine that died.
      finishedRecheckMs: (settings?.engineAckWaitMs ?? 10_000) + 2000,
      // After the commit's effects are handed on (the next attempt offered under this run's custody, kept meanwhile).
      ...(direct ? { reported: (e) => direct.reported(e) } : {}),
    };
    inbox.consume(STREAMS.inputs.name, ENGINE_CONSUMERS.inputs, 'inputs', (m, custody) =>
      takeInput(inputs, m, custody),
    );
    this.closeOwnReports = serveDirectReports({
      nc,
      host: inputs,
      inHand: this.inHand,
      life,
      stats,
      direct: direct ? { dispatch: direct, engine: engineName } : null,
    });
    // A timer checks its delivery bound itself, once due: the puts-back of a timer not due yet are deliveries too.
    // Waits of gated tasks share the timers' stream (gate-waits.ts): put back until their gate lets them start.
    inbox.consume(
      STREAMS.timers.name,
      ENGINE_CONSUMERS.timers,
      'timers',
      (m, custody) =>
        m.subject.endsWith('.gate')
          ? takeGateWait({ js, store, host, now, log, skilled }, m, custody)
          : routes.timer(m, custody),
      { boundFirst: false },
    );
    inbox.consume(STREAMS.approvals.name, ENGINE_CONSUMERS.approvals, 'approvals', (m, custody) =>
      routes.input('approval', m, custody),
    );
    inbox.consume(STREAMS.triggers.name, ENGINE_CONSUMERS.triggers, 'triggers', (m, custody) =>
      triggers.take(m, custody),
    );
    inbox.consume(STREAMS.signals.name, ENGINE_CONSUMERS.signals, 'signals', (m, custody) =>
      routes.input('signal', m, custody),
    );
    inbox.consume(STREAMS.control.name, ENGINE_CONSUMERS.control, 'control', (m, custody) =>
      routes.input('control', m, custody),
    );
    // A person's starts, retries and deploys, judged by their level (requests.ts) and done as this engine's user.
    const actorOf = users
      ? (user: string): Actor => {
          const u = this.sendersProven ? users.get(user) : undefined;
          return { name: user, level: u?.level ?? 'L3', ...(u?.domains ? { domains: u.domains } : {}) };
        }
      : undefined;
    const requests = new Requests({
      store,
      js,
      jsm,
      registry,
      inbox,
      stats,
      sendersProven: () => this.sendersProven,
      now,
      log,
      ...(actorOf ? { actorOf } : {}),
      ...(nc.info?.max_payload ? { maxPayload: nc.info.max_payload } : {}),
    });
    inbox.consume(STREAMS.requests.name, ENGINE_CONSUMERS.requests, 'requests', (m) => requests.take(m));
    triggers.startGateLoop(life, opts.schedules ? opts.schedules.tickMs : undefined);
    // A settle admits at once; this finds what an engine lost between a settle and its admissions left QUEUED.
    startAdmissionSweep({ store, js, now, log, workflows: () => registry.latestAll() }, life, opts.admissionSweepMs);
    if (opts.schedules !== false) {
      const o = opts.schedules ?? {};
      this.scheduler = startScheduleLoop({
        js,
        host,
        registry,
        life,
        stats,
        now,
        log,
        ...(settings ? { settings } : {}),
        ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
        ...(o.graceMs !== undefined ? { graceMs: o.graceMs } : {}),
        ...(o.claimTimeoutMs !== undefined ? { claimTimeoutMs: o.claimTimeoutMs } : {}),
      });
    }
    if (opts.runIndex !== false) this.runIndex = await startRunIndexProjection({ store, log, ...stored });
  }

  /**
   * Stops in order: no message is taken any more, the ones in hand finish
   * (their appends, effects and the deliveries their acks wait for) within
   * the grace (`graceMs`, default stopGraceMs), what did not is handed back,
   * and only then is the store closed.
   */
  async stop(how: { graceMs?: number } = {}): Promise<void> {
    this.stopped = true;
    this.inHand.stopTaking();
    for (const s of this.stops) s();
    if (!(await this.inHand.settle(how.graceMs ?? this.opts.stopGraceMs ?? STOP_GRACE_MS))) {
      this.log(
        `stopping: ${this.inHand.handBackRest().messages} message(s) not finished within the grace handed back to the other engines`,
      );
    }
    // Reports of the attempts offered to workers came here until now (the messages held for them are settled or handed back).
    this.closeOwnReports();
    this.direct?.stop();
    this.limits?.stop();
    // Deliveries still under way are cut off, unnoted; their messages were handed back, so the next engine delivers them.
    this.notifier?.stop();
    await Promise.allSettled([...this.loops, this.runIndex?.stop()]);
    await this.store.close();
  }
}
