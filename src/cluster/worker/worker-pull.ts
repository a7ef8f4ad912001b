/**
 * How a worker takes attempts of one handler from its queue's stream (worker.ts): never more than it has free slots for
 * (its `concurrency`, shared with the attempts it takes as offers), and the highest priority level first
 * (docs/nats.md#priority-attempts-waiting-for-a-worker).
 *
 * Levels: attempts of runs with the default priority (50) are on lf.q.<queue>.<handler>, consumer w_<queue>_<handler>,
 * as before priorities; a run with another priority has its attempts on lf.q.<queue>.<handler>.p<NN>, consumer
 * p<NN>_<queue>_<handler> (task-queues.ts). Each consumer delivers in the order its attempts were queued (equal
 * priority: arrival order).
 *
 * - While no other level holds attempts, the worker pulls from the default consumer as many as it has free slots, as
 *   before (nothing more is asked of the server: the no-priority path costs what it did).
 * - It learns that a level holds attempts from the engines' word (lf.levels.<queue>.<handler>.p<NN>, published before
 *   the attempt is stored, so a worker knows the level before it can find the attempt, and again after, so an idle
 *   worker pulls it at once), and by reading the stream's subjects every few seconds (a word missed while
 *   disconnected), or before every pull when nats.conf does not give its user the subscription (a nats.conf from before
 *   levels).
 * - While levels are in use, each free slot is filled by one no-wait pull per level, highest first, the default among
 *   them; the first level that has one gives it. An idle worker told of a level pulls it at once.
 *
 * Skills (docs/limits.md#skills): a worker given skills also takes the attempts of tasks that require some of them, on
 * their handler keys (lf.q.<queue>.<handler>~<skills>, subjects.ts skillKey): each such key, at each level, is a lane
 * swept as the levels are, found the same ways (the engines' word, which they give for every skill lane; the stream's
 * subjects). At equal priority a lane needing more skills goes first: what only skilled workers can run is theirs
 * before what anyone can.
 *
 * A pull that brings more than the free slots (an offer took a slot while it was out) hands the extra delivery back at
 * once (nak): it is redelivered, first in its consumer's order, and the claim ledger runs it once as ever.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Consumer, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import {
  PULL_EXPIRES_MS,
  DEFAULT_LEVEL,
  levelConsumerName,
  noticeLevel,
  splitSkillKey,
  subjects,
  taskStream,
  taskSubjectParts,
  type ClusterSettings,
} from '../transport/index.js';
import { consumerOf } from './worker-deliveries.js';
import { errorMessage } from '../../errors/index.js';
import { apiPrefix, toJsMsg } from '../../store/index.js';

const NO_WAIT_PULL = new TextEncoder().encode(JSON.stringify({ batch: 1, no_wait: true }));
/** The client's default JetStream request timeout, as v2's `js.pull` used. */
const NO_WAIT_PULL_TIMEOUT_MS = 5000;

/** How long an idle worker waits on the default level before looking at the other levels again, while levels are in use. */
export const LEVEL_WAIT_MS = 1000;

export interface PullOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  queue: string;
  handler: string;
  /** The default level's consumer, w_<queue>_<handler> (made by the engines; the worker waited for it). */
  durable: string;
  concurrency: number;
  /** The worker's skills (`--skills`): it also pulls the handler's attempts that require some of them. */
  skills?: readonly string[];
  /** Attempts of the handler running here (pulled or offered). */
  busy(): number;
  /** Runs a delivery (the worker's bounded run, tracked for its stop). */
  take(m: JsMsg): void;
  stopped(): boolean;
  log(line: string): void;
}

/** A lane other than the default: a handler key (the handler, or one naming skills) at a level, by its consumer's name. */
interface Lane {
  readonly key: string;
  readonly level: number;
  readonly skills: number;
}

export class TaskPuller {
  /** Lanes other than the default (the plain handler at the default level) that hold attempts, as last heard or read. */
  readonly levels = new Map<string, Lane>();
  private wakeUp: (() => void) | null = null;
  private fetching: { stop(): void } | null = null;
  private consumer: Consumer | null = null;
  private sub: Subscription | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private sweeping = false;
  private again = false;
  /** The subscription to the engines' word was refused (a nats.conf from before levels). */
  private deaf = false;
  /** When the engines' word last named each lane. */
  private readonly heard = new Map<string, number>();
  private said = new Set<string>();
  private readonly stream: string;

