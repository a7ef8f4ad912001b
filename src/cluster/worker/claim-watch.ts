/**
 * Whether the worker that claimed an attempt still runs it, as a worker that got another delivery of the attempt judges
 * it. The claim in LF_ATTEMPTS is the liveness record: its worker rewrites it every `every` ms while it runs the
 * attempt (and until its outcome is delivered), and each write moves the entry's revision on. A claim whose revision
 * does not move for three of those periods is stale: its worker died or lost the server, and the attempt is reported
 * lost (the engine restarts it), as before. One that moves is a live worker's: the delivery is held (its ack wait
 * heartbeated) and not reported, so that an engine that put the attempt on the queue without knowing a worker had it
 * (one that took the run over from the engine that offered it, or any reconcile) never has it run twice.
 *
 * Judged by revisions seen to change, never by timestamps: the judging worker's clock and the server's need not agree.
 * The cost is one stale period of waiting before a dead worker's offered attempt is reported lost. A redelivery of the
 * very stream message the claimant pulled is different: the server redelivers it only once the claimant stopped
 * heartbeating it, which it does together with the claim, so that one is reported at once.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { AttemptRecord, Claim, ClaimEntry } from '../transport/index.js';

/** Bounds on a claim's refresh period as its record states it (a worker sets it; another reads it). */
const MIN_EVERY_MS = 100;
const MAX_EVERY_MS = 60_000;

/** How many refresh periods a claim may go unrewritten and still be a live worker's. */
export const STALE_AFTER_PERIODS = 3;

export type ClaimVerdict =
  /** Unrewritten for STALE_AFTER_PERIODS periods, or gone: its worker is lost. */
  | { kind: 'stale'; by: AttemptRecord | null }
  /** Its worker (or some worker: the ledger is a hint) marked it finished or aborted meanwhile. */
  | { kind: 'finished'; by: AttemptRecord }
  /** This worker stops: the delivery is handed back, nothing reported. */
  | { kind: 'stopped' };

export interface ClaimWatch {
  /** The claim as first read. */
  first: { by: AttemptRecord | null; revision: number };
  read(): Promise<ClaimEntry | null>;
  /** Keeps this worker's delivery (or deliveries) of the attempt held: called at least every `holdEveryMs`. */
  hold(): void;
  holdEveryMs: number;
  stopped(): boolean;
  /** Once, when the claim is first seen rewritten. */
  alive(everyMs: number): void;
  sleep?(ms: number): Promise<void>;
}

/** The refresh period a claim states, bounded; undefined when it states none (it says nothing of liveness). */
export function refreshPeriod(by: AttemptRecord | null): number | undefined {
  if (by?.every === undefined) return undefined;
  return Math.min(MAX_EVERY_MS, Math.max(MIN_EVERY_MS, by.every));
}

/** Watches a claim another worker holds, with a refresh period, until it is stale or finished, or this worker stops. */
export async function watchClaim(w: ClaimWatch): Promise<ClaimVerdict> {
  const every = refreshPeriod(w.first.by);
  if (every === undefined) return { kind: 'stale', by: w.first.by };
  const sleep = w.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const tick = Math.max(50, Math.min(every, w.holdEveryMs));
  let revision = w.first.revision;
  let by = w.first.by;
  let quiet = 0;
  let saidAlive = false;
  for (;;) {
    await sleep(tick);
    if (w.stopped()) return { kind: 'stopped' };
    w.hold();
    let entry: ClaimEntry | null;
    try {
      entry = await w.read();
    } catch {
      // Not readable now (a leader election): neither alive nor stale; the quiet time goes on counting.
      quiet += tick;
      if (quiet >= STALE_AFTER_PERIODS * every * 2) return { kind: 'stale', by };
      continue;
    }
    if (!entry) return { kind: 'stale', by };
    if (entry.by?.finished) return { kind: 'finished', by: entry.by };
    if (entry.revision !== revision) {
      revision = entry.revision;
      by = entry.by;
      quiet = 0;
      if (!saidAlive) w.alive(every);
      saidAlive = true;
      continue;
    }
    quiet += tick;
    if (quiet >= STALE_AFTER_PERIODS * every) return { kind: 'stale', by };
  }
}

export interface ClaimWait {
  /** The attempt, for the log. */
  key: string;
  claim: Claim & { taken: false };
  /** This worker's deliveries of the attempt (held while the claim lives). */
  msgs: JsMsg[];
  /** The delivery being judged (null: an offered attempt). */
  delivery: JsMsg | null;
  deliveryCount: number;
  read(): Promise<ClaimEntry | null>;
  holdEveryMs: number;
  stopped(): boolean;
  log(line: string): void;
}

/**
 * Holds a worker's deliveries of an attempt another worker claimed while that claim lives, and says what the ledger
 * says once it does not (stale, or finished), or `stopped` (the worker stops: its deliveries are to go back, nothing
 * reported). A redelivery of the very message the claimant pulled is judged at once (see above).
 */
export async function whileClaimLives(o: ClaimWait): Promise<Claim | 'stopped'> {
  const { claim, key } = o;
  if (o.delivery && claim.by?.seq === o.delivery.seq && o.deliveryCount > 1) return claim;
  const who = claim.by?.worker ?? 'another worker';
  if (refreshPeriod(claim.by) !== undefined)
    o.log(
      `${key} is claimed by ${who} (delivery ${o.deliveryCount}); holding it while that claim is rewritten, reporting it lost only once it goes stale`,
    );
  const verdict = await watchClaim({
    first: claim,
    read: o.read,
    holdEveryMs: o.holdEveryMs,
    stopped: o.stopped,
    hold: () => {
      for (const m of o.msgs) m.working();
    },
    alive: (every) =>
      o.log(
        `${key}: ${who} still runs it (its claim is rewritten every ${every} ms); this delivery waits, nothing is reported`,
      ),
  });
  if (verdict.kind === 'stopped') return 'stopped';
  return { taken: false, by: verdict.by, revision: claim.revision };
}
