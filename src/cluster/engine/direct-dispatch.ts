/**
 * Attempts offered straight to an idle worker: the attempt's task.started is durable in the run's log before it is
 * offered, so instead of a message in LF_TASKS_<queue> (published, delivered, acked) the engine makes a NATS request on
 * lf.offer.<queue>.<handler>, to the queue group of that queue's workers, as Temporal's matching service hands a task
 * to a waiting poller. A worker with a free slot answers `taken`; no worker, a busy one, or none in the group: the
 * attempt goes to LF_TASKS_<queue> as before. What keeps every guarantee:
 *
 * - No attempt runs twice: the worker claims the attempt in the attempt ledger once a claim is needed (it outlives its
 *   first heartbeat, or a worker given a copy asks: claim-asks.ts), and rewrites the claim while it runs it. Every copy
 *   of an offered attempt goes on the queue marked `redispatch`, so that its worker asks. Whatever puts the attempt on
 *   the queue later (this engine when its worker stops heartbeating, an engine taking the run over or reconciling it)
 *   finds it claimed: the worker that gets that copy holds it while the claim is rewritten (claim-watch.ts), and only
 *   once it goes quiet do the claim's rules (worker.ts, inputs.ts) decide: the log's outcome, or a restart.
 * - A dead worker's attempt runs again: the worker says every third of the task ack wait that it still runs it
 *   (task.held on lf.reports.<sender>.<queue>.<runId>.<engine>); one this engine stops hearing of is put on
 *   LF_TASKS_<queue>, where the next worker finds its claim unfinished and reports it lost, so the engine restarts it
 *   (task.restarted), exactly as for a queued attempt whose worker died.
 * - A dead engine's work is taken over: an attempt is offered only while the engine holds a durable message for its run
 *   (the input, timer, approval… it is processing, whose ack waits, heartbeated, until every attempt of the run offered
 *   under it has reported: its "custody"), or while the run already has such a message held here. An engine that dies
 *   leaves that message unacked; another engine takes it (redelivered), reloads the run and puts every outstanding
 *   attempt on the queue, where the claims decide as above.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { headers, isNoResponders, SharedReplies, TimeoutError } from '../../store/index.js';
import {
  ATTEMPT_SIG_HEADER,
  decodeOrUndefined,
  encode,
  OfferAnswer,
  subjects,
  type TaskMessage,
  type Custody,
} from '../transport/index.js';
import { instanceFields, instanceKey } from '../../compiler/index.js';
import type { StartAttempt } from '../../runtime/index.js';
import { errorMessage } from '../../errors/index.js';

/** The hold on the durable message being processed: its ack waits for `until` too (null: none held). */
function holdOf(custody: Custody | null): ((until: Promise<void>) => void) | undefined {
  return custody?.holds ? (until) => custody.deliveries.push(until) : undefined;
}

/** How long an engine waits for a worker to answer an offer before queueing the attempt (a worker answers at once). */
export const OFFER_TIMEOUT_MS = 1_000;

/** An attempt this engine offered and a worker took (or may have: its answer did not come). */
export interface Handed {
  runId: string;
  key: string;
  effect: StartAttempt;
  /** The task message, to queue it with if its worker stops answering. */
  queue(): Promise<void>;
  token: string;
  /** A restarted run's claim token: its worker's word counts only with it (a worker handed an earlier run has the token). */
  claimToken?: string;
  heard: number;
  /** Run in this engine (local-attempts.ts): it cannot go quiet while the engine lives, so no lease queues it. */
  local?: true;
}

/**
 * The attempts of one run this engine offered and that have not reported, and the promise that the
 * message(s) holding them wait for. `backed`: whether that message is surely still this engine's (no
 * lapse since: a disconnect, or a stall longer than the heartbeats allow, may have let it be
 * redelivered to another engine, which then acks it). An unbacked chain is offered nothing more until
 * a message of its run, processed here, backs it again; what it holds still reports here.
 */
interface Chain {
  release(): void;
  until: Promise<void>;
  attempts: Map<string, Handed>;
  backed: boolean;
}

