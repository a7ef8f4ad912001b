/**
 * Who serves which handler (a task no worker serves looked IN_PROGRESS, then timed out, with no word anywhere).
 * Consumer info cannot say it: num_waiting comes and goes with each pull, and a busy worker has none.
 *
 * - Workers announce on lf.presence.<sender>.<queue> (core NATS: nothing a worker says is stored) the handlers they
 *   pull, at start, every PRESENCE_EVERY_MS, and `gone` as they stop (nats.conf: own name and queues only).
 * - Every engine listens (PresenceRegistry), holds what it heard, bounded, forgetting a worker three periods after it
 *   last spoke; it logs a handler nobody announces when it hands out an attempt of it, and answers lf.presence.who.
 *
 * Presence is advice: nothing is run or refused on its word. One thing is recorded on it: an attempt that requires
 * skills waits (task.delayed no_skilled_worker) until a worker of its queue has them all (docs/limits.md#skills); a
 * worker that lies about its skills harms only its own queue's attempts, which it may take anyway.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { decodeOrUndefined, encode, PresenceMessage, PresenceReport } from './messages.js';
import { subjects } from './subjects.js';
import { keepSamples, loadOf, utilizationOf, type LoadSample } from '../../coordination/index.js';
import { stationOfQueue } from '../../definition/index.js';
import { trimOldest } from '../../bounded.js';

const levelled = (level: string | undefined) => (level !== undefined ? { level } : {});

const utilized = (samples: readonly LoadSample[], now: number) => {
  const utilization = utilizationOf(samples, now);
  return utilization ? { utilization } : {};
};

export const PRESENCE_EVERY_MS = 5_000;
/** A worker not heard for this many of its periods is taken as gone. */
const LAPSE_PERIODS = 3;
/** Listening this long, an engine has heard every live worker at least once. */
export const HEARD_ALL_MS = PRESENCE_EVERY_MS * 1.5;
/** Workers an engine remembers at most (a flood of names forgets the stalest first). */
const MAX_WORKERS = 5_000;
/** Workers an answer names at most (it must fit a message). */
const MAX_REPORTED = 500;

/** Announces `handlers` on `queue` until the returned stop is called (which says `gone`). */
export function announcePresence(
  nc: NatsConnection,
  o: {
    sender: string;
    queue: string;
    worker: string;
    handlers: string[];
    everyMs?: number;
    skills?: readonly string[];
    concurrency?: number;
    inFlight?: () => number;
  },
): () => void {
  const every = o.everyMs ?? PRESENCE_EVERY_MS;
  const subject = subjects.presence(o.sender, o.queue);
  const body: PresenceMessage = {
    worker: o.worker,
    handlers: o.handlers.slice(0, 500),
    every,
    ...(o.skills && o.skills.length > 0 ? { skills: o.skills.slice(0, 64) } : {}),
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
  };
  // A user nats.conf does not let announce gets a permissions error on the connection, never a throw here.
  const say = (gone = false) => {
    if (nc.isClosed()) return;
    const load = o.inFlight ? { inFlight: o.inFlight() } : {};
    nc.publish(subject, encode(gone ? { ...body, gone: true } : { ...body, ...load }));
  };
  say();
  const timer = setInterval(() => say(), every);
  timer.unref();
  return () => {
    clearInterval(timer);
    say(true);
  };
}

interface Heard {
  user: string;
  queue: string;
  worker: string;
  handlers: Set<string>;
  seenAt: number;
  lapseMs: number;
  skills: readonly string[];
  inFlight?: number;
  concurrency?: number;
  samples: LoadSample[];
}

/** What an engine heard of workers (one per engine process). */
export class PresenceRegistry {
  private readonly heard = new Map<string, Heard>();
  private subs: Subscription[] = [];
  private startedAt = 0;

  /** `levelOf`: a NATS user's level from the engine's users file (docs/users.md), said with each worker it heard. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly now: () => number = Date.now,
    private readonly levelOf?: (user: string) => string | undefined,
  ) {}

  start(): void {
    this.startedAt = this.now();
    this.subs.push(
      this.nc.subscribe(subjects.presenceAll, {
        callback: (err, m) => {
          if (err) return;
          const [, , user, queue] = m.subject.split('.');
          const said = PresenceMessage.safeParse(decodeOrUndefined(m.data)).data;
          if (!said || !user || !queue) return; // not ours to act on, and nothing to tell anyone
          this.hear(user, queue, said);
        },
      }),
    );
    this.subs.push(
      this.nc.subscribe(subjects.presenceWho, {
        queue: 'engines',
        callback: (err, m) => {
          if (!err) m.respond(encode(this.report()));
        },
      }),
    );
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }

  /** How long this engine has listened: before a period has passed, no announcement heard says nothing. */
  get listeningMs(): number {
    return this.startedAt === 0 ? 0 : this.now() - this.startedAt;
  }

  /** Whether a worker serving `handler` on `queue` with every one of `skills` (if any) was heard within its lapse. */
  servesWithSkills(queue: string, handler: string, skills: readonly string[]): boolean {
    return [...this.live()].some(
      (h) => h.queue === queue && h.handlers.has(handler) && skills.every((s) => h.skills.includes(s)),
    );
  }

