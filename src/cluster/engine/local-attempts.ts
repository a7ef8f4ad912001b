/**
 * Attempts an engine runs itself (`ledgerflow engine --handlers`): when the commit that starts an attempt is this
 * engine's and its in-process worker has the handler, the attempt is run here and its outcome committed through the run
 * host directly (recordOutcome, the one way an outcome is recorded), with no offer over NATS, no signature, no seal
 * and no report message. What keeps every guarantee is what keeps an offered attempt's (direct-dispatch.ts):
 *
 * - It is taken into its run's custody as an offer is (DirectDispatch.adopt): only while a durable message of the run
 *   is surely held here, whose ack waits until the attempt's outcome is committed. An engine that dies leaves that
 *   message to another, which reloads the run and queues the outstanding attempt as a copy that may have been offered.
 * - The in-process worker runs it as a taken offer (worker.ts runHere): claimed in the attempt ledger only when needed
 *   (it outlives its first heartbeat, or a worker given a copy asks: claim-asks.ts), so a copy queued after a lapse
 *   (a disconnect, a stall) is not run twice while this one runs.
 * - Its deadline, retries, progress, large outputs (LF_BLOBS) and secrets are the worker's, as for an offered attempt;
 *   its outcome is recorded as reported by the worker's NATS user (the URL's, else `engine`), as before. A commit that
 *   fails is reported as a remote worker's outcome is (straight to an engine, else LF_INPUTS).
 *
 * The attempts run here at once are bounded; past the bound, and for a handler or queue the worker does not serve, the
 * attempt is offered or queued as before (the in-process worker still takes queued ones).
 */
import { iso } from '../../compiler/index.js';
import { randomHex } from '../../executor/index.js';
import { errorMessage } from '../../errors/index.js';
import type { StartAttempt } from '../../runtime/index.js';
import type { Worker } from '../worker/index.js';
import type { Custody, OutcomeMessage, ReleaseMessage, TaskMessage } from '../transport/index.js';
import { DirectDispatch } from './direct-dispatch.js';
import { withHeldDeliveries } from './inbox.js';
import { recordOutcome, recordRelease, type InputHost } from './inputs.js';

/** Attempts an engine runs itself at once by default; more are offered or queued (the in-process worker takes them). */
export const LOCAL_ATTEMPTS_AT_ONCE = 256;

/** The in-process worker of `engine --handlers`, and who its outcomes are recorded as reported by. */
export interface LocalWorker extends Pick<Worker, 'serves' | 'runHere'> {
  queue: string;
  /** Its NATS user: the URL's, else `engine` (what history says reported the outcome). */
  sender: string;
  /** Whether it has started (until then, attempts are offered or queued). */
  ready(): boolean;
  /** Attempts run here at once (default LOCAL_ATTEMPTS_AT_ONCE). */
  atOnce?: number;
}

export interface LocalAttemptsOptions {
  worker: LocalWorker;
  direct: DirectDispatch;
  /** This engine's report name: the worker's heartbeat, and its report should the commit fail, come here. */
  engine: string;
  /** The input path's host (made once the consumers are). */
  inputs(): InputHost;
  /** Whether the engine holds a data key (the attempt is handed over unsealed; what the worker stores is sealed). */
  keyed(): boolean;
  stats: { ranHere: number };
  log(line: string): void;
}

export class LocalAttempts {
  private running = 0;
  private n = 0;
  private readonly nonce = randomHex(4);
  private readonly serves: ReadonlySet<string>;

  constructor(private readonly o: LocalAttemptsOptions) {
    this.serves = new Set(o.worker.serves);
  }

  /** Runs the attempt here when this engine may (see above): true when it does, false to offer or queue it. */
  take(effect: StartAttempt, task: TaskMessage, custody: Custody | null): boolean {
    const { worker, direct } = this.o;
    if (effect.queue !== worker.queue || !this.serves.has(effect.handler) || !worker.ready()) return false;
    if (this.running >= (worker.atOnce ?? LOCAL_ATTEMPTS_AT_ONCE) || !direct.adopt(effect, task.token, custody))
      return false;
    this.running++;
    this.o.stats.ranHere++;
    const key = DirectDispatch.keyOf(effect);
    worker
      .runHere({ ...task, reportTo: this.o.engine }, (outcome) => this.commit(outcome, effect.queue), this.o.keyed())
      .catch((err: unknown) =>
        this.o.log(`run ${effect.runId}: ${effect.instance} attempt ${effect.attempt} run here: ${errorMessage(err)}`),
      )
      .finally(() => {
        this.running--;
        // Its outcome committed (reported() let go of it already), or none to commit (past its deadline): out of custody.
        direct.done(effect.runId, key);
      });
    return true;
  }

  /**
   * The outcome folded into its run and committed, its effects handed on (the next attempt, maybe run here too); or
   * the attempt given back as this engine's worker stops (task.released and task.restarted: queued for another).
   */
  private async commit(outcome: OutcomeMessage | ReleaseMessage, queue: string): Promise<void> {
    const host = this.o.inputs();
    host.stats.inputs++;
    const by = { by: this.o.worker.sender, ...(host.sendersProven() ? {} : { unauthenticated: true as const }) };
    const commitKey = `l${this.nonce}.${(this.n++).toString(36)}`;
    const done = await withHeldDeliveries((custody) =>
      outcome.type === 'task.released'
        ? recordRelease(host, outcome, queue, by, iso(host.now()), { commitKey, custody })
        : recordOutcome(host, outcome, queue, by, iso(host.now()), { commitKey, custody }),
    );
    if (!done) throw new Error(`run ${outcome.runId} reads as empty here`);
    if ('refused' in done) throw new Error(`the attempt was handed out on queue ${done.refused}, not ${queue}`);
  }
}
