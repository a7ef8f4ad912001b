/**
 * A clean stop's end (SIGTERM, SIGINT: Worker.stop), once the grace is over: each attempt still running here is given
 * back rather than left to be found lost. Its handler is aborted, and the run is said to be given back (task.released)
 * over the worker's reporting path: on lf.inputs.<sender>.<queue>.<runId> with the attempt's token (and a restarted
 * run's claim token), which the engines check as every report (engine/inputs.ts), so a worker gives back only a run it
 * was handed. An engine records task.released and task.restarted in one commit and hands the attempt out again at
 * once, and that restart is not counted as a loss (runtime/restarts.ts): a worker restarted for a deploy any number of
 * times does not fail its attempts with LF_ATTEMPT_LOST. An attempt its own engine runs (engine --handlers) is given
 * back through that engine's commit instead, with no message (LocalAttempts), and on LF_INPUTS if that fails.
 *
 * Before the release goes, the run of the attempt given back is settled in the attempt ledger as no longer wanted
 * (`aborted`, as an engine settles one: worker-claim.ts abandon): with several engines, the one that offered it may not
 * be the one that records the release, and once it stops hearing of it it queues a copy; the worker given that copy
 * reads the mark and drops it unrun (the engine finds the loss stale), so the handler does not run twice.
 *
 * The attempt's deliveries are acked once the release is published: the restart is a new message. What could not be
 * given back (the publish failed, or the attempt was still being claimed) is handed back as before: another worker
 * reports it lost, and that counts. A worker killed (kill -9, a crash) gives nothing back, so its attempts still count.
 */
import type { AttemptControl } from '../../executor/index.js';
import { errorMessage } from '../../errors/index.js';
import type { InHand, OutcomeMessage, ReleaseMessage, TaskMessage } from '../transport/index.js';
import type { Claimed, Deliveries } from './worker-claim.js';
import type { OutcomeReporter } from './report-outcome.js';

/** How long a stopping worker waits for the server to take each release before handing the attempt back instead. */
const RELEASE_TIMEOUT_MS = 5_000;
/** How long the aborted handlers of the attempts given back get to end before what is left is handed back. */
const ABORTED_END_MS = 2_000;

/** An attempt whose handler runs here now. */
export interface Running {
  task: TaskMessage;
  /** Its deliveries (more may arrive while it runs). */
  msgs: Deliveries;
  control: AttemptControl;
  /** Its claim in the attempt ledger: settled as no longer wanted when it is given back. */
  claimed: Pick<Claimed, 'abandon'>;
  /** Its own engine's commit (engine --handlers). */
  commit?: ((report: OutcomeMessage | ReleaseMessage) => Promise<void>) | undefined;
  /** Given back: its handler's end is neither reported nor committed, its deliveries are not answered. */
  released?: true;
}

/** What gives back the run of an attempt: its token, and a restarted run's claim token, prove the worker was handed it. */
export function releaseOf(task: TaskMessage, worker: string): ReleaseMessage {
  const restart = task.restart ?? 0;
  return {
    type: 'task.released',
    runId: task.runId,
    time: new Date().toISOString(),
    token: task.token,
    ...(task.claimToken ? { claimToken: task.claimToken } : {}),
    data: {
      task: task.taskId,
      attempt: task.attempt,
      ...(task.iteration !== undefined ? { iteration: task.iteration } : {}),
      ...(task.item !== undefined ? { item: task.item } : {}),
      restart,
      worker: worker.slice(0, 200),
    },
  };
}

/** Gives back every attempt running here (see above); returns how many were. */
async function giveBack(
  running: ReadonlyMap<string, Running>,
  o: { reporter: OutcomeReporter; worker: string; log: (line: string) => void },
): Promise<number> {
  let n = 0;
  await Promise.all(
    [...running].map(async ([key, a]) => {
      a.released = true;
      a.control.abort(new Error('the worker is stopping: the attempt is given back'));
      const release = releaseOf(a.task, o.worker);
      // Settled in the ledger first: the engine that offered this run of it may not be the one that records the
      // release, and, no longer hearing of it, it queues a copy; the worker given that copy drops it unrun (aborted)
      // rather than run it beside the restart. Given back all the same if the mark cannot be made.
      try {
        await a.claimed.abandon(Date.now() + RELEASE_TIMEOUT_MS);
      } catch (err) {
        o.log(
          `${key}: could not settle it as given back in the attempt ledger (${errorMessage(err)}); giving it back all the same (a copy of this run of it queued later may run beside its restart)`,
        );
      }
      if (a.commit) {
        try {
          await a.commit(release);
          n++;
          return;
        } catch (err) {
          o.log(`${key}: its engine did not record it given back (${errorMessage(err)}); reporting it`);
        }
      }
      try {
        await o.reporter.release(a.msgs, a.task, release, RELEASE_TIMEOUT_MS);
        n++;
      } catch (err) {
        o.log(`${key}: could not give it back (${errorMessage(err)}); handing it back, to be found lost`);
      }
    }),
  );
  return n;
}

/**
 * The grace ran out with `inHand` unfinished: the attempts running here are given back, then what is left is handed
 * back (deliveries put back at once; offered attempts queued by their engines once they stop hearing of them).
 */
export async function afterGrace(
  inHand: InHand,
  running: ReadonlyMap<string, Running>,
  o: { reporter: OutcomeReporter; worker: string; log: (line: string) => void },
): Promise<void> {
  const given = await giveBack(running, o);
  if (given > 0) {
    o.log(
      `stopping: ${given} attempt(s) running here given back (task.released): the engines run them again at once, not counted as lost`,
    );
    // Their handlers were aborted: their work ends now (a handler deaf to its signal is cut off with the rest).
    await inHand.settle(ABORTED_END_MS);
  }
  const { messages: n, withoutMessages: offered } = inHand.handBackRest();
  if (n > 0 || (offered === 0 && given === 0))
    o.log(
      `stopping: ${n} attempt deliver${n === 1 ? 'y' : 'ies'} not finished within the grace handed back (another worker reports them lost and runs them again)`,
    );
  // Offered attempts have no delivery to hand back: their engine stops hearing of them and queues them, where the claim decides.
  if (offered > 0)
    o.log(
      `stopping: ${offered} offered attempt(s) not finished within the grace: their engine queues them once this worker stops saying it runs them, and the next worker reports them lost and runs them again`,
    );
}