  /** The workers heard on `queue` (live), for a log line. */
  workersOn(queue: string): Heard[] {
    return [...this.live()].filter((h) => h.queue === queue);
  }

  report(): PresenceReport {
    const now = this.now();
    const workers = [...this.live()]
      .sort((a, b) => b.seenAt - a.seenAt)
      .slice(0, MAX_REPORTED)
      .map((h) => ({
        user: h.user,
        queue: h.queue,
        worker: h.worker,
        handlers: [...h.handlers],
        seenMsAgo: Math.max(0, now - h.seenAt),
        ...levelled(this.levelOf?.(h.user)),
        ...(h.skills.length > 0 ? { skills: [...h.skills] } : {}),
        ...(h.inFlight !== undefined ? { inFlight: h.inFlight } : {}),
        ...(h.concurrency !== undefined ? { concurrency: h.concurrency } : {}),
        ...utilized(h.samples, now),
      }));
    return { listeningMs: this.listeningMs, workers };
  }

  private hear(user: string, queue: string, said: PresenceMessage): void {
    const key = `${user}\u0000${queue}\u0000${said.worker}`;
    const before = this.heard.get(key);
    this.heard.delete(key); // re-inserted last: the map's order is the order heard, stalest first
    if (said.gone) return;
    const at = this.now();
    // Its load over time (the agents view's utilization): in flight over its concurrency times its handlers.
    const samples =
      said.inFlight === undefined
        ? (before?.samples ?? [])
        : keepSamples(
            before?.samples ?? [],
            {
              at,
              load: loadOf(
                said.inFlight,
                said.concurrency !== undefined ? said.concurrency * Math.max(1, said.handlers.length) : undefined,
              ),
            },
            200,
          );
    this.heard.set(key, {
      user,
      queue,
      worker: said.worker,
      handlers: new Set(said.handlers),
      seenAt: at,
      lapseMs: said.every * LAPSE_PERIODS,
      skills: said.skills ?? [],
      samples,
      ...(said.inFlight !== undefined ? { inFlight: said.inFlight } : {}),
      ...(said.concurrency !== undefined ? { concurrency: said.concurrency } : {}),
    });
    trimOldest(this.heard, MAX_WORKERS);
  }

  private *live(): Iterable<Heard> {
    const now = this.now();
    for (const [key, h] of this.heard) {
      if (now - h.seenAt > h.lapseMs) this.heard.delete(key);
      else yield h;
    }
  }
}

/** Asks the engines who serves what; null when no engine answers (none runs, or this user may not ask). */
export async function askPresence(nc: NatsConnection, timeoutMs = 1_000): Promise<PresenceReport | null> {
  try {
    const m = await nc.request(subjects.presenceWho, new Uint8Array(0), { timeout: timeoutMs });
    return PresenceReport.safeParse(decodeOrUndefined(m.data)).data ?? null;
  } catch {
    return null; // no engine answered in time: nothing to say about workers
  }
}

/** Whether `report` says nobody serves `handler` on `queue`: only once its engine has listened long enough to have heard every live worker. */
export function unserved(report: PresenceReport | null, queue: string, handler: string): boolean {
  if (!report || report.listeningMs < HEARD_ALL_MS) return false;
  return !report.workers.some((w) => w.queue === queue && w.handlers.includes(handler));
}

/** How often the engine log says the same pair again while nobody serves it. */
const SAY_AGAIN_MS = 60_000;

/** The engine's log line for an attempt of a handler no worker announces on its queue: once per pair a minute. */
export class UnservedLog {
  private readonly said = new Map<string, number>();
  private readonly pending = new Set<string>();

  constructor(
    private readonly registry: PresenceRegistry,
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  handedOut(queue: string, handler: string): void {
    const key = `${queue}\u0000${handler}`;
    const wait = HEARD_ALL_MS - this.registry.listeningMs;
    if (wait > 0) {
      if (this.pending.has(key)) return;
      this.pending.add(key);
      setTimeout(() => {
        this.pending.delete(key);
        this.handedOut(queue, handler);
      }, wait).unref();
      return;
    }
    if (this.registry.servesWithSkills(queue, handler, [])) return;
    const last = this.said.get(key);
    if (last !== undefined && this.now() - last < SAY_AGAIN_MS) return;
    this.said.set(key, this.now());
    trimOldest(this.said, MAX_WORKERS);
    this.log(
      unservedLine(
        queue,
        handler,
        this.registry.workersOn(queue).map((w) => `${w.worker} (${[...w.handlers].join(', ')})`),
      ),
    );
  }
}

/** What to tell people of a handler nobody serves on a queue. */
export function unservedLine(queue: string, handler: string, others: string[]): string {
  const station = stationOfQueue(queue);
  const start = `ledgerflow worker --handlers <module exporting ${handler}>${queue === 'default' ? '' : station !== null ? ` --station ${station} (beside the station's leaf node: docs/nats.md#stations)` : ` --queue ${queue}`}`;
  return `no worker has announced handler ${handler} on queue ${queue}: its attempts wait until one does (${others.length ? `workers on ${queue}: ${others.slice(0, 5).join('; ')}${others.length > 5 ? '; …' : ''}` : `no worker on ${queue} at all`}); start one: ${start}`;
}