/** An attempt carried in a report's answer: its body, sealed for the worker's session (`mac`) or else signed (`sig`). */
export interface Carried {
  body: Uint8Array;
  sig?: string;
  mac?: string;
}

/** A report being recorded whose worker takes a next attempt in the answer: which, how to seal it, and the one carried. */
interface FollowOn {
  queue: string;
  handlers: ReadonlySet<string>;
  seal?: (body: Uint8Array) => string | undefined;
  carried?: Carried;
}

export interface DirectDispatchOptions {
  nc: NatsConnection;
  /** This engine's name in report subjects (lf.reports.….<engine>). */
  engine: string;
  /** How long an attempt may go unheard of before it is queued (the task ack wait). */
  leaseMs: number;
  /** `carried`: attempts handed over in a report's answer (expectFollowOn) rather than offered. */
  stats: { offered: number; handedOver: number; requeued: number; carried: number };
  /** False once the engine stops: nothing more is offered. */
  open(): boolean;
  /**
   * How often the messages held are heartbeated at the latest (a third of the engines' ack wait): a gap in
   * this engine's timers longer than twice that (a stalled process) may have cost it a held message.
   */
  custodyCheckMs?: () => number;
  /** The engines' signature of an offer's body (attempt-keys.ts; signed with the offers of the same turn: attempt-batch.ts): workers take no offer without it. */
  sign?: (data: Uint8Array) => Promise<string>;
  log(line: string): void;
  now(): number;
}

export class DirectDispatch {
  private readonly chains = new Map<string, Chain>();
  private watch: ReturnType<typeof setInterval> | null = null;

  /** The offers' replies, on one subscription (replies.ts: nc.request costs three times the CPU). */
  private readonly replies: SharedReplies;

  /** Reports being recorded whose workers take the run's next attempt in the answer (expectFollowOn), by run. */
  private readonly followOns = new Map<string, FollowOn>();

  constructor(private readonly o: DirectDispatchOptions) {
    this.replies = new SharedReplies(o.nc);
  }

  static keyOf(e: {
    runId: string;
    taskId: string;
    iteration?: number;
    item?: number;
    attempt: number;
    restart?: number;
  }): string {
    return `${e.runId}/${instanceKey({ task: e.taskId, ...instanceFields(e) })}/${e.attempt}/r${e.restart ?? 0}`;
  }

  /**
   * A worker's report of run `runId` is being recorded, and its report said it takes a next attempt of
   * `handlers` on `queue` in the answer (TAKES_NEXT_HEADER): the first such attempt the commit starts
   * goes to it there, sealed for the worker's session or signed as an offer, instead of being offered to any worker. Handed over as an offer
   * is: in this engine's custody, so an answer that never arrives leaves the attempt unheard of, and the
   * lease queues it. One report of a run at a time carries (a run's inputs are processed one at a time).
   * `seal`: the seal of a body for the worker's session (attempt-sessions.ts), used instead of a signature
   * when it gives one. `end()` says what was carried, if anything.
   */
  expectFollowOn(
    runId: string,
    queue: string,
    handlers: readonly string[],
    seal?: (body: Uint8Array) => string | undefined,
  ): { end(): Carried | undefined } {
    if (this.followOns.has(runId) || !this.o.open()) return { end: () => undefined };
    const f: FollowOn = { queue, handlers: new Set(handlers), ...(seal ? { seal } : {}) };
    this.followOns.set(runId, f);
    return {
      end: () => {
        if (this.followOns.get(runId) === f) this.followOns.delete(runId);
        return f.carried;
      },
    };
  }

  /** The report being recorded whose answer takes this attempt, if one does (expectFollowOn). */
  private carries(effect: StartAttempt): FollowOn | undefined {
    const follow = this.followOns.get(effect.runId);
    return follow && !follow.carried && follow.queue === effect.queue && follow.handlers.has(effect.handler)
      ? follow
      : undefined;
  }

  /** Whether this engine handed this run of the attempt to a worker that has not reported it yet. */
  holds(effect: StartAttempt): boolean {
    return this.chains.get(effect.runId)?.attempts.has(DirectDispatch.keyOf(effect)) === true;
  }

