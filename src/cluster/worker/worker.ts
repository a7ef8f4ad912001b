/**
 * Remote workers: `createWorker({ nats, handlers })` pulls task attempts from
 * the work queue (one durable consumer per queue and handler, shared by every
 * worker with that handler), runs them with the same handler modules as
 * in-process runs, heartbeats long tasks, and reports the outcome as a runtime
 * input. A message delivered again after the ack wait usually means the
 * worker that took it stopped answering: that attempt is reported lost
 * (task.lost), and the engine runs it again, as the same attempt with the same
 * idempotency key and without using up the task's retries (task.restarted;
 * past a cap of restarts the attempt fails: runtime/restarts.ts). A lost
 * worker is the infrastructure failing, not the task.
 *
 * nats-server may also hand out an attempt again as if new: its hold timed out
 * while the connection was down, or a killed server lost the consumer's ack
 * state. So that no attempt runs twice:
 * - a worker remembers the attempts it holds and the outcomes it reported
 *   lately: it keeps running the one attempt, or reports its outcome again;
 * - every worker claims an attempt in the attempt ledger (attempts.ts) before
 *   running it: one that no worker claimed (its worker died before starting
 *   it) is run, as the same attempt; one the ledger says is another's (taken
 *   and not finished, finished by another, or settled by an engine as no
 *   longer wanted) is not run here, and not dropped either: any worker may
 *   write the ledger, so it is reported to the engine (task.lost, with what
 *   the ledger said), whose log decides whether it runs again (inputs.ts).
 *
 * A worker creates no stream or consumer unless its NATS user may: the
 * engines create its queue's stream LF_TASKS_<queue> and the consumer
 * w_<queue>_<handler> when they first hand out an attempt of that pair
 * (task-queues.ts), and a worker waits for them. nats.conf grants a worker
 * user only its queues' streams.
 *
 * This module pulls, claims and holds deliveries (its bounds on one are worker-bounds.ts); running
 * an attempt is run-attempt.ts, publishing its outcome (and remembering it) report-outcome.ts.
 */
import { chainSecrets, defaultSecrets, kvSecrets, type SecretsProvider } from '../../secrets/index.js';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { connect, jetstream, jetstreamManager } from '../../store/index.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { instanceFields, instanceKey, instanceToken } from '../../compiler/index.js';
import {
  COMMAND_HANDLER,
  HTTP_HANDLER,
  type CommandRunner,
  type Handlers,
  type HttpRunner,
} from '../../runtime/index.js';
import {
  credentials,
  encode,
  maxOutputBytes,
  parseInbound,
  rawOf,
  DEFAULT_TASK_ACK_WAIT_MS,
  AttemptLedger,
  ANONYMOUS_SENDER,
  DEFAULT_QUEUE,
  subjects,
  senderOf,
  InHand,
  STOP_GRACE_MS,
  announcePresence,
  ATTEMPT_SIG_HEADER,
  AttemptVerifier,
  type HeldMessage,
  type TaskMessage,
  type ClusterSettings,
  type AttemptRecord,
  type Claim,
} from '../transport/index.js';
import { takeCarried, takeOffers, type OfferTaker } from './worker-offers.js';
import { TaskPuller } from './worker-pull.js';
import { consumerOf, lostLine } from './worker-deliveries.js';
import { deliveryBounds } from './worker-bounds.js';
import { whileClaimLives } from './claim-watch.js';
import { ClaimAsks } from './claim-asks.js';
import { OutcomeReporter } from './report-outcome.js';
import { runAttempt } from './run-attempt.js';
import { outputWriter } from '../../files/index.js';
import { connectRefusal } from '../../store/index.js';
import { errorMessage } from '../../errors/index.js';