  constructor(private readonly o: PullOptions) {
    this.stream = taskStream(o.queue).name;
  }

  /** A slot of the handler freed: the loop pulls again. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /** Pulls until stopped. */
  async run(): Promise<void> {
    const { o } = this;
    this.listen();
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), PULL_EXPIRES_MS);
    this.timer.unref?.();
    while (!o.stopped()) {
      try {
        const free = o.concurrency - o.busy();
        if (free <= 0) {
          await new Promise<void>((r) => {
            this.wakeUp = r;
          });
          continue;
        }
        // Without the engines' word (nats.conf does not give it), the lanes are read before every pull.
        if (this.deaf) await this.refresh();
        if (this.levels.size === 0) {
          await this.fetch(free, PULL_EXPIRES_MS);
          continue;
        }
        if (await this.sweep(true)) continue;
        await this.refresh();
        if (this.levels.size > 0) await this.fetch(1, LEVEL_WAIT_MS);
      } catch (err) {
        this.consumer = null;
        if (o.stopped()) break;
        o.log(`worker consumer ${o.durable}: ${errorMessage(err)}; reconnecting`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  stop(): void {
    this.fetching?.stop();
    this.sub?.unsubscribe();
    if (this.timer) clearInterval(this.timer);
    this.wake();
  }

  /** A pull of up to `max` from the default level, delivered as they come. */
  private async fetch(max: number, expires: number): Promise<void> {
    // Looked up once (a consumer info request), again only after a failure.
    this.consumer ??= await this.o.js.consumers.get(this.stream, this.o.durable);
    const batch = await this.consumer.fetch({ max_messages: max, expires });
    this.fetching = batch;
    // A stop that came while the pull was being set up found nothing to stop: this pull would wait out its expiry (5 s).
    if (this.o.stopped()) batch.stop();
    try {
      for await (const m of batch) this.deliver(m);
    } finally {
      this.fetching = null;
    }
  }

  private deliver(m: JsMsg): void {
    // More than the free slots (an offer took one meanwhile): back to its consumer, first in its order.
    if (this.o.busy() >= this.o.concurrency) m.nak();
    else this.o.take(m);
  }

  /**
   * One no-wait pull per level, highest first (the default among them unless `withDefault` is false); true
   * when one gave an attempt. One sweep at a time: a word that comes during one makes it look again.
   */
  private async sweep(withDefault: boolean): Promise<boolean> {
    if (this.sweeping) {
      this.again = true;
      return false;
    }
    this.sweeping = true;
    try {
      do {
        this.again = false;
        const plain: Lane = { key: this.o.handler, level: DEFAULT_LEVEL, skills: 0 };
        const order = [...this.levels.values(), ...(withDefault ? [plain] : [])].sort(
          (a, b) => b.level - a.level || b.skills - a.skills,
        );
        for (const lane of order) {
          if (this.o.busy() >= this.o.concurrency || this.o.stopped()) return false;
          const m = await this.pullOne(lane);
          if (m) {
            this.deliver(m);
            return true;
          }
        }
      } while (this.again);
      return false;
    } finally {
      this.sweeping = false;
    }
  }

  /** One attempt of `lane` if one waits now (no-wait pull), else null. */
  private async pullOne(lane: Lane): Promise<JsMsg | null> {
    const { key, level } = lane;
    try {
      // A pull of one with no_wait, as a request of our own: the client's consumers wait at least a second on an empty level.
      const msg = await this.o.nc.request(
        `${apiPrefix(this.o.nc)}.CONSUMER.MSG.NEXT.${this.stream}.${levelConsumerName(this.o.queue, key, level)}`,
        NO_WAIT_PULL,
        { noMux: true, timeout: NO_WAIT_PULL_TIMEOUT_MS },
      );
      const status = msg.data.length === 0 ? (msg.headers?.code ?? 0) : 0;
      // 404 no messages, 408 none in time: nothing waits there.
      if (status === 404 || status === 408) return null;
      if (status !== 0) throw new Error(`${status} ${msg.headers?.description ?? ''}`.trim());
      return toJsMsg(msg);
    } catch (err) {
      // Said once, and the level skipped.
      this.sayOnce(`level ${level} of ${key} on queue ${this.o.queue}: ${errorMessage(err)}; skipped until it answers`);
      return null;
    }
  }

  /** The engines' word that a level holds attempts: an idle worker pulls it at once. */
  private listen(): void {
    const { o } = this;
    // With skills, every key's word on the queue (nats.conf gives lf.levels.<queue>.>); else the handler's only, as before.
    this.sub = o.nc.subscribe(
      o.skills && o.skills.length > 0 ? `lf.levels.${o.queue}.>` : subjects.levelNotices(o.queue, o.handler),
      {
        callback: (err, msg) => {
          if (err) {
            this.deaf = true;
            this.sayOnce(
              `priority levels of ${o.handler} on queue ${o.queue}: ${err.message}; read from the stream before each pull instead (nats.conf must give the worker user "lf.levels.${o.queue}.>")`,
            );
            return;
          }
          const level = noticeLevel(msg.subject);
          const lane = level === null ? null : this.laneOf(msg.subject.split('.')[3] ?? '', level);
          if (!lane) return;
          this.levels.set(lane.id, lane.lane);
          this.heard.set(lane.id, Date.now());
          // Idle (its pull waits on the default level): the other levels are pulled now.
          if (!o.stopped() && o.busy() < o.concurrency) {
            void this.sweep(false).catch((e: unknown) =>
              this.sayOnce(`pulling priority levels of ${o.handler}: ${errorMessage(e)}`),
            );
          }
        },
      },
    );
  }

  /**
   * The lane of handler key `key` at `level`, when it is this worker's and not the default one: the handler itself
   * (another level), or a key of it naming skills that this worker has every one of.
   */
  private laneOf(key: string, level: number): { id: string; lane: Lane } | null {
    const { o } = this;
    const parts = splitSkillKey(key);
    if (!parts || parts.handler !== o.handler) return null;
    if (parts.skills.length === 0 && level === DEFAULT_LEVEL) return null;
    if (parts.skills.length > 0 && !parts.skills.every((s) => o.skills?.includes(s))) return null;
    return { id: levelConsumerName(o.queue, key, level), lane: { key, level, skills: parts.skills.length } };
  }

  /** Which lanes hold attempts, read from the stream's subjects (waiting or running: a work queue keeps them until acked). */
  private async refresh(): Promise<void> {
    const { o } = this;
    try {
      const skilled = o.skills !== undefined && o.skills.length > 0;
      const info = await o.jsm.streams.info(this.stream, {
        subjects_filter: skilled ? `lf.q.${o.queue}.>` : `lf.q.${o.queue}.${o.handler}.*`,
      });
      const found = new Map<string, Lane>();
      for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
        const p = taskSubjectParts(subject);
        const lane = p && count > 0 ? this.laneOf(p.handler, p.priority ?? DEFAULT_LEVEL) : null;
        if (lane) found.set(lane.id, lane.lane);
      }
      // A lane heard of lately stays: its word comes before its attempt is stored.
      const now = Date.now();
      for (const id of this.levels.keys())
        if (!found.has(id) && now - (this.heard.get(id) ?? 0) > PULL_EXPIRES_MS) this.levels.delete(id);
      for (const [id, lane] of found) this.levels.set(id, lane);
    } catch (err) {
      if (!o.stopped())
        this.sayOnce(`reading the priority levels of ${o.handler} on ${this.stream}: ${errorMessage(err)}`);
    }
  }

  private sayOnce(line: string): void {
    if (this.said.has(line)) return;
    this.said.add(line);
    this.o.log(line);
  }
}

/**
 * A handler's pulls, once the engines' key is known (nothing is pulled before) and its consumer is there
 * (worker-deliveries.ts). Never more than free slots: attempts a worker holds but has not started are
 * reported lost if it dies (it cannot tell them apart from started ones).
 */
export async function pullHandler(
  o: Omit<PullOptions, 'durable'> & {
    /** The engines' key, once known (null: stopped first). */
    keyed: Promise<unknown>;
    sender: string;
    settings?: ClusterSettings | undefined;
    ackWait(ms: number): void;
    pulling(puller: TaskPuller): void;
  },
): Promise<void> {
  if (!(await o.keyed)) return;
  const durable = await consumerOf(o.jsm, o);
  if (o.stopped() || !durable) return;
  const puller = new TaskPuller({ ...o, durable });
  o.pulling(puller);
  await puller.run();
}