  /**
   * Offers the attempt to an idle worker: `taken` when one took it (or may have: no answer came in
   * time), `refused` when none did (nobody has it: queue it as never offered), `unsure` when the
   * request failed otherwise (a worker may have taken it: queue it as a copy that may have been
   * offered). Offered only under custody (see above). `queue`: puts it on the queue as such a copy.
   */
  async offer(
    effect: StartAttempt,
    msg: TaskMessage,
    queue: () => Promise<void>,
    custody: Custody | null,
  ): Promise<'taken' | 'refused' | 'unsure'> {
    const hold = holdOf(custody);
    const chain = this.chains.get(effect.runId);
    // Offered only while a durable message of the run is surely held here (see above): else the queue.
    if (!this.o.open() || (!hold && chain?.backed !== true)) return 'refused';
    const key = DirectDispatch.keyOf(effect);
    // In custody before the offer goes out: a worker may report before the answer is read.
    this.add(
      {
        runId: effect.runId,
        key,
        effect,
        queue,
        token: msg.token,
        ...(msg.claimToken ? { claimToken: msg.claimToken } : {}),
        heard: this.o.now(),
      },
      hold,
    );
    this.o.stats.offered++;
    try {
      const body = encode({ ...msg, reportTo: this.o.engine });
      // Sealed for the session of the worker whose report carries it: no signature to make (see expectFollowOn).
      const sealed = this.carries(effect)?.seal?.(body);
      const sig = sealed === undefined && this.o.sign ? await this.o.sign(body) : undefined;
      // The worker whose report of this run is being recorded takes it in its answer (see expectFollowOn).
      const follow = this.carries(effect);
      if (follow) {
        follow.carried = sealed !== undefined ? { body, mac: sealed } : { body, ...(sig !== undefined ? { sig } : {}) };
        this.o.stats.handedOver++;
        this.o.stats.carried++;
        return 'taken';
      }
      const h = headers();
      if (sig !== undefined) h.set(ATTEMPT_SIG_HEADER, sig);
      const reply = await this.replies.request(subjects.offer(effect.queue, effect.handler), body, {
        timeoutMs: OFFER_TIMEOUT_MS,
        headers: h,
      });
      const answer = OfferAnswer.safeParse(decodeOrUndefined(reply.data));
      if (answer.success && answer.data.taken) {
        this.o.stats.handedOver++;
        return 'taken';
      }
      if (answer.success) {
        this.done(effect.runId, key);
        return 'refused';
      }
    } catch (err) {
      // No answer: a worker may have taken it. Its word that it runs it will come, or the lease queues it (its claim decides).
      if (err instanceof TimeoutError) {
        this.o.stats.handedOver++;
        return 'taken';
      }
      // Nobody in the group: nobody has it.
      if (isNoResponders(err)) {
        this.done(effect.runId, key);
        return 'refused';
      }
    }
    // An answer that does not parse, or a request that failed under way (a connection lost): a worker may have it.
    this.done(effect.runId, key);
    return 'unsure';
  }

  /**
   * Takes the attempt into its run's custody as an offer would, for this engine to run it itself (local-attempts.ts):
   * false, as an offer is refused, when no durable message of the run is surely held here.
   */
  adopt(effect: StartAttempt, token: string, custody: Custody | null): boolean {
    const hold = holdOf(custody);
    if (!this.o.open() || (!hold && this.chains.get(effect.runId)?.backed !== true)) return false;
    const run = { runId: effect.runId, key: DirectDispatch.keyOf(effect), effect, token };
    this.add({ ...run, queue: () => Promise.resolve(), heard: Number.POSITIVE_INFINITY, local: true }, hold);
    return true;
  }

  /**
   * A message of the run processed now (under custody) found attempts this engine handed over (a
   * reconcile's): it is held until they report too, and backs the chain again.
   */
  join(runId: string, custody: Custody | null): void {
    const hold = holdOf(custody);
    const chain = this.chains.get(runId);
    if (!hold || !chain) return;
    hold(chain.until);
    chain.backed = true;
  }

