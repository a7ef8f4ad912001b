/**
 * Claims of offered attempts written only when they are needed (the bench's `cluster.persisted_per_run`). An attempt an
 * engine offered straight to a worker (direct-dispatch.ts) is already durable in the run's log (task.started), and the
 * engine that offered it holds the run's message until it reports: a claim in LF_ATTEMPTS for it is needed only if a
 * copy of the attempt is put on the queue meanwhile (a reconcile by an engine taking the run over, the offering
 * engine's lease running out), so that the worker that gets the copy does not run it a second time. So the worker that
 * took the offer claims it only
 *
 * - once the attempt outlives a grace period (its first heartbeat, a third of the task ack wait): from then on it is
 *   claimed and its claim is the liveness record, exactly as before (claim-watch.ts); or
 * - when another worker asks: a worker given a copy marked `redispatch` (the engines mark every copy of an attempt that
 *   may have been offered) does not claim it at once. It reads the ledger; with no entry there it asks every worker of
 *   the queue (lf.asks.<queue>, a digest of the ledger key, not the key: a worker only ever names the entries of
 *   attempts it was handed) whether one runs it unclaimed. The one that does writes its claim, then answers, and the
 *   asking worker goes on from the claim as before (holds its copy while the claim is rewritten). No entry after three
 *   periods of asking: no worker runs that run of the attempt (its worker died, or it was never handed out), and the
 *   copy is reported lost (not run here), so the engine restarts it (task.restarted) under a claim key of its own: the
 *   run of it a dead worker may have begun is never begun again under the same key.
 *
 * Copies the engines put on the queue without ever offering the attempt (no worker took the offer) are unmarked and
 * claimed at once, as before. A worker whose NATS user may not use lf.asks (an older nats.conf) claims every offered
 * attempt at once, as before, and claims marked copies at once.
 */
import { createHash } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import {
  AskAnswer,
  AskMessage,
  decodeOrUndefined,
  encode,
  subjects,
  type AttemptLedger,
  type AttemptRecord,
  type ClaimEntry,
} from '../transport/index.js';
import { STALE_AFTER_PERIODS } from './claim-watch.js';

/** What an ask names an attempt by: a digest of its ledger key (which itself holds a digest of the attempt's token). */
export function askDigest(ledgerKey: string): string {
  return createHash('sha256').update(`lf-ask\n${ledgerKey}`).digest('hex').slice(0, 32);
}

/** An offered attempt running here whose claim waits (see above). */
export interface DeferredClaim {
  /** The attempt, for the log (run/instance/attempt). */
  readonly name: string;
  /** Writes the claim now (once; later calls wait for the same write). */
  claimNow(): Promise<void>;
  /** The claim is this worker's in the ledger: rewrite it while the attempt runs, mark it finished after. */
  readonly claimed: boolean;
  /** The attempt ended and its outcome went: asks about it are no longer answered here. */
  done(): void;
}

export interface ClaimAsksOptions {
  nc: NatsConnection;
  queue: string;
  ledger: () => AttemptLedger;
  /** This worker's name in the ledger. */
  worker: string;
  log(line: string): void;
}

export interface AskWait {
  /** The ask period: the claim's refresh period (a third of the task ack wait). */
  everyMs: number;
  /** Keeps this worker's copy held (heartbeated); called every period. */
  hold(): void;
  stopped(): boolean;
  /**
   * An unmarked delivery of the same attempt came to this worker meanwhile (held with the copy): the
   * engines queue an attempt unmarked only when no worker took its offer, so no worker runs it
   * unclaimed: claim it at once instead of asking on (which, unanswered, reports it lost: a restart).
   */
  plainCopyHeld?(): boolean;
  sleep?(ms: number): Promise<void>;
}

export class ClaimAsks {
  /**
   * Attempts running here unclaimed, each with its ask digest made when first asked for: most end
   * before any ask, and a digest (and the ledger key under it: two SHA-256) per offered attempt was
   * 3-4% of a worker's CPU. An ask compares the digests of the few running here.
   */
  private readonly unclaimed = new Map<DeferredClaim, () => string>();
  private sub: Subscription | null = null;
  private refused = false;
  /** Whether this worker answers asks (its NATS user may use lf.asks): only then does it defer claims and ask. */
  enabled = false;

  constructor(private readonly o: ClaimAsksOptions) {}