export interface WorkerOptions {
  /** A server URL (credentials may be in it) or a connection to share (@nats-io/transport-node 3.x's `connect`). */
  nats: string | NatsConnection;
  handlers: Handlers;
  queue?: string;
  settings?: ClusterSettings;
  /**
   * Run COMMAND tasks too (their attempts on lf.q.<queue>._command), with this executor
   * (src/handlers/command.ts: `createCommandExecutor({ outputLimit })`). Without it, this worker takes none.
   */
  commands?: CommandRunner;
  /**
   * Run HTTP tasks too (their attempts on lf.q.<queue>._http), with this executor
   * (src/handlers/http.ts: `createHttpExecutor({ allow })`). Without it, this worker takes none.
   */
  http?: HttpRunner;
  /** Attempts of each handler this worker pulls and runs at once (default 4). */
  concurrency?: number;
  /** Its skills (`worker --skills`, docs/limits.md#skills): it also takes attempts of tasks that require some of them. */
  skills?: readonly string[];
  /** Where `output_to` files go: relative paths resolve against it, nothing is written outside it (default: the current directory). */
  outputRoot?: string;
  /**
   * The NATS user this worker connects as, which it names as the sender of what it reports
   * (lf.inputs.<user>.<runId>). Default: the user in the URL, else `anonymous`; with a shared
   * connection, say it here.
   */
  user?: string;
  log?: (line: string) => void;
  /** How long stop() lets the attempts running here finish and report before handing them back (default 10 s). */
  stopGraceMs?: number;
  /**
   * How long a report the hub does not take (a publish unanswered, say) is retried before the worker gives it up,
   * and how often a station's worker whose link is down says it still waits for it (default 60 s). Mostly for
   * tests, which need not spend the minute to see a station's worker keep its outcome past it.
   */
  reportPatienceMs?: number;
  /** How often this worker announces what it serves (default 5 s); the engines take it for gone after three such periods unheard. */
  presenceEveryMs?: number;
  /** Take attempts the engines offer straight to an idle worker (lf.offer), besides pulling them (default true). */
  directOffers?: boolean;
  /** The engines' attempt key (base64url), trusted instead of what KV LF_KEYS says (default: LEDGERFLOW_ATTEMPT_KEY, else LF_KEYS). */
  attemptKey?: string;
  /**
   * Where `${secrets.NAME}` values come from when an attempt starts (src/secrets). Default: KV LF_SECRETS on
   * this worker's connection, then the file LEDGERFLOW_SECRETS_FILE names (if set), then LEDGERFLOW_SECRET_<NAME>.
   */
  secrets?: SecretsProvider;
}

export interface Worker {
  start(): Promise<void>;
  /** Stops taking attempts and lets the running ones finish for `graceMs` (default: the worker's stopGraceMs) before handing them back. */
  stop(opts?: { graceMs?: number }): Promise<void>;
  readonly stats: { completed: number; failed: number; lost: number };
  /** How this worker signs the attempts it claims in the attempt ledger: host/pid/random. */
  readonly name: string;
}