  /**
   * The held messages may have been lost to another engine (a disconnect, a stall): no chain takes
   * more offers until a message of its run, processed here, backs it again.
   */
  custodyLapsed(why: string): void {
    let n = 0;
    for (const chain of this.chains.values())
      if (chain.backed) {
        chain.backed = false;
        n++;
      }
    if (n > 0)
      this.o.log(
        `${why}: the messages held for ${n} run(s) with attempts handed to workers may have gone to another engine; their next attempts go to the queues`,
      );
  }

  /** The worker said it still runs the attempt (its token checked by the caller against the attempt's). */
  heard(runId: string, key: string, token: string, claimToken?: string): boolean {
    const h = this.chains.get(runId)?.attempts.get(key);
    if (!h || h.token !== token || (h.claimToken !== undefined && h.claimToken !== claimToken)) return false;
    if (!h.local) h.heard = this.o.now();
    return true;
  }

  /** The attempt reported (or was queued): out of this engine's custody; the run's held message is released with its last attempt. */
  done(runId: string, key: string): void {
    const chain = this.chains.get(runId);
    if (!chain?.attempts.delete(key) || chain.attempts.size > 0) return;
    this.chains.delete(runId);
    chain.release();
  }

  /** An outcome of the attempt was recorded (or found stale): every run of it this engine handed over is done. */
  reported(e: { runId: string; taskId: string; iteration?: number; item?: number; attempt: number }): void {
    const chain = this.chains.get(e.runId);
    if (!chain) return;
    const prefix = DirectDispatch.keyOf(e).replace(/r0$/, '');
    for (const key of [...chain.attempts.keys()]) if (key.startsWith(prefix)) this.done(e.runId, key);
  }

  /** Every second: an attempt not heard of for the lease is put on its queue (its claim in the ledger decides there). */
  start(): void {
    const tick = 250;
    // Real time, not the engine's clock (a test's may be fake): a stall is the process's.
    let last = performance.now();
    this.watch = setInterval(() => {
      const real = performance.now();
      const now = this.o.now();
      const every = this.o.custodyCheckMs?.() ?? Number.POSITIVE_INFINITY;
      if (real - last > tick + 2 * every)
        this.custodyLapsed(`this engine's timers ran ${Math.round(real - last - tick)} ms late`);
      last = real;
      for (const chain of [...this.chains.values()]) {
        for (const h of [...chain.attempts.values()]) {
          if (now - h.heard <= this.o.leaseMs) continue;
          if (h.effect.deadline !== undefined && Date.parse(h.effect.deadline) <= now) {
            // Past its deadline its worker reports nothing (run-attempt.ts): the run's timeout timer decides.
            this.done(h.runId, h.key);
            continue;
          }
          h.heard = Number.POSITIVE_INFINITY; // queued once
          this.o.stats.requeued++;
          this.o.log(
            `run ${h.runId}: ${h.effect.instance} attempt ${h.effect.attempt} handed to a worker not heard of for ${this.o.leaseMs} ms: queued on ${h.effect.queue}, where its claim decides`,
          );
          h.queue().then(
            () => this.done(h.runId, h.key),
            (err: unknown) => {
              h.heard = this.o.now();
              this.o.log(
                `run ${h.runId}: could not queue ${h.effect.instance} attempt ${h.effect.attempt} (${errorMessage(err)}); trying again`,
              );
            },
          );
        }
      }
    }, tick);
    this.watch.unref?.();
  }

  /** Nothing more is offered; what is in custody stays until it reports (the held messages wait for it). */
  stop(): void {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
  }

  private add(h: Handed, hold: ((until: Promise<void>) => void) | undefined): void {
    let chain = this.chains.get(h.runId);
    if (!chain) {
      let release!: () => void;
      const until = new Promise<void>((r) => {
        release = r;
      });
      chain = { release, until, attempts: new Map(), backed: false };
      this.chains.set(h.runId, chain);
    }
    // Every message of the run processed under custody while the chain lasts waits for it: the one that began
    // it may be redelivered elsewhere and acked there, and this one is then what another engine takes over from.
    if (hold) {
      hold(chain.until);
      chain.backed = true;
    }
    chain.attempts.set(h.key, h);
  }
}
