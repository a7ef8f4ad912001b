/**
 * Claiming an attempt in the attempt ledger (attempts.ts) before a worker runs it, so that no attempt runs
 * twice (nats-server may hand one out again as if new: worker.ts): one that no worker claimed (its worker died
 * before starting it) is run here, as the same attempt; one the ledger says is another's (taken and not
 * finished, finished by another, or settled by an engine as no longer wanted) is not run here, and not dropped
 * either: any worker may write the ledger, so it is reported to the engine (task.lost, with what the ledger
 * said), whose log decides whether it runs again (inputs.ts). While it runs, its heartbeat rewrites the claim
 * (the word that it lives: claim-watch.ts) and holds its deliveries.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JsMsg } from '@nats-io/jetstream';
import { instanceFields, instanceToken } from '../../compiler/index.js';
import {
  encode,
  subjects,
  AttemptLedger,
  type AttemptRecord,
  type Claim,
  type HeldMessage,
  type TaskMessage,
} from '../transport/index.js';
import { whileClaimLives } from './claim-watch.js';
import type { ClaimAsks, DeferredClaim } from './claim-asks.js';
import type { OutcomeReporter } from './report-outcome.js';
import { lostLine } from './worker-deliveries.js';
import { errorMessage } from '../../errors/index.js';

/** What of its worker the claim of an attempt uses. */
export interface ClaimHost {
  readonly queue: string;
  /** This worker's name in the ledger. */
  readonly worker: string;
  readonly sender: string;
  readonly nc: NatsConnection;
  readonly ledger: AttemptLedger;
  readonly asks: ClaimAsks;
  readonly reporter: OutcomeReporter;
  readonly held: Map<string, Deliveries>;
  readonly stats: { lost: number };
  /** The task ack wait: the claim is rewritten, and the deliveries heartbeated, every third of it. */
  ackWaitMs(): number;
  /** The worker stops: a delivery waiting on a claim goes back, unreported. */
  stopped(): boolean;
  /** Its deliveries were handed back by a stop (the grace ran out): no longer ours to keep. */
  handedBack(): boolean;
  log(line: string): void;
}

/** Deliveries of an attempt held here; `plain`: one came unmarked while a marked copy asked (claim-asks.ts). */
export type Deliveries = JsMsg[] & { plain?: boolean };

/** An attempt this worker holds: pulled (`delivery`) or offered (null: `task.reportTo` names the engine). */
export interface HeldAttempt {
  readonly task: TaskMessage;
  /** runId/instance/attempt(/rN): what this worker holds and remembers it by. */
  readonly key: string;
  readonly msgs: Deliveries;
  readonly delivery: JsMsg | null;
  readonly deliveryCount: number;
}

/** An attempt this worker may run: its ledger entry's key and record, and, offered, its claim deferred. */
export interface Claimed {
  ledgerKey(): string;
  readonly record: AttemptRecord;
  /** Marks the claim finished with the attempt's outcome. */
  finish(outcome: 'task.completed' | 'task.failed'): void;
  /** The same, waiting for the server to have it: for an outcome only published on LF_INPUTS (attempts.ts). */
  finishSurely(outcome: 'task.completed' | 'task.failed'): Promise<void>;
  /** Offered: claimed only once it outlives its first beat, or another worker asks (claim-asks.ts). */
  readonly deferred: DeferredClaim | null;
  /**
   * Given back as the worker stops (give-back.ts): this run of the attempt settled as no longer wanted (`aborted`),
   * waiting for the server until `giveUpAt` (then throws), so that a copy of it queued later (by an engine that offered
   * it and did not record the release) is dropped unrun beside the restart. An offered one is claimed first; one the
   * ledger says is another worker's is left alone. The heartbeat no longer writes the claim from then on.
   */
  abandon(giveUpAt: number): Promise<void>;
  /** abandon() was called: a beat would rewrite the claim over the mark. */
  readonly abandoned: boolean;
}