export function createWorker(opts: WorkerOptions): Worker {
  const queue = opts.queue ?? DEFAULT_QUEUE;
  const log = opts.log ?? (() => {});
  /** Heartbeat every third of the ack wait: the shortest of the consumers' own (read from the server: a consumer made earlier may have another) and ours. */
  let ackWaitMs = opts.settings?.taskAckWaitMs ?? DEFAULT_TASK_ACK_WAIT_MS;
  const writeOutput = outputWriter(opts.outputRoot);
  let nc: NatsConnection;
  let secrets: SecretsProvider | undefined;
  let js: JetStreamClient;
  let ledger: AttemptLedger;
  /** Who claims attempts in the ledger (a name for people reading it). */
  const workerName = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  let owned = false;
  let stopped = false;
  const stops: (() => void)[] = [];
  const loops: Promise<void>[] = [];
  const stats = { completed: 0, failed: 0, lost: 0 };
  /** Attempts running in this worker, with every delivery of each it holds; `plain`: one came unmarked while a marked copy asked (claim-asks.ts). */
  const held = new Map<string, JsMsg[] & { plain?: boolean }>();
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

  async function run(m: JsMsg): Promise<void> {
    // Signed by an engine, or not run (attempt-keys.ts): a message no engine made, queued by whoever could publish there.
    if (verifier?.verify(m.data, m.headers) !== true) {
      await deadLetter(
        m,
        `an attempt on ${m.subject} not signed by the engines (no valid ${ATTEMPT_SIG_HEADER} header): not run`,
      );
      m.term();
      return;
    }
    const parsed = parseInbound('task', rawOf(m));
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
      // The run's next attempt, handed over in the report's answer, takes the slot this one frees (before a pull can).
      if (next) runCarried(next);
      pullers.get(task.handler)?.wake();
    }
  }

  /** An attempt an engine handed over in a report's answer: run as an offered one, once verified as the engines' (worker-offers.ts). */
  const runCarried = (msg: Msg): void => {
    if (offerTaker) takeCarried(offerTaker, msg, takesFrom);
  };

  async function runClaimed(task: TaskMessage, m: JsMsg | null, deliveryCount: number): Promise<Msg | undefined> {
    const restart = task.restart ?? 0;
    const ref = { task: task.taskId, ...instanceFields(task) };
    const key = `${task.runId}/${instanceKey(ref)}/${task.attempt}${restart > 0 ? `/r${restart}` : ''}`;
    const base = { runId: task.runId, time: '', token: task.token };
    const now = () => new Date().toISOString();
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
    const msgs: JsMsg[] & { plain?: boolean } = m ? [m] : [];
    held.set(key, msgs);
    // Made when first needed: an offered attempt that ends before its first beat, unasked, never needs it (claim-asks.ts).
    let ledgerKeyMade: string | undefined;
    const ledgerKey = () =>
      (ledgerKeyMade ??= AttemptLedger.key(
        queue,
        task.runId,
        instanceToken(ref),
        task.attempt,
        restart,
        task.token,
        task.claimToken,
      ));
    // Rewritten every beat while this worker runs the attempt: the claim is the word that it lives (claim-watch.ts).
    const beatMs = Math.max(500, ackWaitMs / 3);
    const record: AttemptRecord = {
      worker: workerName,
      startedAt: now(),
      every: Math.round(beatMs),
      ...(m ? { seq: m.seq } : {}),
    };
    let claim: Claim;
    // Offered: claimed only once it outlives its first beat, or another worker asks (claim-asks.ts).
    const deferred = task.reportTo && asks.enabled ? asks.defer(key, ledgerKey, record) : null;
    try {
      if (deferred) claim = { taken: true };
      else if (task.redispatch && asks.enabled) {
        // A copy of an attempt that may have been offered: a worker may run it unclaimed; ask before claiming.
        const found = await asks.find(ledgerKey(), {
          everyMs: beatMs,
          hold: () => {
            for (const d of msgs) d.working();
          },
          stopped: () => stopped || inHand.handedBack,
          plainCopyHeld: () => msgs.plain === true,
        });
        if (found === 'stopped') {
          for (const d of msgs) d.nak();
          held.delete(key);
          return;
        }
        claim =
          found === 'claim'
            ? await ledger.claim(ledgerKey(), record)
            : found
              ? { taken: false, by: found.by, revision: found.revision }
              : { taken: false, by: null, revision: 0 };
        if (!found)
          log(
            `${key}: a copy put on the queue again (delivery ${deliveryCount}), unclaimed, and no worker answered that it runs it; reporting it lost, for the engine to restart it`,
          );
      } else claim = await ledger.claim(ledgerKey(), record);
      // Another worker's claim, rewritten lately: it still runs the attempt; this delivery waits for it (claim-watch.ts).
      if (!claim.taken && claim.by && !claim.by.finished && claim.by.worker !== workerName) {
        const after = await whileClaimLives({
          key,
          claim,
          msgs,
          delivery: m,
          deliveryCount,
          read: () => ledger.read(ledgerKey()),
          holdEveryMs: ackWaitMs / 3,
          stopped: () => stopped || inHand.handedBack,
          log,
        });
        if (after === 'stopped') {
          // This worker stops: the deliveries go back (another worker judges the claim), nothing is reported.
          for (const delivery of msgs) delivery.nak();
          held.delete(key);
          return;
        }
        claim = after;
      }
    } catch (err) {
      held.delete(key);
      for (const other of msgs.slice(1)) other.nak(1000);
      throw err;
    }
    // Our own unfinished claim is one whose answer we missed (a dropped connection), not another worker's.
    if (!claim.taken && (claim.by?.finished || claim.by?.worker !== workerName)) {
      held.delete(key);
      // Not run here, and not dropped on the ledger's word either (any worker may write it): the engine's log decides.
      // No entry at all after asking (a copy that may have been offered): the ledger said nothing.
      const unanswered = !claim.by && task.redispatch === true && asks.enabled;
      const ledgerSaid = claim.by?.finished ?? 'taken';
      stats.lost++;
      if (!unanswered) log(lostLine(key, ledgerSaid, claim.by?.worker, deliveryCount));
      await reporter.report(msgs, task, {
        ...base,
        time: now(),
        type: 'task.lost',
        data: {
          task: task.taskId,
          attempt: task.attempt,
          ...instanceFields(task),
          restart,
          ...(claim.by?.worker ? { lost: claim.by.worker.slice(0, 200) } : {}),
          ...(unanswered ? {} : { ledger: ledgerSaid }),
        },
      });
      return;
    }
    if (deliveryCount > 1)
      log(`${key}: delivery ${deliveryCount}; the worker that had it never started it, so it runs now`);
    // Handed back by a stop (the grace ran out), the deliveries are no longer ours to keep.
    // An offered attempt's engine hears that it still runs here (a queued one's stream does, from working()).
    // Made at the first beat, not for every attempt: most end before one.
    let heldWord: { on: string; word: Uint8Array } | undefined;
    const heldOf = (reportTo: string) =>
      (heldWord ??= {
        on: subjects.directReport(sender, queue, task.runId, reportTo),
        word: encode({
          type: 'task.held',
          runId: task.runId,
          token: task.token,
          ...(task.claimToken ? { claimToken: task.claimToken } : {}),
          data: { task: task.taskId, attempt: task.attempt, ...instanceFields(task), restart },
        } satisfies HeldMessage),
      });
    const heartbeat = setInterval(() => {
      if (inHand.handedBack) return;
      for (const delivery of msgs) delivery.working();
      // A connection closed under it (the worker stopping, or lost): its engine stops hearing, and queues the attempt;
      // the claim, no longer rewritten, goes stale, and the worker that gets the attempt next reports it lost.
      try {
        // An offered attempt outliving its first beat is claimed now (claim-asks.ts); rewritten from then on.
        if (deferred && !deferred.claimed)
          deferred.claimNow().catch(() => {
            /* tried again at the next beat or ask */
          });
        else if (!deferred || deferred.claimed) ledger.refresh(ledgerKey(), record);
        if (task.reportTo) {
          const h = heldOf(task.reportTo);
          nc.publish(h.on, h.word);
        }
      } catch {
        /* see above */
      }
    }, beatMs);
    // Marked finished only where there is a claim: an offered attempt never claimed has no entry to mark.
    const claimedHere = () => !deferred || deferred.claimed;
    try {
      secrets ??= opts.secrets ?? chainSecrets(kvSecrets(nc), defaultSecrets());
      const outcome = await runAttempt(
        task,
        opts.handlers,
        log,
        writeOutput,
        { commands: opts.commands, http: opts.http },
        maxOutputBytes(nc.info?.max_payload),
        secrets,
      );
      if (outcome === null) {
        // Its deadline passed while it ran: the engine's timeout timer records TIMED_OUT; a redelivery is dropped.
        log(`${key}: past its deadline (${task.deadline}); its outcome is not reported, the engine's timeout decides`);
        stats.failed++;
        for (const delivery of msgs) delivery.ack();
        if (claimedHere()) ledger.finish(ledgerKey(), record, 'task.failed');
        return;
      }
      if (outcome.type === 'task.completed') stats.completed++;
      else stats.failed++;
      reporter.remember(key, outcome);
      // Recorded in the run's log already (handed straight to an engine): a later delivery of it finds the
      // outcome there, so the ledger needs no mark. Only one published on LF_INPUTS, maybe not folded yet, does,
      // and a deferred claim written meanwhile (a worker holding a copy waits on it: the mark ends its wait).
      const reported = await reporter.report(msgs, task, outcome, takesNext(task.handler));
      if (reported.how === 'published' || deferred?.claimed)
        ledger.finish(ledgerKey(), record, outcome.type === 'task.completed' ? 'task.completed' : 'task.failed');
      return reported.next;
    } finally {
      held.delete(key);
      deferred?.done();
      clearInterval(heartbeat);
    }
  }

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
      const offers: OfferTaker = (offerTaker = {
        nc,
        queue,
        sender,
        log,
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
      const jsm = await jetstreamManager(nc);
      ledger = await AttemptLedger.open(nc);
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
      // A worker given a command executor also takes COMMAND attempts, which travel under one handler name.
      const served = [
        ...new Set([
          ...Object.keys(opts.handlers),
          ...(opts.commands ? [COMMAND_HANDLER] : []),
          ...(opts.http ? [HTTP_HANDLER] : []),
        ]),
      ];
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
          inFlight: () => {
            let n = 0;
            for (const b of busy.values()) n += b;
            return n;
          },
        }),
      );
      if (opts.directOffers !== false) takesFrom = served;
      for (const handler of served) {
        // Attempts offered straight to an idle worker (worker-offers.ts), run as pulled ones but reported to their engine.
        if (opts.directOffers !== false) stops.push(takeOffers(offers, handler));
        loops.push(
          (async () => {
            if (!(await keyed)) return; // stopped before the key was known
            const durable = await consumerOf(jsm, {
              queue,
              handler,
              sender,
              settings: opts.settings,
              log,
              stopped: () => stopped,
              ackWait: (ms) => {
                ackWaitMs = Math.min(ackWaitMs, ms);
              },
            });
            if (stopped || !durable) return;
            // Attempts a worker holds but has not started are reported lost if it dies (it cannot tell them apart from
            // started ones), so it pulls no more than it has free slots for; the highest priority level first (worker-pull.ts).
            const puller = new TaskPuller({
              nc,
              js,
              jsm,
              queue,
              handler,
              durable,
              concurrency,
              skills,
              log,
              busy: () => busy.get(handler) ?? 0,
              stopped: () => stopped,
              // bounded() heartbeats and settles every delivery itself; a stop waits for it.
              take: (m) => {
                if (inHand.accept(m)) void inHand.track([m], bounded(m));
              },
            });
            pullers.set(handler, puller);
            stops.push(() => puller.stop());
            await puller.run();
          })().catch((err: unknown) => {
            // Handled here, not only by stop()'s allSettled: a loop ended by the connection closing under it (the worker
            // lost, or its connection closed by its owner) is said when it ends, not left an unhandled rejection that
            // ends the process (Node's default) before stop() is ever called.
            log(`${handler}: no longer pulling attempts: ${errorMessage(err)}`);
          }),
        );
      }
    },
    /** In order: nothing new is taken, the attempts running finish and report within the grace, the rest is handed back, then the connection is drained. */
    async stop(how = {}) {
      stopped = true;
      inHand.stopTaking();
      for (const s of stops) s();
      if (!(await inHand.settle(how.graceMs ?? opts.stopGraceMs ?? STOP_GRACE_MS))) {
        const { messages: n, withoutMessages: offered } = inHand.handBackRest();
        if (n > 0 || offered === 0)
          log(
            `stopping: ${n} attempt deliver${n === 1 ? 'y' : 'ies'} not finished within the grace handed back (another worker reports them lost and runs them again)`,
          );
        // Offered attempts have no delivery to hand back: their engine stops hearing of them and queues them, where the claim decides.
        if (offered > 0)
          log(
            `stopping: ${offered} offered attempt(s) not finished within the grace: their engine queues them once this worker stops saying it runs them, and the next worker reports them lost and runs them again`,
          );
      }
      await Promise.allSettled(loops);
      // Asks are answered until the attempts running here are done (a worker holding a copy waits on them).
      asks?.stop();
      if (owned) await nc.drain().catch(() => undefined);
    },
  };
}
