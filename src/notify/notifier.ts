/**
 * Delivery of due notifications at the edge, at least once. Whoever drives a run hands the Notifier each durable commit
 * (`committed`, or the engines' `onCommit` hook); it works out what the commit made due (rules.ts) and delivers it in
 * the background, so a slow or dead webhook never holds the run up. Each delivery ends in a note in the run's history:
 * `notification.sent`, or after the last try `notification.dead_lettered` (and, on NATS, a dead letter on
 * lf.dlq.notifications). A process that dies first leaves no note; the next driver of the run reads its history and
 * delivers what has none (`catchUp`). Receivers see the same id again then (Idempotency-Key / Nats-Msg-Id).
 */
import type { SecretsProvider } from '../secrets/index.js';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import type { Definition, NotificationRule } from '../definition/index.js';
import { errorMessage } from '../errors/index.js';
import { commitWithRetry } from '../executor/index.js';
import type { EventEnvelope, WorkflowStatus } from '../events/index.js';
import {
  applyEvent,
  workflowOf,
  workflowAfter,
  foldEvents,
  runStatus,
  waitingFor,
  type RunSnapshot,
} from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { randomBytes } from 'node:crypto';
import { DEFAULT_DELIVERY, type NotificationsConfig } from './config.js';
import { deliver, type DeliveryOutcome } from './deliver.js';
import {
  dueNotifications,
  notificationBody,
  pendingDeliveries,
  roleTargets,
  rulesOfDefinition,
  type DueNotification,
  type NotificationBody,
  type NotificationTarget,
  type PendingDelivery,
} from './rules.js';

/** What a NATS driver adds: the connection NATS targets are published on, and where dead letters go. */
interface NotifierNats {
  connection: NatsConnection;
  headers: () => MsgHdrs;
  /** Writes the dead letter of a notification given up on (lf.dlq.notifications). */
  deadLetter?: (d: PendingDelivery, outcome: Extract<DeliveryOutcome, { delivered: false }>) => Promise<void>;
}

/** What became of a message sent to one target of a role (Notifier.sendToRole). */
export interface RoleDelivery {
  target: string;
  delivered: boolean;
  attempts: number;
  statusCode?: number;
  error?: string;
}

interface NotifierOptions {
  /** The store the run's history is in: the notes are appended there. */
  store: EventStore;
  /** Global rules (applied to every run, besides each definition's own) and the delivery settings. */
  config?: Pick<NotificationsConfig, 'rules' | 'delivery'>;
  /** On NATS: NATS targets are delivered. Without it they are left (nats: true is for runs on NATS). */
  nats?: NotifierNats;
  now?: () => number;
  log?: (line: string) => void;
  /** Told each note once it is durably appended (metrics count deliveries from these: `LedgerflowMetrics.hooks.onNoted`). */
  onNoted?: (events: EventEnvelope[]) => void;
  /** Where `${secrets.NAME}` in webhook URLs and headers is read (default: LEDGERFLOW_SECRETS_FILE, then the environment; an engine: KV LF_SECRETS first). */
  secrets?: SecretsProvider;
}

const isNote = (
  e: EventEnvelope,
): e is Extract<EventEnvelope, { type: 'notification.sent' | 'notification.dead_lettered' }> =>
  e.type === 'notification.sent' || e.type === 'notification.dead_lettered';

export class Notifier {
  private readonly rules: NotificationRule[];
  private readonly settings: NotificationsConfig['delivery'];
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  /** Deliveries under way here, by `<id>|<target>`: a catch-up meanwhile does not start them twice. */
  private readonly inflight = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  /** The deliveries under way, by run: a driver keeps the run's lease until its own have ended (`idleFor`). */
  private readonly runningByRun = new Map<string, Set<Promise<void>>>();
  private readonly stopCtl = new AbortController();
  private saidNoNats = false;
  readonly stats = { sent: 0, deadLettered: 0, retries: 0, notesFailed: 0 };

