/**
 * `ledgerflow engine`'s start-up, stop and public face, wiring the parts (one file each; what each does and how they
 * fit: ./NOTES.md). For each message: load the run, fold, append with the expected last sequence, only then publish the
 * effects (with message ids: publishing again writes nothing twice) and ack. An engine killed at any point leaves its
 * unacked message to another, which finds the log as it was and finishes the job.
 */
import type { Actor, Level } from '../../authority/index.js';
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { StartAttempt, WaitAttempt } from '../../runtime/index.js';
import { DEFAULT_INLINE_LIMIT } from '../../definition/index.js';
import type { Notifier } from '../../notify/index.js';
import { startRunIndexProjection, type RunIndexProjection } from '../../query/index.js';
import {
  JetStreamEventStore,
  JetStreamSnapshotStore,
  jetstream,
  jetstreamManager,
  type SnapshotStore,
  ObjectBlobStore,
} from '../../store/index.js';
import { encryptedSnapshots, ringOf, sealAttempt, withDataKeys } from '../../encryption/index.js';
import type { Scheduler } from '../../triggers/index.js';
import { admitAfterSettle, startAdmissionSweep } from './admissions.js';
import {
  AttemptTokens,
  AttemptLedger,
  BatchSigner,
  DefinitionRegistry,
  InHand,
  STOP_GRACE_MS,
  hasUsers,
  senderOf,
  DEFAULT_TASK_ACK_WAIT_MS,
  ensureCluster,
  ENGINE_CONSUMERS,
  STREAMS,
  TaskQueues,
  PresenceRegistry,
  UnservedLog,
  publishAttemptKey,
  type TaskMessage,
} from '../transport/index.js';
import { engineFailureSteps } from './failure-steps.js';
import { engineTransforms } from './transforms.js';
import { ChildRuns } from './children.js';
import { DirectDispatch } from './direct-dispatch.js';
import { LocalAttempts } from './local-attempts.js';
import { externalizeFields, randomHex, surelyOver, useNativeDigest } from '../../executor/index.js';
import { LimitsWatch } from '../../limits/index.js';
import { publishEffects } from './effects.js';
import { publishWait, skilledBy } from './gate-waits.js';
import { Inbox, type Lifecycle } from './inbox.js';
import { startLegacyTaskMover } from './legacy-tasks.js';
import { engineNotifier, notifyCommit } from './notifications.js';
import { Routes } from './routes.js';
import { Requests } from './requests.js';
import { RunHost } from './run-host.js';
import { startScheduleLoop } from './schedule-loop.js';
import { TriggerEvents } from './trigger-events.js';
import { KvGateStore, StreamGateLog } from './trigger-gates.js';
import { DEFAULT_SNAPSHOT_EVERY, type ClusterEngineOptions } from './engine-options.js';
import { engineStats } from './engine-stats.js';
import { takeEngineMessages } from './engine-consumers.js';

export { DEFAULT_SNAPSHOT_EVERY, type ClusterEngineOptions } from './engine-options.js';

export class ClusterEngine {
  readonly store: JetStreamEventStore;
  readonly snapshots: SnapshotStore | null;
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
  /** Counters a test or an operator can read (engine-stats.ts). */
  readonly stats = engineStats();
  /** Delivers the notifications of the commits this engine makes (src/notify). */
  notifier!: Notifier;
  /** Fires schedule slots (null: this engine fires none). */
  scheduler: Scheduler | null = null;
  /** The run index projection this engine runs (null with `runIndex: false`, or before start). */
  runIndex: RunIndexProjection | null = null;