/** The attempt claimed (or its claim deferred); null: not to run here (handed back, or reported lost), and no longer held. */
export async function claimAttempt(h: ClaimHost, a: HeldAttempt): Promise<Claimed | null> {
  const { task, key, msgs, deliveryCount } = a;
  const restart = task.restart ?? 0;
  // Made when first needed: an offered attempt that ends before its first beat, unasked, never needs it (claim-asks.ts).
  let ledgerKeyMade: string | undefined;
  const ledgerKey = () =>
    (ledgerKeyMade ??= AttemptLedger.key(
      h.queue,
      task.runId,
      instanceToken({ task: task.taskId, ...instanceFields(task) }),
      task.attempt,
      restart,
      task.token,
      task.claimToken,
    ));
  // Every third of the ack wait (half a second at the least).
  const every = Math.max(500, h.ackWaitMs() / 3);
  // Rewritten every beat while this worker runs the attempt: the claim is the word that it lives (claim-watch.ts).
  const record: AttemptRecord = {
    worker: h.worker,
    startedAt: new Date().toISOString(),
    every: Math.round(every),
    ...(a.delivery ? { seq: a.delivery.seq } : {}),
  };
  const deferred = task.reportTo && h.asks.enabled ? h.asks.defer(key, ledgerKey, record) : null;
  const stopping = () => h.stopped() || h.handedBack();
  // This worker stops: the deliveries go back (another worker judges the claim), nothing is reported.
  const handBack = () => {
    for (const d of msgs) d.nak();
    h.held.delete(key);
    return null;
  };
  let claim: Claim;
  try {
    if (deferred) claim = { taken: true };
    else if (task.redispatch && h.asks.enabled) {
      // A copy of an attempt that may have been offered: a worker may run it unclaimed; ask before claiming.
      const found = await h.asks.find(ledgerKey(), {
        everyMs: every,
        hold: () => {
          for (const d of msgs) d.working();
        },
        stopped: stopping,
        plainCopyHeld: () => msgs.plain === true,
      });
      if (found === 'stopped') return handBack();
      claim =
        found === 'claim'
          ? await h.ledger.claim(ledgerKey(), record)
          : found
            ? { taken: false, by: found.by, revision: found.revision }
            : { taken: false, by: null, revision: 0 };
      if (!found)
        h.log(
          `${key}: a copy put on the queue again (delivery ${deliveryCount}), unclaimed, and no worker answered that it runs it; reporting it lost, for the engine to restart it`,
        );
    } else claim = await h.ledger.claim(ledgerKey(), record);
    // Another worker's claim, rewritten lately: it still runs the attempt; this delivery waits for it (claim-watch.ts).
    if (!claim.taken && claim.by && !claim.by.finished && claim.by.worker !== h.worker) {
      const after = await whileClaimLives({
        key,
        claim,
        msgs,
        delivery: a.delivery,
        deliveryCount,
        read: () => h.ledger.read(ledgerKey()),
        holdEveryMs: h.ackWaitMs() / 3,
        stopped: stopping,
        log: h.log,
      });
      if (after === 'stopped') return handBack();
      claim = after;
    }
  } catch (err) {
    h.held.delete(key);
    for (const other of msgs.slice(1)) other.nak(1000);
    throw err;
  }
  // Our own unfinished claim is one whose answer we missed (a dropped connection), not another worker's.
  if (!claim.taken && (claim.by?.finished || claim.by?.worker !== h.worker)) {
    h.held.delete(key);
    await reportLost(h, a, claim);
    return null;
  }
  if (deliveryCount > 1)
    h.log(`${key}: delivery ${deliveryCount}; the worker that had it never started it, so it runs now`);
  let abandoned = false;
  return {
    ledgerKey,
    record,
    deferred,
    finish: (outcome) => h.ledger.finish(ledgerKey(), record, outcome),
    // Worth waiting for while a copy may still come: its engine queues one after an ack wait unheard, whose worker
    // asks for one more before reporting it lost.
    finishSurely: (outcome) =>
      h.ledger.finishSurely(ledgerKey(), record, outcome, Date.now() + 2 * h.ackWaitMs()).catch((err: unknown) => {
        h.log(
          `${key}: marking it ${outcome} in the attempt ledger failed (${errorMessage(err)}); its outcome is on LF_INPUTS, but a copy queued before the engine folds it would run it again`,
        );
      }),
    get abandoned() {
      return abandoned;
    },
    abandon: async (giveUpAt) => {
      abandoned = true;
      if (deferred) {
        await deferred.claimNow();
        if (!deferred.claimed) return;
      }
      await h.ledger.finishSurely(ledgerKey(), record, 'aborted', giveUpAt);
    },
  };
}

