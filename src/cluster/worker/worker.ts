/**
 * Remote workers: `createWorker({ nats, handlers })` pulls task attempts from the work queue (one durable consumer per
 * queue and handler, shared by every worker with that handler), runs them with the same handler modules as in-process
 * runs, heartbeats long tasks, and reports the outcome as a runtime input. A message delivered again after the ack wait
 * usually means the worker that took it stopped answering: that attempt is reported lost (task.lost), and the engine
 * runs it again, as the same attempt with the same idempotency key and without using up the task's retries
 * (task.restarted; past a cap of restarts the attempt fails: runtime/restarts.ts). A lost worker is the infrastructure
 * failing, not the task.
 *
 * nats-server may also hand out an attempt again as if new: its hold timed out while the connection was down, or a
 * killed server lost the consumer's ack state. So that no attempt runs twice:
 * - a worker remembers the attempts it holds and the outcomes it reported lately: it keeps running the one attempt, or
 *   reports its outcome again;
 * - every worker claims an attempt in the attempt ledger before running it, and runs only one no other worker has
 *   (worker-claim.ts).
 *
 * A worker creates no stream or consumer unless its NATS user may: the engines create its queue's stream
 * LF_TASKS_<queue> and the consumer w_<queue>_<handler> when they first hand out an attempt of that pair
 * (task-queues.ts), and a worker waits for them. nats.conf grants a worker user only its queues' streams.
 *
 * This module takes and holds deliveries (its bounds on one are worker-bounds.ts); running an attempt is
 * run-attempt.ts, publishing its outcome (and remembering it) report-outcome.ts.
 */
import { openAttempt, sealOutcome } from '../../encryption/index.js';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { connect, jetstream, jetstreamManager } from '../../store/index.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { instanceFields, instanceKey } from '../../compiler/index.js';
import { COMMAND_HANDLER, HTTP_HANDLER } from '../../runtime/index.js';
import {
  credentials,
  parseInbound,
  rawOf,
  DEFAULT_TASK_ACK_WAIT_MS,
  AttemptLedger,
  ANONYMOUS_SENDER,
  DEFAULT_QUEUE,
  senderOf,
  InHand,
  STOP_GRACE_MS,
  announcePresence,
  ATTEMPT_SIG_HEADER,
  AttemptVerifier,
  type OutcomeMessage,
  type ReleaseMessage,
  type TaskMessage,
} from '../transport/index.js';
import { takeCarried, takeOffers, type OfferTaker } from './worker-offers.js';
import { pullHandler, type TaskPuller } from './worker-pull.js';
import { deliveryBounds } from './worker-bounds.js';
import { claimAttempt, heartbeat, type ClaimHost, type Deliveries } from './worker-claim.js';
import { ClaimAsks } from './claim-asks.js';
import { OutcomeReporter } from './report-outcome.js';
import { attemptControl, runAttempt } from './run-attempt.js';
import { afterGrace, type Running } from './give-back.js';
import type { Worker, WorkerOptions } from './worker-options.js';
import { outputWriter } from '../../files/index.js';
import { connectRefusal } from '../../store/index.js';
import { WorkerMeans } from './attempt-means.js';
import { errorMessage } from '../../errors/index.js';

export type { Worker, WorkerOptions } from './worker-options.js';