  constructor(private readonly opts: ClusterEngineOptions) {
    useNativeDigest();
    // Encrypted at rest when LF_DATA_KEY is among the secrets (KV LF_SECRETS, the file, the environment): the engine
    // holds the key, so its fold sees clear values and the stream and the snapshots' bucket hold ciphertext.
    this.store = withDataKeys(
      new JetStreamEventStore(typeof opts.nats === 'string' ? { servers: opts.nats } : opts.nats),
    );
    this.snapshotEvery = opts.snapshots?.every ?? DEFAULT_SNAPSHOT_EVERY;
    const ring = ringOf(this.store);
    const snapshots =
      this.snapshotEvery > 0 ? new JetStreamSnapshotStore(() => this.store.connection(), opts.snapshots) : null;
    this.snapshots = snapshots && ring ? encryptedSnapshots(snapshots, ring) : snapshots;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  /** Connects, makes sure the streams and buckets exist, wires the parts and starts taking messages. */
  async start(): Promise<void> {
    const { opts, stats, now, log, store } = this;
    const settings = opts.settings;
    const nc: NatsConnection = await store.connection();
    const js: JetStreamClient = jetstream(nc);
    const jsm: JetStreamManager = await jetstreamManager(nc);
    await ensureCluster(jsm, { ...settings, ...(nc.info?.max_payload ? { maxPayload: nc.info.max_payload } : {}) });
    // The large payloads' bucket, made here with the streams' replicas: workers only open it (store/blobs/jetstream.ts).
    await new ObjectBlobStore(async () => nc, {
      ...(settings?.replicas ? { replicas: settings.replicas } : {}),
      ...(settings?.blobsMaxBytes ? { maxBytes: settings.blobsMaxBytes } : {}),
    }).ready();
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
      // With a data key the index reads each commit as the stream holds it (sealed), never the engine's clear fold.
      stored: (runId, events, position, after) =>
        ringOf(this.store)?.loaded ? undefined : this.runIndex?.stored(runId, events, position, after),
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
    const gates = { store: new KvGateStore(js, stored), log: new StreamGateLog(js, jsm, stored) };
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
    // Attempts of the in-process worker's handlers run here, under their run's custody (local-attempts.ts).
    const local =
      direct && opts.local
        ? new LocalAttempts({
            worker: opts.local,
            direct,
            engine: engineName,
            inputs: () => consumers.inputs,
            keyed: () => Boolean(ringOf(store)?.loaded),
            stats,
            log,
          })
        : null;
    const effectsOptions = {
      local,
      js,
      tokens,
      ledger,
      taskQueues,
      stats,
      log,
      direct,
      children,
      triggers,
      waitAttempt: (e: WaitAttempt) => publishWait(js, e).then(() => undefined),
      // With a data key (loaded by the commit before the effects), an attempt's input travels sealed.
      sealAttempt: (msg: TaskMessage) => {
        const key = ringOf(store)?.loaded;
        return key ? sealAttempt(msg, key) : msg;
      },
      // A template that picked a large field out of a body: the field goes to the worker as a reference, not on the message.
      keepApart: (e: StartAttempt) => {
        const limit = e.inlineLimit ?? DEFAULT_INLINE_LIMIT;
        const blobs = store.blobs?.();
        if (!blobs || !surelyOver(e.input, limit)) return null;
        return externalizeFields(e.input, blobs, limit).then((input) => ({ ...e, input }));
      },
      failureStep: engineFailureSteps({
        nc,
        js,
        store,
        notifier,
        children,
        projectDir: opts.projectDir ?? process.cwd(),
        log,
      }),
      transform: engineTransforms({ children, now }),
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
    const consumers = takeEngineMessages({
      nc,
      js,
      store,
      tokens,
      host,
      inbox,
      routes,
      triggers,
      direct,
      engineName,
      inHand: this.inHand,
      life,
      stats,
      now,
      log,
      settings,
      skilled,
      sendersProven: () => this.sendersProven,
      ownSender: senderOf(url),
    });
    this.closeOwnReports = consumers.closeOwnReports;
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
    if (opts.schedules !== false)
      this.scheduler = startScheduleLoop({ js, host, registry, life, stats, now, log, stored, ...opts.schedules });
    if (opts.runIndex !== false) this.runIndex = await startRunIndexProjection({ store, log, ...stored });
  }

  /**
   * Stops in order: no message is taken any more, the ones in hand finish (their appends, effects and the deliveries
   * their acks wait for) within the grace (`graceMs`, default stopGraceMs), what did not is handed back, and only then
   * is the store closed.
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
    this.registry?.close();
    await this.store.close();
  }
}