/** Not run here, and not dropped on the ledger's word either (any worker may write it): the engine's log decides. */
async function reportLost(h: ClaimHost, a: HeldAttempt, claim: Claim & { taken: false }): Promise<void> {
  const { task } = a;
  // No entry at all after asking (a copy that may have been offered): the ledger said nothing.
  const unanswered = !claim.by && task.redispatch === true && h.asks.enabled;
  const ledgerSaid = claim.by?.finished ?? 'taken';
  h.stats.lost++;
  if (!unanswered) h.log(lostLine(a.key, ledgerSaid, claim.by?.worker, a.deliveryCount));
  await h.reporter.report(a.msgs, task, {
    runId: task.runId,
    time: new Date().toISOString(),
    token: task.token,
    type: 'task.lost',
    data: {
      task: task.taskId,
      attempt: task.attempt,
      ...instanceFields(task),
      restart: task.restart ?? 0,
      ...(claim.by?.worker ? { lost: claim.by.worker.slice(0, 200) } : {}),
      ...(unanswered ? {} : { ledger: ledgerSaid }),
    },
  });
}

/**
 * The heartbeat of an attempt running here: its deliveries held, its claim rewritten (an offered one claimed
 * once it outlives its first beat: claim-asks.ts), and an offered attempt's engine told it still runs here (a
 * queued one's stream hears it from working()). Returns what stops it.
 */
export function heartbeat(h: ClaimHost, a: HeldAttempt, c: Claimed): () => void {
  const { task } = a;
  // Made at the first beat, not for every attempt: most end before one.
  let heldWord: { on: string; word: Uint8Array } | undefined;
  const heldOf = (reportTo: string) =>
    (heldWord ??= {
      on: subjects.directReport(h.sender, h.queue, task.runId, reportTo),
      word: encode({
        type: 'task.held',
        runId: task.runId,
        token: task.token,
        ...(task.claimToken ? { claimToken: task.claimToken } : {}),
        data: { task: task.taskId, attempt: task.attempt, ...instanceFields(task), restart: task.restart ?? 0 },
      } satisfies HeldMessage),
    });
  const timer = setInterval(() => {
    // Handed back by a stop (the grace ran out), the deliveries are no longer ours to keep.
    if (h.handedBack()) return;
    for (const delivery of a.msgs) delivery.working();
    // A connection closed under it (the worker stopping, or lost): its engine stops hearing, and queues the attempt;
    // the claim, no longer rewritten, goes stale, and the worker that gets the attempt next reports it lost.
    try {
      const { deferred } = c;
      // Given back (give-back.ts): settled as no longer wanted, which a rewrite would undo; the claim is left as it is
      // (the deliveries still held, its engine still told, until the release is published).
      if (!c.abandoned) {
        if (deferred && !deferred.claimed)
          deferred.claimNow().catch(() => {
            /* tried again at the next beat or ask */
          });
        else h.ledger.refresh(c.ledgerKey(), c.record);
      }
      if (task.reportTo) {
        const held = heldOf(task.reportTo);
        h.nc.publish(held.on, held.word);
      }
    } catch {
      /* see above */
    }
  }, c.record.every);
  return () => clearInterval(timer);
}