  constructor(private readonly opts: NotifierOptions) {
    this.rules = opts.config?.rules ?? [];
    this.settings = opts.config?.delivery ?? DEFAULT_DELIVERY;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  /** Whether anything could ever be due for a run of this definition here. */
  hasRules(definition: Pick<Definition, 'notifications'> | Record<string, unknown>): boolean {
    return this.rules.length > 0 || rulesOfDefinition(definition).length > 0;
  }

  /** The DriverHooks.onCommit of an engine driving runs (the embedded Engine passes the run's definition). */
  readonly onCommit = (
    events: EventEnvelope[],
    before: RunSnapshot,
    _after: RunSnapshot,
    definition?: Definition,
  ): void => {
    if (!definition) return;
    void this.committed(events, before, definition);
  };

  /**
   * A durable commit: delivers what it made due, in the background. The promise settles once each of those deliveries
   * is noted (or given up on without a note: the process is stopping). `before`: the run's state before the commit
   * (then a WAITING notification names who the run waits for), or only its status.
   */
  committed(
    events: readonly EventEnvelope[],
    before: RunSnapshot | WorkflowStatus | null,
    definition: Pick<Definition, 'notifications'> | Record<string, unknown>,
  ): Promise<void> {
    const rules = [...this.rules, ...rulesOfDefinition(definition)];
    if (rules.length === 0) return Promise.resolve();
    const snapshot = before !== null && typeof before === 'object' ? before : null;
    // A start commit's `before` is the state run.started made: before it, the run had no status (a run waiting from its start notifies).
    const statusBefore =
      events[0]?.type === 'run.started' ? null : snapshot ? runStatus(snapshot) : (before as WorkflowStatus | null);
    let notifications = dueNotifications(rules, statusBefore, events);
    if (snapshot)
      notifications = withWaiting(notifications, definition as Definition, (seq) =>
        foldTo(definition as Definition, snapshot, events, seq),
      );
    const due: PendingDelivery[] = [];
    for (const n of notifications)
      for (const target of n.targets) if (this.canDeliver(target)) due.push({ notification: n, target });
    return this.start(due);
  }

  /**
   * A run's whole history, read by a driver taking it up (resume, serve, an engine loading it): delivers every due
   * notification that has no note. Returns how many deliveries it started and a promise of their end.
   */
  catchUp(history: readonly EventEnvelope[]): { started: number; done: Promise<void> } {
    const first = history[0];
    if (!first || first.type !== 'run.started') return { started: 0, done: Promise.resolve() };
    const rules = [...this.rules, ...rulesOfDefinition(first.data.definition)];
    if (rules.length === 0) return { started: 0, done: Promise.resolve() };
    const pending = pendingDeliveries(rules, history, (t) => this.canDeliver(t))
      .filter((d) => !this.inflight.has(keyOf(d)))
      .map((d) =>
        d.notification.on === 'WAITING' ? { ...d, notification: waitingFromHistory(d.notification, history) } : d,
      );
    if (pending.length > 0)
      this.log(
        `run ${first.runId}: ${pending.length} notification deliver${pending.length === 1 ? 'y' : 'ies'} its history does not note yet: delivering`,
      );
    return { started: pending.length, done: this.start(pending) };
  }

  /**
   * Sends `body` to the targets of the rules naming `role` (the global ones and the definition's), each tried as a
   * notification is; what became of each is returned (the failure handler's notify_commander records it as its output),
   * nothing is noted in a history. `id`: the Idempotency-Key / Nats-Msg-Id.
   */
  async sendToRole(
    role: string,
    definition: Pick<Definition, 'notifications'> | Record<string, unknown>,
    workflowId: string,
    body: { id: string } & Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<RoleDelivery[]> {
    const targets = roleTargets([...this.rules, ...rulesOfDefinition(definition)], role, workflowId).filter(
      (t) => t.kind === 'webhook' || this.opts.nats,
    );
    return Promise.all(
      targets.map(async (target) => {
        const outcome = await deliver(target, body as unknown as NotificationBody, {
          settings: this.settings,
          signal: signal ? AbortSignal.any([signal, this.stopCtl.signal]) : this.stopCtl.signal,
          ...(this.opts.secrets ? { secrets: this.opts.secrets } : {}),
          ...(this.opts.nats ? { nats: this.opts.nats.connection, natsHeaders: this.opts.nats.headers } : {}),
        });
        return outcome.delivered
          ? {
              target: target.key,
              delivered: true,
              attempts: outcome.attempts,
              ...(outcome.statusCode !== undefined ? { statusCode: outcome.statusCode } : {}),
            }
          : { target: target.key, delivered: false, attempts: outcome.attempts, error: outcome.error.slice(0, 500) };
      }),
    );
  }

  /** Resolves once every delivery started so far has ended. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * Resolves once no delivery of this run is under way (noted, dead-lettered, or cut off by stop). A driver awaits it
   * before it releases the run's lease: until then another driver (serve's catch-up) reads the run as driven, instead
   * of as a settled run whose history owes a delivery.
   */
  async idleFor(runId: string): Promise<void> {
    for (let mine = this.runningByRun.get(runId); mine && mine.size > 0; mine = this.runningByRun.get(runId))
      await Promise.allSettled([...mine]);
  }

  get pending(): number {
    return this.inflight.size;
  }

  /** Stops: waits between tries end, tries under way are cut off, and nothing is noted for them (the next driver delivers them). */
  stop(): void {
    this.stopCtl.abort();
  }

  private canDeliver(t: NotificationTarget): boolean {
    if (t.kind === 'webhook') return true;
    if (this.opts.nats) return true;
    if (!this.saidNoNats) {
      this.saidNoNats = true;
      this.log(
        'notifications with nats: true are published by engines on NATS JetStream; runs on the embedded store deliver webhooks only',
      );
    }
    return false;
  }

  private start(deliveries: PendingDelivery[]): Promise<void> {
    const mine: Promise<void>[] = [];
    for (const d of deliveries) {
      const key = keyOf(d);
      if (this.inflight.has(key) || this.stopCtl.signal.aborted) continue;
      this.inflight.add(key);
      const { runId } = d.notification;
      const ofRun = this.runningByRun.get(runId) ?? new Set<Promise<void>>();
      this.runningByRun.set(runId, ofRun);
      const p = this.deliverOne(d)
        .catch((err: unknown) => this.log(`notification ${d.notification.id} to ${d.target.key}: ${errorMessage(err)}`))
        .finally(() => {
          this.inflight.delete(key);
          this.running.delete(p);
          ofRun.delete(p);
          if (ofRun.size === 0 && this.runningByRun.get(runId) === ofRun) this.runningByRun.delete(runId);
        });
      this.running.add(p);
      ofRun.add(p);
      mine.push(p);
    }
    return Promise.allSettled(mine).then(() => undefined);
  }

  private async deliverOne(d: PendingDelivery): Promise<void> {
    const { notification: n, target } = d;
    const outcome = await deliver(target, notificationBody(n), {
      settings: this.settings,
      signal: this.stopCtl.signal,
      ...(this.opts.secrets ? { secrets: this.opts.secrets } : {}),
      ...(this.opts.nats ? { nats: this.opts.nats.connection, natsHeaders: this.opts.nats.headers } : {}),
      onRetry: (error, attempt, wait) => {
        this.stats.retries++;
        this.log(
          `notification ${n.id} to ${target.key}: try ${attempt} of ${this.settings.attempts} failed (${error}); next in ${wait} ms`,
        );
      },
    });
    if (!outcome.delivered && outcome.stopped) return; // not noted: the next driver delivers it
    const base = { id: n.id, on: n.on, seq: n.seq, target: target.key, attempts: outcome.attempts };
    if (outcome.delivered) {
      this.stats.sent++;
      await this.note(n, {
        type: 'notification.sent',
        data: { ...base, ...(outcome.statusCode !== undefined ? { statusCode: outcome.statusCode } : {}) },
      });
      return;
    }
    this.stats.deadLettered++;
    this.log(
      `notification ${n.id} to ${target.key} dead-lettered after ${outcome.attempts} tr${outcome.attempts === 1 ? 'y' : 'ies'}: ${outcome.error}`,
    );
    // The dead letter first: a note without one would say more than was done.
    if (this.opts.nats?.deadLetter) {
      await this.opts.nats
        .deadLetter(d, outcome)
        .catch((err: unknown) =>
          this.log(`notification ${n.id}: could not write its dead letter: ${errorMessage(err)}`),
        );
    }
    await this.note(n, { type: 'notification.dead_lettered', data: { ...base, error: outcome.error.slice(0, 2000) } });
  }

  /**
   * Appends a note after the run's last event, with that event's state (a note changes none) and the time of the last
   * event that changed it, through the executor's one commit loop: a concurrent append (the driver's next commit) is
   * read again and the note appended after it.
   */
  private async note(
    n: DueNotification,
    note:
      | {
          type: 'notification.sent';
          data: Omit<Extract<EventEnvelope, { type: 'notification.sent' }>['data'], 'stateTime'>;
        }
      | {
          type: 'notification.dead_lettered';
          data: Omit<Extract<EventEnvelope, { type: 'notification.dead_lettered' }>['data'], 'stateTime'>;
        },
  ): Promise<void> {
    const { store } = this.opts;
    try {
      await commitWithRetry(n.runId, async () => {
        const seq = await store.lastSeq(n.runId);
        const last = (await store.read(n.runId, { fromSeq: seq, toSeq: seq })).at(-1);
        if (!last) throw new Error(`run ${n.runId} reads as empty`);
        const env = {
          runId: n.runId,
          workflowId: last.workflowId,
          version: last.version,
          seq: seq + 1,
          time: new Date(this.now()).toISOString(),
          state: last.state,
          type: note.type,
          data: { ...note.data, stateTime: isNote(last) ? last.data.stateTime : last.time },
        } as EventEnvelope;
        await store.append({
          runId: n.runId,
          expectedSeq: seq,
          dedupId: `${n.runId}/${seq + 1}/${randomBytes(6).toString('hex')}`,
          events: [env],
        });
        this.opts.onNoted?.([env]);
      });
    } catch (err) {
      this.stats.notesFailed++;
      throw new Error(
        `delivered, but the note could not be appended (${errorMessage(err)}): the next driver delivers it again`,
        { cause: err },
      );
    }
  }
}

/** WAITING notifications with who the run waits for, from the state their event led to (`stateAt`: folded only when one is due). */
function withWaiting(
  due: DueNotification[],
  definition: Definition,
  stateAt: (seq: number) => RunSnapshot,
): DueNotification[] {
  return due.map((n) => (n.on === 'WAITING' ? { ...n, waiting: waitingFor(definition, stateAt(n.seq)) } : n));
}

/** The state after event `seq` of a commit, folded from the state before it. */
function foldTo(
  definition: Definition,
  before: RunSnapshot,
  events: readonly EventEnvelope[],
  seq: number,
): RunSnapshot {
  let compiled = workflowOf(definition);
  let snapshot = before;
  for (const e of events) {
    if (e.seq > seq) break;
    if (e.type !== 'run.started') snapshot = applyEvent(compiled, snapshot, e).snapshot; // a start commit's `before` is the state run.started made
    compiled = workflowAfter(compiled, e);
  }
  return snapshot;
}

/** A WAITING notification read back from a history (catch-up): who waited, from the history folded up to its event. */
function waitingFromHistory(n: DueNotification, history: readonly EventEnvelope[]): DueNotification {
  const { compiled, snapshot } = foldEvents(history.filter((e) => e.seq <= n.seq));
  return withWaiting([n], compiled.definition, () => snapshot)[0]!;
}

function keyOf(d: PendingDelivery): string {
  return `${d.notification.id}|${d.target.key}`;
}