export function createWorker(opts: WorkerOptions): Worker {
  const queue = opts.queue ?? DEFAULT_QUEUE;
  const log = opts.log ?? (() => {});
  /** Heartbeat every third of the ack wait: the shortest of the consumers' own (read from the server: a consumer made earlier may have another) and ours. */
  let ackWaitMs = opts.settings?.taskAckWaitMs ?? DEFAULT_TASK_ACK_WAIT_MS;
  const writeOutput = outputWriter(opts.outputRoot);
  let nc: NatsConnection;
  const means = new WorkerMeans(() => nc, opts.secrets);
  let js: JetStreamClient;
  let ledger: AttemptLedger;
  /** Who claims attempts in the ledger (a name for people reading it). */
  const workerName = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  let owned = false;
  let stopped = false;
  const stops: (() => void)[] = [];
  const loops: Promise<void>[] = [];
  const stats = { completed: 0, failed: 0, lost: 0 };
  /** Attempts running in this worker, with every delivery of each it holds (worker-claim.ts). */
  const held = new Map<string, Deliveries>();
  /** Attempts whose handlers run here now: a stop past its grace gives them back (give-back.ts). */
  const running = new Map<string, Running>();
  /** Deliveries taken and not finished: stop() lets them finish, then hands back the rest. */
  const inHand = new InHand();
  let reporter: OutcomeReporter;
  /** Offered attempts' claims, written when needed (claim-asks.ts). */
  let asks: ClaimAsks;
  /** The NATS user this worker publishes as: outcomes on lf.inputs.<sender>.…, dead letters on lf.dlq.tasks.<sender>. */
  let sender: string;
  /** Checks that an attempt was signed by the engines (attempt-keys.ts); null until the key is known. */
  let verifier: AttemptVerifier | null = null;
  let offerTaker: OfferTaker | null = null;
  /** What claiming an attempt uses of this worker (worker-claim.ts), once started. */
  let host: ClaimHost;
  // A worker given a command executor also takes COMMAND attempts, which travel under one handler name.
  const served = [
    ...new Set([
      ...Object.keys(opts.handlers),
      ...(opts.commands ? [COMMAND_HANDLER] : []),
      ...(opts.http ? [HTTP_HANDLER] : []),
    ]),
  ];

  async function run(m: JsMsg): Promise<void> {
    // Signed by an engine, or not run (attempt-keys.ts): a message no engine made, queued by whoever could publish there.
    const parsed =
      verifier?.verify(m.data, m.headers) !== true
        ? {
            ok: false as const,
            reason: `an attempt on ${m.subject} not signed by the engines (no valid ${ATTEMPT_SIG_HEADER} header): not run`,
          }
        : parseInbound('task', rawOf(m));
    if (!parsed.ok) {
      await deadLetter(m, parsed.reason);
      m.term();
      return;
    }
    // An attempt from the queue's stream is the queue's, whatever its body says about an engine.
    const { reportTo: _offered, ...task } = parsed.value;
    await runTask(task, m, m.info.deliveryCount);
  }

  /** Attempts of each handler running here (pulled or offered): an offer is taken only below the concurrency. */
  const busy = new Map<string, number>();
  const concurrency = opts.concurrency ?? 4;
  /** Each handler's pulls from the queue's stream, woken when a slot frees. */
  const pullers = new Map<string, TaskPuller>();

  /** Handlers whose offers it takes (none with directOffers off); a report takes the run's next attempt of those with a slot free once its own is (TAKES_NEXT_HEADER). */
  let takesFrom: readonly string[] = [];
  const takesNext = (finishing: string): string[] =>
    !inHand.open || !verifier ? [] : takesFrom.filter((h) => h === finishing || (busy.get(h) ?? 0) < concurrency);

  /** Runs an attempt, pulled (`m`, its delivery) or offered (`m` null: `task.reportTo` names the engine). */
  async function runTask(task: TaskMessage, m: JsMsg | null, deliveryCount: number): Promise<void> {
    busy.set(task.handler, (busy.get(task.handler) ?? 0) + 1);
    let next: Msg | undefined;
    try {
      next = await runClaimed(task, m, deliveryCount);
    } finally {
      busy.set(task.handler, (busy.get(task.handler) ?? 1) - 1);
      // The run's next attempt, handed over in the report's answer, takes the slot this one frees (before a pull can):
      // run as an offered one, once verified as the engines' (worker-offers.ts).
      if (next && offerTaker) takeCarried(offerTaker, next, takesFrom);
      pullers.get(task.handler)?.wake();
    }
  }

  /** `commit`: the attempt is its own engine's (runHere): its outcome is committed there, reported only if that fails. */
  async function runClaimed(
    task: TaskMessage,
    m: JsMsg | null,
    deliveryCount: number,
    commit?: (outcome: OutcomeMessage | ReleaseMessage) => Promise<void>,
    keyed = false,
  ): Promise<Msg | undefined> {
    const restart = task.restart ?? 0;
    const key = `${task.runId}/${instanceKey({ task: task.taskId, ...instanceFields(task) })}/${task.attempt}${restart > 0 ? `/r${restart}` : ''}`;
    const mine = held.get(key);
    if (mine) {
      // Ours and still running: hold this delivery too, and answer every one when the attempt ends.
      log(
        `${key}: ${m ? `delivered again (delivery ${deliveryCount})` : 'offered again'} while this worker runs it; not starting it twice`,
      );
      if (m) {
        mine.push(m);
        if (!task.redispatch && !task.reportTo) mine.plain = true;
      }
      return;
    }
    const outcome = reporter.remembered(key);
    if (outcome) {
      log(`${key}: delivered again after this worker reported ${outcome.type}; reporting it again`);
      await reporter.report(m ? [m] : [], task, outcome);
      return;
    }
    // Held before the claim is awaited, so that another delivery arriving meanwhile waits with this one.
    const attempt = { task, key, msgs: m ? [m] : [], delivery: m, deliveryCount };
    held.set(key, attempt.msgs);
    const claimed = await claimAttempt(host, attempt);
    if (!claimed) return;
    const { deferred } = claimed;
    const stopBeating = heartbeat(host, attempt, claimed);
    const run: Running = { task, msgs: attempt.msgs, control: attemptControl(task), claimed, commit };
    running.set(key, run);
    try {
      const { ring, ...given } = means.for(task, keyed);
      // What runAttempt reads, named: a spread of the worker's options (every option, each attempt) was 8% of its CPU.
      const { handlers, commands, http } = opts;
      const runners = { handlers, commands, http, log, writeOutput, ...given };
      const ran = await runAttempt(await openAttempt(task, ring), runners, run.control);
      // Given back as this worker stops (give-back.ts): the engines run it again, its deliveries are answered there.
      if (run.released) return;
      // Committed by this process's engine (engine --handlers): no seal, no report; a copy held meanwhile is answered.
      if (ran && commit && (await commit(ran).then(() => true, committedNot(key)))) {
        stats[ran.type === 'task.completed' ? 'completed' : 'failed']++;
        for (const delivery of attempt.msgs) delivery.ack();
        if (deferred?.claimed) claimed.finish(ran.type);
        return;
      }
      const dataKey = ran ? await ring.current() : null;
      const outcome = ran && dataKey ? sealOutcome(ran, dataKey) : ran;
      if (outcome === null) {
        // Its deadline passed while it ran: the engine's timeout timer records TIMED_OUT; a redelivery is dropped.
        log(`${key}: past its deadline (${task.deadline}); its outcome is not reported, the engine's timeout decides`);
        stats.failed++;
        for (const delivery of attempt.msgs) delivery.ack();
        // Marked finished only where there is a claim: an offered attempt never claimed has no entry to mark.
        if (!deferred || deferred.claimed) claimed.finish('task.failed');
        return;
      }
      stats[outcome.type === 'task.completed' ? 'completed' : 'failed']++;
      reporter.remember(key, outcome);
      // Recorded in the run's log (handed straight to an engine): a later delivery finds the outcome there, the ledger
      // needs no mark but to end the wait of a worker holding a copy on a deferred claim. Only on LF_INPUTS, maybe not
      // folded yet, the mark must land, and no beat rewrite the claim after it, or a copy runs the attempt again.
      const reported = await reporter.report(attempt.msgs, task, outcome, takesNext(task.handler));
      if (reported.how === 'published') {
        stopBeating();
        await claimed.finishSurely(outcome.type);
      } else if (deferred?.claimed) claimed.finish(outcome.type);
      return reported.next;
    } finally {
      running.delete(key);
      held.delete(key);
      deferred?.done();
      stopBeating();
    }
  }

  /** The engine's commit of an outcome failed: reported as a remote worker's is (straight, else LF_INPUTS). */
  const committedNot = (key: string) => (err: unknown) => {
    log(`${key}: its engine did not commit the outcome (${errorMessage(err)}); reporting it`);
    return false;
  };

  const { bounded, deadLetter } = deliveryBounds({
    js: () => js,
    sender: () => sender,
    reporter: () => reporter,
    settings: opts.settings,
    log,
    handedBack: () => inHand.handedBack,
    run,
  });

  return {
    stats,
    name: workerName,
    serves: served,
    // Not counted in the slots offers and pulls take: its engine bounds these (local-attempts.ts).
    runHere: (task, commit, keyed) =>
      inHand.track(
        [],
        runClaimed(task, null, 1, commit, keyed).then(() => {}),
      ),
    async start() {
      if (typeof opts.nats === 'string') {
        // noAsyncTraces: as the store's connection (connection.ts), no stack trace built per request.
        const creds = credentials(opts.nats);
        // A refused login is said as every command says it (a wrong password, or none where nats.conf wants one), not thrown raw.
        nc = await connect({
          ...creds,
          maxReconnectAttempts: -1,
          name: 'ledgerflow-worker',
          noAsyncTraces: true,
        }).catch((err: unknown) => {
          throw connectRefusal(err, creds.servers.join(','), Boolean(creds.user || creds.token));
        });
        owned = true;
      } else nc = opts.nats;
      js = jetstream(nc);
      sender = opts.user ?? (typeof opts.nats === 'string' ? senderOf(opts.nats) : ANONYMOUS_SENDER);
      asks = new ClaimAsks({ nc, queue, ledger: () => ledger, worker: workerName, log });
      reporter = new OutcomeReporter(js, {
        sender,
        queue,
        log,
        stopped: () => inHand.handedBack,
        nc,
        patienceMs: opts.reportPatienceMs,
        session: () => verifier?.session?.header,
      });
      const jsm = await jetstreamManager(nc);
      ledger = await AttemptLedger.open(nc);
      host = {
        queue,
        worker: workerName,
        sender,
        nc,
        ledger,
        asks,
        reporter,
        held,
        stats,
        ackWaitMs: () => ackWaitMs,
        stopped: () => stopped,
        handedBack: () => inHand.handedBack,
        log,
      };
      const offers: OfferTaker = (offerTaker = {
        ...host,
        signed: (msg) => verifier?.verify(msg.data, msg.headers) === true,
        free: (handler) => inHand.open && (busy.get(handler) ?? 0) < concurrency,
        run: (task) =>
          void inHand.track(
            [],
            runTask(task, null, 1).catch((err: unknown) => {
              // Not reported: its engine stops hearing of it and queues it, where the claim decides.
              log(
                `offered attempt ${task.runId}/${task.taskId} ${task.attempt}: ${errorMessage(err)}; its engine will queue it`,
              );
            }),
          ),
      });
      // The engines' key (waited for, as the queue's stream is, until an engine has put it in LF_KEYS): nothing is
      // pulled before it is known, and an offer before it is not taken (its engine queues it).
      const pinned = opts.attemptKey ?? process.env.LEDGERFLOW_ATTEMPT_KEY;
      // A key given (LEDGERFLOW_ATTEMPT_KEY) is checked now: a bad one stops the start with the reason.
      if (pinned) verifier = await AttemptVerifier.open(nc, { pinned, stopped: () => stopped, log });
      const keyed = verifier
        ? Promise.resolve(verifier)
        : AttemptVerifier.open(nc, { stopped: () => stopped, log }).then((v) => {
            verifier = v;
            return v;
          });
      // Asks are answered and made whether or not this worker takes offers: it may be given a copy of an offered attempt.
      await asks.start();
      // The engines tell people which handler nobody serves from what workers announce (presence.ts).
      const skills = [...new Set(opts.skills ?? [])].sort();
      stops.push(
        announcePresence(nc, {
          sender,
          queue,
          worker: workerName,
          handlers: served,
          skills,
          concurrency,
          everyMs: opts.presenceEveryMs,
          inFlight: () => [...busy.values()].reduce((n, b) => n + b, 0),
        }),
      );
      if (opts.directOffers !== false) takesFrom = served;
      for (const handler of served) {
        // Attempts offered straight to an idle worker (worker-offers.ts), run as pulled ones but reported to their engine.
        if (opts.directOffers !== false) stops.push(takeOffers(offers, handler));
        loops.push(
          pullHandler({
            nc,
            js,
            jsm,
            keyed,
            queue,
            handler,
            sender,
            settings: opts.settings,
            concurrency,
            skills,
            log,
            busy: () => busy.get(handler) ?? 0,
            stopped: () => stopped,
            ackWait: (ms) => {
              ackWaitMs = Math.min(ackWaitMs, ms);
            },
            // bounded() heartbeats and settles every delivery itself; a stop waits for it.
            take: (m) => {
              if (inHand.accept(m)) void inHand.track([m], bounded(m));
            },
            pulling: (puller) => {
              pullers.set(handler, puller);
              stops.push(() => puller.stop());
            },
          }).catch((err: unknown) => {
            // Handled here, not only by stop()'s allSettled: a loop ended by the connection closing under it (the worker
            // lost, or its connection closed by its owner) is said when it ends, not left an unhandled rejection that
            // ends the process (Node's default) before stop() is ever called.
            log(`${handler}: no longer pulling attempts: ${errorMessage(err)}`);
          }),
        );
      }
    },
    /** In order: nothing new is taken, the attempts running finish and report within the grace, the rest is given back (give-back.ts) or handed back, then the connection is drained. */
    async stop(how = {}) {
      stopped = true;
      inHand.stopTaking();
      for (const s of stops) s();
      if (!(await inHand.settle(how.graceMs ?? opts.stopGraceMs ?? STOP_GRACE_MS)))
        await afterGrace(inHand, how.giveBack === false ? new Map() : running, { reporter, worker: workerName, log });
      await Promise.allSettled(loops);
      // Asks are answered until the attempts running here are done (a worker holding a copy waits on them).
      asks?.stop();
      if (owned) await nc.drain().catch(() => undefined);
    },
  };
}