  /** Subscribes to the queue's asks; enabled once the server took the subscription (a refused one: claims at once, as before). */
  async start(): Promise<void> {
    this.sub = this.o.nc.subscribe(subjects.ask(this.o.queue), {
      callback: (err, msg) => {
        if (err) {
          if (!this.refused)
            this.o.log(
              `asks on queue ${this.o.queue}: ${err.message}; claiming every attempt at once (nats.conf must give this worker user publish and subscribe on "${subjects.ask(this.o.queue)}")`,
            );
          this.refused = true;
          this.enabled = false;
          return;
        }
        const ask = AskMessage.safeParse(decodeOrUndefined(msg.data));
        if (!ask.success) return;
        let d: DeferredClaim | undefined;
        for (const [running, digest] of this.unclaimed)
          if (digest() === ask.data.h) {
            d = running;
            break;
          }
        if (!d) return; // not running here (or claimed already: the asker reads the claim itself)
        const claimedBefore = d.claimed;
        d.claimNow().then(
          () => {
            if (!d.claimed) return;
            if (!claimedBefore)
              this.o.log(
                `${d.name}: another worker was given a copy of it and asked; claimed it in the attempt ledger now, so that it waits on this worker`,
              );
            msg.respond(encode({ held: true } satisfies AskAnswer));
          },
          () => undefined,
        );
      },
    });
    // A refused subscription is answered with an error before the flush's pong.
    await this.o.nc.flush();
    this.enabled = !this.refused;
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    this.enabled = false;
  }

  /** Runs an offered attempt unclaimed for now: claimed on the first claimNow (its grace ran out, or a worker asked). */
  defer(name: string, ledgerKey: () => string, record: AttemptRecord): DeferredClaim {
    let h: string | undefined;
    let writing: Promise<void> | null = null;
    let claimed = false;
    const d: DeferredClaim = {
      name,
      get claimed() {
        return claimed;
      },
      claimNow: () =>
        (writing ??= this.o
          .ledger()
          .claim(ledgerKey(), record)
          .then(
            (claim) => {
              if (claim.taken || claim.by?.worker === this.o.worker) {
                claimed = true;
                return;
              }
              // Settled by an engine as not wanted (its outcome will be stale), or an older worker claimed a copy at once.
              this.o.log(
                `${name}: running it (offered) and claiming it late, the ledger says ${claim.by?.finished ?? `taken by ${claim.by?.worker ?? 'another worker'}`}; this worker's outcome goes to the engine, whose log decides`,
              );
            },
            (err: unknown) => {
              writing = null; // tried again at the next heartbeat or ask
              throw err;
            },
          )),
      done: () => {
        this.unclaimed.delete(d);
      },
    };
    this.unclaimed.set(d, () => (h ??= askDigest(ledgerKey())));
    return d;
  }

  /**
   * For a copy marked `redispatch`: the attempt's ledger entry, once there is one (read at once, or
   * written by a worker that answered an ask); null when none came after STALE_AFTER_PERIODS periods
   * of asking (no worker runs it: report it lost), 'stopped' when this worker stops meanwhile, 'claim'
   * when an unmarked delivery of it came here meanwhile (AskWait.plainCopyHeld).
   */
  async find(ledgerKey: string, w: AskWait): Promise<ClaimEntry | null | 'stopped' | 'claim'> {
    const ledger = this.o.ledger();
    const sleep = w.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const body = encode({ h: askDigest(ledgerKey) } satisfies AskMessage);
    for (let round = 0; round < STALE_AFTER_PERIODS; round++) {
      const entry = await ledger.read(ledgerKey);
      if (entry) return entry;
      if (w.stopped()) return 'stopped';
      if (w.plainCopyHeld?.()) return 'claim';
      w.hold();
      const started = performance.now();
      let answered = false;
      try {
        answered = AskAnswer.safeParse(
          decodeOrUndefined((await this.o.nc.request(subjects.ask(this.o.queue), body, { timeout: w.everyMs })).data),
        ).success;
      } catch {
        /* no answer within the period */
      }
      if (answered) {
        const claimed = await ledger.read(ledgerKey);
        if (claimed) return claimed;
      }
      const rest = w.everyMs - (performance.now() - started);
      if (rest > 0) await sleep(rest);
    }
    if (w.stopped()) return 'stopped';
    return (await ledger.read(ledgerKey)) ?? (w.plainCopyHeld?.() ? 'claim' : null);
  }
}
